// ring_buffer.hpp: the Disruptor's ring of preallocated events, with the sequencer that
// claims positions in it and the per-slot stamps that publish them.
//
// Threading contract: one producer (single_producer) or any number (multi_producer); any
// number of consumers, each reading through a sequence_barrier and gating the producers
// through its sequence. Progress: try_next/publish never block; next() waits for room
// through the producer wait strategy.
//
// The producers' wait strategy is a type of its own (ProducerWait, by default the
// consumers'): consumers that busy-spin can sit beside producers that yield or sleep when
// the ring is full (LMAX's producers always park). With more threads than cores this
// decides who runs: a producer spinning on a full ring burns the time slice that the
// consumer needs, or that a preempted producer needs to publish the claim the consumer
// waits at.
//
// Each slot carries a stamp next to its event: `position + 1` once that position is
// published. A consumer therefore learns that an event is ready from the event's own cache
// line ([R1a]): one line moves per hop, the round trip of a bare cache-line ping-pong.
// The stamps serve both producer kinds: with several producers, a slot's stamp is its lap
// number in disguise, so no shared "published up to" counter exists and producers never
// wait for one another to publish.
//
//   slots   [ event | stamp ] x capacity (power of two)
//   sequencer (claims, gating)   consumer wait   producer wait
//
// Prefetching (on by default, 32 positions ahead; default_prefetch). When the producer and
// a stage sit on cores far apart, a streaming pair is bound by how many slot lines are in
// flight between them: each line the producer writes was last read by a consumer a lap
// before, and each line a stage reads was last written by the producer. options::
// producer_prefetch makes a single producer ask for the lines of the slots from that
// distance past its claims, owned, before it writes there (a few lines at a time, once per
// as many lines' worth of claims that found room at once); processor_options::prefetch
// makes a stage ask for the lines that distance past the events it hands over (a block of
// lines at a time, batch_event_processor.hpp). Neither asks
// for a line that holds a slot another thread may still be using for an earlier lap or a
// later write: the producer's line lies within the room its cached gating minimum shows, a
// stage's within the run its barrier found (line_reach bounds the slots one line can hold).
// They are hints and change nothing any thread sees. On far-apart cores they made a 1P-1C
// stream about half as fast again; a stage that reads right behind its producer finds runs
// too short to ask for anything (reports/METHODOLOGY.md, "What a claim stores"). 0 turns
// either off: the matrix rows with the knob `prefetch_0` measure the difference.
//
// Invariants:
//   (R1) a slot's stamp is position + 1 for the position it holds once published, and an
//        older value before: stamps of one slot differ by multiples of the capacity.
//   (R2) the producer of a position writes its event only between claiming and publishing
//        it; consumers read it only after seeing its stamp (or a later stage's sequence).
//
// Synchronisation edges:
//   [R1]  release  publish() stamps a slot           -> pairs with [R1a] acquire in published()
//   [S1]/[S1a]     consumers' sequences (sequence.hpp): gating for producers, upstream for stages
//   [C1]/[C1a]     relaxed: the single producer's announcement (single_producer_sequencer);
//                  cursor() reads it again once [R1a] shows a reused slot, whose stamp's
//                  release the announcement precedes
//   wait strategies signal consumers after publish() and producers after progress_made()
//   and join_consumer().
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "ringlab/detail/slot_array.hpp"
#include "ringlab/multi_producer_sequencer.hpp"
#include "ringlab/platform.hpp"
#include "ringlab/sequence.hpp"
#include "ringlab/single_producer_sequencer.hpp"
#include "ringlab/sync/native.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab {

/// Producer kinds of a ring_buffer.
struct single_producer {};
struct multi_producer {};

/// What next() claimed: positions [begin, end), or why it claimed nothing.
struct claimed_range {
    wait_result result = wait_result::ready;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    [[nodiscard]] bool ok() const noexcept { return result == wait_result::ready; }
};

template <class E, class Producer = single_producer, template <class> class Wait = busy_spin_wait,
          class Sync = sync::native, template <class> class ProducerWait = Wait>
class ring_buffer {
    static_assert(std::is_same_v<Producer, single_producer> || std::is_same_v<Producer, multi_producer>,
                  "The producer kind is single_producer or multi_producer.");

    struct slot {
        typename Sync::template cell<E> event;
        typename Sync::template atomic<std::uint64_t> stamp{0};
    };

public:
    using event_type = E;
    using sync_type = Sync;
    using wait_type = Wait<Sync>;                   // the consumers'
    using producer_wait_type = ProducerWait<Sync>;  // the producers'
    using sequencer_type =
        std::conditional_t<std::is_same_v<Producer, multi_producer>, multi_producer_sequencer<Sync>,
                           single_producer_sequencer<Sync>>;
    static constexpr bool multi_producer_ring = std::is_same_v<Producer, multi_producer>;

    struct options {
        typename wait_type::config consumer_wait{};
        typename producer_wait_type::config producer_wait{};
        /// Consumers that may join while the ring runs (sequence_group capacity).
        std::size_t max_joining_consumers = 8;
        /// A single producer asks for the slots from this many positions past its claims
        /// before it writes there (prefetch_for_write; 0: off): see "Prefetching" above. Below the
        /// capacity, shorter than line_reach asks from there; a multi_producer ring takes 0.
        /// Unset: default_prefetch(capacity) with one producer (32 from 256 slots), 0 with several.
        std::optional<std::uint32_t> producer_prefetch = std::nullopt;
    };

    explicit ring_buffer(std::size_t capacity, options opts = {})
        : capacity_(validate_capacity("ring_buffer", capacity)),
          mask_(capacity_ - 1),
          prefetch_(validated_producer_prefetch(opts.producer_prefetch, capacity_)),
          slots_(capacity_),
          sequencer_(capacity_),
          joiners_(opts.max_joining_consumers),
          producer_{prefetch_ == 0 ? ~std::uint64_t{0} : 0},
          consumer_wait_(opts.consumer_wait),
          producer_wait_(opts.producer_wait) {
        sequencer_.gating().attach(joiners_);
    }
    ring_buffer(const ring_buffer&) = delete;
    ring_buffer& operator=(const ring_buffer&) = delete;

    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    // ---- producers ----------------------------------------------------------------------

    /// Claims [begin, begin + n) if that laps no consumer; returns begin. Never blocks.
    [[nodiscard]] std::optional<std::uint64_t> try_next(std::size_t n = 1) {
        check_batch(n);
        const std::optional<std::uint64_t> begin = sequencer_.try_claim(n);
        if (begin) prefetch_ahead(*begin + n);
        return begin;
    }

    /// Claims n positions, waiting through the producer wait strategy while the ring is
    /// full. With several producers and no timeout, the claim is taken by fetch_add, after
    /// any wait for room (claim_and_wait); with a timeout, or with one producer, it is taken
    /// only once there is room, so a timed-out call leaves nothing claimed.
    claimed_range next(std::size_t n = 1, std::uint64_t timeout_ns = no_timeout) {
        check_batch(n);
        if constexpr (multi_producer_ring) {
            if (timeout_ns == no_timeout) return claim_and_wait(n);
        }
        if (const std::optional<std::uint64_t> begin = sequencer_.try_claim(n)) [[likely]] {
            prefetch_ahead(*begin + n);
            return {wait_result::ready, *begin, *begin + n};
        }
        return next_when_full(n, timeout_ns);
    }

    /// How many positions a producer could claim now without waiting: the capacity less
    /// what is claimed and not yet passed by the slowest gating consumer. A snapshot (the
    /// consumers go on, other producers claim); from a producer's thread. Never blocks.
    [[nodiscard]] std::size_t remaining_capacity() {
        // The consumers first: claims read after them are at least those they passed (with
        // several producers, claims read first could be older than what the consumers passed).
        const std::uint64_t lowest = sequencer_.gating().minimum(~std::uint64_t{0});
        const std::uint64_t claimed = sequencer_.claimed();
        const std::uint64_t in_use = claimed - std::min(claimed, lowest);
        return in_use >= capacity_ ? 0 : static_cast<std::size_t>(capacity_ - in_use);
    }

    /// Whether `n` positions can be claimed now without waiting: with one producer,
    /// try_next(n) then succeeds; with several it is a snapshot, and another may take the
    /// room first. Never blocks; `n` as for next().
    [[nodiscard]] bool has_available_capacity(std::size_t n) {
        check_batch(n);
        return sequencer_.has_room(sequencer_.claimed() + n);
    }

    /// Write access to a claimed, unpublished position's event.
    [[nodiscard]] E& write(std::uint64_t position) { return slots_[position & mask_].event.write_ref(); }

    /// Publishes [begin, end): consumers may read those events from now on.
    void publish(std::uint64_t begin, std::uint64_t end) {
        for (std::uint64_t p = begin; p < end; ++p) {
            slots_[p & mask_].stamp.store(p + 1, at("ring_buffer.R1.publish", mo::release));
        }
        consumer_wait_.signal();
    }
    void publish(std::uint64_t position) { publish(position, position + 1); }

    /// Claims one position, fills it with fill(E&, position), publishes it. `fill` must not
    /// throw: a claim is never given back, and one left unpublished stops every consumer at
    /// it (so for publish_events and try_publish_event too).
    template <class Fill>
    wait_result publish_event(Fill&& fill, std::uint64_t timeout_ns = no_timeout) {
        return publish_events(1, std::forward<Fill>(fill), timeout_ns);
    }

    /// Claims `n` positions in one claim, fills each with fill(E&, position) in order, and
    /// publishes them together (one wake of the consumers). `n` as for next().
    template <class Fill>
    wait_result publish_events(std::size_t n, Fill&& fill, std::uint64_t timeout_ns = no_timeout) {
        const claimed_range c = next(n, timeout_ns);
        if (!c.ok()) return c.result;
        for (std::uint64_t p = c.begin; p < c.end; ++p) fill(write(p), p);
        publish(c.begin, c.end);
        return wait_result::ready;
    }

    /// publish_event() that never waits: false, with nothing claimed, when the ring has no
    /// room.
    template <class Fill>
    [[nodiscard]] bool try_publish_event(Fill&& fill) {
        const std::optional<std::uint64_t> begin = try_next(1);
        if (!begin) return false;
        fill(write(*begin), *begin);
        publish(*begin, *begin + 1);
        return true;
    }

    // ---- consumers ------------------------------------------------------------------------

    /// How many positions after a slot may share a cache line with it (a bound, whatever the
    /// slot's size and the line's alignment).
    static constexpr std::uint64_t line_reach = cache_line_bytes / sizeof(slot) + 1;
    /// How many consecutive slots one line's worth of bytes holds (at least 1): asking for
    /// the line of every such run of positions asks for every line once or more.
    static constexpr std::uint64_t slots_per_line =
        std::max<std::uint64_t>(1, cache_line_bytes / sizeof(slot));

    /// A stage's hint before it reads `position` (processor_options::prefetch), or writes it
    /// (an annotating stage: `for_write`): the slot's line into its cache. Changes nothing
    /// another thread sees.
    void prefetch_event(std::uint64_t position, bool for_write = false) const noexcept {
        if (for_write) {
            prefetch_for_write(&slots_[position & mask_]);
        } else {
            prefetch_for_read(&slots_[position & mask_]);
        }
    }

    /// Read access to a published position's event (after a barrier said it is available).
    [[nodiscard]] const E& read(std::uint64_t position) const {
        return slots_[position & mask_].event.read_ref();
    }
    /// Write access for a consumer stage that annotates events for later stages.
    [[nodiscard]] E& annotate(std::uint64_t position) { return slots_[position & mask_].event.write_ref(); }

    /// Whether `position` is published.
    [[nodiscard]] bool published(std::uint64_t position) const {
        const auto stamp = slots_[position & mask_].stamp.load(at("ring_buffer.R1a.published", mo::acquire));
        if (Sync::canary("ring_buffer.stale_lap_accepted")) {
            // Planted bug: accepts the stamp of the same slot one lap earlier.
            return stamp == position + 1 || stamp + capacity_ == position + 1;
        }
        return stamp == position + 1;
    }

    /// The end of the published run that starts at `position`, no further than `limit`.
    ///
    /// With one producer, positions are published in order ([R1] stores in position order,
    /// each a release): seeing a later stamp with acquire shows every earlier one too. So
    /// after a short scan (which keeps a single event's latency to its own line), the last
    /// position of the range is tested, and a full batch costs two loads, not one per event.
    /// Several producers publish out of order, and their run is scanned slot by slot.
    [[nodiscard]] std::uint64_t published_end(std::uint64_t position, std::uint64_t limit) const {
        if constexpr (!multi_producer_ring) {
            constexpr std::uint64_t short_scan = 8;
            const std::uint64_t scan_end = limit - position > short_scan ? position + short_scan : limit;
            while (position < scan_end && published(position)) ++position;
            if (position < scan_end || position == limit) return position;
            if (published(limit - 1)) return limit;
        }
        while (position < limit && published(position)) ++position;
        return position;
    }

    /// The cursor, from any thread: the position a joining consumer starts from. It is at or
    /// past every event the calling thread has seen published (itself or through a
    /// consumer's sequence), and never lower than an earlier read on the same thread. With
    /// several producers it counts every claim (their fetch_add). One producer announces its
    /// claims only when it scans its consumers (single_producer_sequencer [C1]); the cursor
    /// is then the announcement, or the end of the published run past it, found from the
    /// stamps by a doubling search (they publish in position order): about 2 log2(capacity)
    /// loads. So a claim taken since that scan and not yet published is not counted (no
    /// consumer could read it), and one taken before it is, published or not. Lock-free: a
    /// search starts again only when the producer announced during it, once per run of room
    /// its consumers free.
    [[nodiscard]] std::uint64_t cursor() const {
        if constexpr (multi_producer_ring) {
            return sequencer_.claimed();
        } else {
            // While the announcement stands, the producer has claimed no further than a
            // capacity past it, so no slot the search reads has been reused. A stamp that
            // shows a reused slot was published after a later announcement (its acquire
            // orders that announcement before the re-read): search again from there.
            for (std::uint64_t from = sequencer_.announced();;) {
                const std::uint64_t end = published_run_end(from);
                // Planted bug: the first search stands, though a reused slot cut it short.
                if (Sync::canary("ring_buffer.cursor_searches_once")) return end;
                const std::uint64_t now = sequencer_.announced();
                if (now == from) return end;
                from = now;
                Sync::pause();
            }
        }
    }

    /// Everything claimed so far, exactly: from a producer's thread, or from a thread that
    /// is ordered after every producer's last claim (the disruptor's shutdown).
    [[nodiscard]] std::uint64_t claimed() const { return sequencer_.claimed(); }

    /// Called by a consumer after it advanced its sequence: wakes producers waiting for
    /// room and later stages waiting for this one (free unless someone sleeps).
    void progress_made() noexcept {
        // Planted bug: only later stages hear of it; a producer asleep for room sleeps on.
        if (!Sync::canary("ring_buffer.progress_skips_producers")) producer_wait_.signal();
        consumer_wait_.signal();
    }

    /// A consumer joins the running ring at its cursor (sequence_group::join); returns its
    /// member index in joiners(), or nothing when the group is full. The member gates the
    /// producers from its provisional start until join() raises it to the cursor, so a
    /// producer that parked for room in between is woken to look again.
    [[nodiscard]] std::optional<std::size_t> join_consumer() {
        const std::optional<std::size_t> member = joiners_.join([this] { return cursor(); });
        // Planted bug: the producer parked on the provisional start sleeps on.
        if (member && !Sync::canary("ring_buffer.join_without_wake")) producer_wait_.signal();
        return member;
    }

    /// Wakes every waiter on both sides; waits return `alerted` until clear_alert().
    void alert() noexcept {
        consumer_wait_.alert();
        producer_wait_.alert();
    }
    void clear_alert() noexcept {
        consumer_wait_.clear_alert();
        producer_wait_.clear_alert();
    }

    [[nodiscard]] sequencer_type& sequencer() noexcept { return sequencer_; }
    [[nodiscard]] gating_set<Sync>& gating() noexcept { return sequencer_.gating(); }
    /// The consumers that joined at run time. Join through join_consumer() (it wakes the
    /// producers); after joiners().leave(i), call progress_made() (disruptor::remove_consumer).
    [[nodiscard]] sequence_group<Sync>& joiners() noexcept { return joiners_; }
    [[nodiscard]] wait_type& consumer_wait() noexcept { return consumer_wait_; }
    [[nodiscard]] producer_wait_type& producer_wait() noexcept { return producer_wait_; }
    [[nodiscard]] const producer_wait_type& producer_wait() const noexcept { return producer_wait_; }

    /// Statistics of a single-producer ring (a multi-producer ring counts nothing here:
    /// a shared counter would cost every producer a contended write).
    ///
    /// `published` is derived, not counted: a counter written on every publish cut the
    /// unicast throughput to a third on a 2-vCPU EPYC. A single producer publishes in
    /// position order, so the published count is the cursor less the positions at its end
    /// whose stamps are not set yet (claims announced and not yet published, at most a
    /// capacity of them).
    struct counters {
        std::uint64_t published = 0;       // events published
        std::uint64_t producer_waits = 0;  // next() calls that found the ring full
    };
    [[nodiscard]] counters stats() const {
        if constexpr (multi_producer_ring) return {};
        std::uint64_t end = cursor();
        const std::uint64_t lowest = end > capacity_ ? end - capacity_ : 0;
        while (end > lowest && !published(end - 1)) --end;
        return {end, producer_waits_.get()};
    }
    [[nodiscard]] std::size_t footprint_bytes() const noexcept {
        return sizeof(*this) + slots_.footprint_bytes();
    }

private:
    /// One producer: the end of the published run from `from`, which is at most what the
    /// producer announced. The producer claims no further than a capacity past that, so the
    /// run ends before from + capacity + 1, and (positions publish in order, each stamp a
    /// release) a published position shows every one before it: double the step while
    /// stamps match, then halve the gap.
    [[nodiscard]] std::uint64_t published_run_end(std::uint64_t from) const {
        if (!published(from)) return from;
        std::uint64_t known = from;               // published
        std::uint64_t beyond = from + capacity_;  // not published (never claimed yet)
        for (std::uint64_t step = 1; known + step < beyond; step *= 2) {
            if (!published(known + step)) {
                beyond = known + step;
                break;
            }
            known += step;
        }
        while (beyond - known > 1) {
            const std::uint64_t mid = known + (beyond - known) / 2;
            if (published(mid)) {
                known = mid;
            } else {
                beyond = mid;
            }
        }
        return known + 1;
    }

    /// The single producer's hint (options::producer_prefetch) after a claim ending at
    /// `end`: once every producer_lines lines' worth of claims, the lines of the slots from
    /// prefetch_ positions on, owned before the producer writes there, when the cached gating
    /// minimum shows every slot those lines can hold free. Between asks a claim pays one
    /// compare: an ask on every claim cost ten instructions an event (the icount kernels
    /// batch_event_processor.*drain_256, reports/METHODOLOGY.md). A claim of more slots than
    /// a block asks for one block past its end: the lines between are not asked for.
    void prefetch_ahead(std::uint64_t end) noexcept {
        if constexpr (!multi_producer_ring) {
            if (end < producer_.prefetch_at) [[likely]]
                return;
            constexpr std::uint64_t block = producer_lines * slots_per_line;
            // From a line's reach on at least: no line asked for reaches back to a slot at or
            // before the claim's end (which a consumer may be reading).
            const std::uint64_t from = end - 1 + std::max(prefetch_, line_reach);
            if (sequencer_.room_known(from + block - slots_per_line + line_reach)) {
                for (std::uint64_t i = 0; i < producer_lines; ++i) {
                    prefetch_for_write(&slots_[(from + i * slots_per_line) & mask_]);
                }
            }
            producer_.prefetch_at = end + block;
        }
    }

    static std::uint64_t validated_producer_prefetch(std::optional<std::uint32_t> distance,
                                                     std::uint64_t capacity) {
        if constexpr (multi_producer_ring) {
            if (distance.value_or(0) == 0) return 0;
            throw config_error(
                "ring_buffer: producer_prefetch is for a single producer; a multi_producer ring "
                "takes 0");
        }
        return validate_prefetch("ring_buffer", "producer_prefetch", distance, capacity);
    }

    void count_producer_wait() noexcept {
        if constexpr (!multi_producer_ring) producer_waits_.add();
    }

    void check_batch(std::size_t n) const {
        if (n == 0 || n > capacity_) [[unlikely]]
            bad_batch(n);
    }

    // Out of line, so that a claim that finds room stays a few instructions in the caller.
    [[noreturn]] [[gnu::noinline]] [[gnu::cold]] void bad_batch(std::size_t n) const {
        throw config_error("ring_buffer: a claim of " + std::to_string(n) +
                           " positions is invalid; it must be in [1, " + std::to_string(capacity_) + "]");
    }

    /// next() once the ring was full: waits through the producer wait strategy.
    [[gnu::noinline]] claimed_range next_when_full(std::size_t n, std::uint64_t timeout_ns) {
        std::optional<std::uint64_t> begin;
        const wait_result r = producer_wait_.wait_until(
            [&] {
                begin = sequencer_.try_claim(n);
                return begin.has_value();
            },
            timeout_ns);
        if (r != wait_result::ready) return {r, 0, 0};
        count_producer_wait();
        return {wait_result::ready, *begin, *begin + n};
    }

    /// next() of a multi-producer ring without a timeout. A producer that finds the ring
    /// full waits for room before it claims: it holds no claim while it waits. A waiting
    /// claim would stop every consumer at its slot, and, with more threads than cores, for a
    /// whole time slice whenever its producer is preempted. Producers that see room at the
    /// same moment may claim past it (claim_with_room explains when); such a claim waits for
    /// room, and since it cannot be given back, a strategy's own default timeout
    /// (timeout_blocking_wait) does not end that wait: only an alert does.
    claimed_range claim_and_wait(std::size_t n) {
        std::optional<std::uint64_t> begin = sequencer_.claim_with_room(n);
        if (!begin) [[unlikely]] {
            const wait_result r =
                producer_wait_.wait_until([&] { return sequencer_.has_room(sequencer_.claimed() + n); });
            if (r != wait_result::ready) return {r, 0, 0};
            begin = sequencer_.claim(n);
        }
        wait_result r = wait_for_room(*begin + n, no_timeout);
        while (r == wait_result::timed_out) r = wait_for_room(*begin + n, no_timeout);
        return {r, *begin, *begin + n};
    }

    wait_result wait_for_room(std::uint64_t end, std::uint64_t timeout_ns) {
        if (sequencer_.has_room(end)) return wait_result::ready;
        count_producer_wait();
        return producer_wait_.wait_until([&] { return sequencer_.has_room(end); }, timeout_ns);
    }

    const std::size_t capacity_;
    const std::uint64_t mask_;
    const std::uint64_t prefetch_;  // options::producer_prefetch
    /// Lines a single producer asks for at a time (prefetch_ahead).
    static constexpr std::uint64_t producer_lines = 4;
    detail::slot_array<slot> slots_;
    sequencer_type sequencer_;
    sequence_group<Sync> joiners_;
    typename Sync::counter producer_waits_;
    // The single producer's own: the claim end at which it next asks for lines (never, when
    // it does not prefetch). A line of its own: consumers read the fields above on every event.
    struct alignas(false_sharing_bytes) producer_private {
        std::uint64_t prefetch_at;
    } producer_;
    alignas(false_sharing_bytes) wait_type consumer_wait_;
    alignas(false_sharing_bytes) producer_wait_type producer_wait_;
};

}  // namespace ringlab
