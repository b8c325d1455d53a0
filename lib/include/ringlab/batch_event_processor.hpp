// batch_event_processor.hpp: a consumer loop that waits on a barrier, hands each available
// event to a handler in batches, then publishes its progress.
//
// Threading contract: run() on one thread; halt(), drain_to() and the accessors from any
// thread. Progress: blocking, through the ring's consumer wait strategy.
//
// The handler is called as handler(event, position, end_of_batch); it receives `const E&`,
// or `E&` when it declares `using mutates_events = std::true_type;` (a stage that annotates
// events for later stages). Optional hooks: on_start(), on_shutdown(),
// on_batch_start(batch_size) before each batch is handed over (again after a rewind, with
// the size of what is handed again), and on_timeout(position) when the wait for the event
// at `position` timed out (after processor_options::timeout_ns, or the wait strategy's own:
// timeout_blocking_wait). An exception from on_batch_start is a failure at the batch's
// first event not yet handled (skip then goes on with the batch, no event skipped); one
// from on_timeout halts the stage under exception_policy::halt, and is counted as a handler
// error under skip and rewind, which wait on.
//
// Early release. A handler that also takes an `early_release<Ring>&` (a fourth argument)
// may give back the events it is done with before its batch ends: release.through(p)
// publishes the stage's progress up to p (at most the event being handled), so
// the producers may reuse those slots and the stages after it may read them while the
// batch goes on; useful when a batch is long and its events are finished early (a handler
// that hands them on, or writes them out, in chunks). The batch's end still publishes the
// rest. A release past the event being handled throws std::out_of_range from through(),
// which the exception policy then handles. Released events are never handed over again: a
// rewind restarts at the first event not released, and a halt leaves the progress at the
// failing event or at the release, whichever is later.
//
// Stopping. halt() stops before the next batch. drain_to(end) stops once every position
// before `end` is processed: the disruptor's shutdown drains to the end of what was
// published, so nothing published is lost and no event is processed twice. Both lower the stop position,
// so a later drain_to never undoes a halt. The stop position is relaxed: it carries no data;
// what a stage reads is ordered by the stamps [R1a] and its dependents' counts [S1a], and a
// parked stage is woken through the wait strategy's W1-W5.
//
// Slipping (processor_options::slip): a stage that has taken slip.after events since it
// last found none, and now finds fewer than slip.distance, first gives its upstream a head
// start (sequence_barrier::wait_for, detail/slip.hpp): in a steady stream it then reads
// runs of about the distance from lines the producers have finished with, rather than
// chasing them a few events behind. The cost: an event that arrives while a slip polls
// waits for the slip to end (at most slip.polls pauses). Options that leave `slip` unset
// take the consumer wait strategy's default (default_slip below): on for blocking_wait and
// timeout_blocking_wait, which already trade microseconds of latency for CPU; off for the
// others (wait_strategy.hpp says why).
//
// Prefetching (processor_options::prefetch, 32 positions by default): while handing a run
// over, a stage asks for the lines of the events that distance ahead, among lines within
// the run (ring_buffer.hpp, "Prefetching").
//
// Exceptions from the handler follow exception_policy: halt (the default: progress stops
// at the failing event, error() returns it), skip (count it, go on with the next event) or
// rewind (hand the batch again from its first event not released early, at most
// rewind_limit times, then halt).
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "ringlab/sequence.hpp"
#include "ringlab/sequence_barrier.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab {

enum class exception_policy : std::uint8_t { halt, skip, rewind };

struct processor_options {
    std::uint64_t max_batch = 4096;
    exception_policy on_exception = exception_policy::halt;
    std::uint32_t rewind_limit = 3;
    /// Temporal slipping while streaming (detail/slip.hpp); the distance must be below
    /// max_batch and the ring's capacity. Unset: the consumer wait strategy's default
    /// (default_slip). `slip_options{}` turns it off; note that `slip = {}` and
    /// `.slip = {}` mean unset, not off.
    std::optional<slip_options> slip = std::nullopt;
    /// How long a stage waits for its next event before the wait returns timed_out and the
    /// handler's on_timeout(position) is called (a heartbeat, a flush). no_timeout leaves it
    /// to the consumer wait strategy: timeout_blocking_wait times out after its configured
    /// timeout, the others never do. At least 1 ns.
    std::uint64_t timeout_ns = no_timeout;
    /// How far ahead of the event it hands over a stage asks for the next events' lines
    /// (ring_buffer::prefetch_event; 0: off), within the run its barrier found. Below the
    /// ring's capacity; shorter than ring_buffer::line_reach asks from there. Unset: 32 in a
    /// ring of 256 slots or more, else off (default_prefetch; ring_buffer.hpp "Prefetching").
    std::optional<std::uint32_t> prefetch = std::nullopt;
};

/// The slip of a stage whose options leave it unset: a wait strategy that declares
/// `streaming_slip` (a distance) slips that far, bounded by an eighth of the ring and half
/// the largest batch, so that stages one after another on one ring each get their head
/// start; off when that leaves less than 2, and for strategies that declare nothing.
template <class Wait>
[[nodiscard]] constexpr slip_options default_slip(std::uint64_t capacity, std::uint64_t max_batch) noexcept {
    std::uint64_t distance = 0;
    if constexpr (requires { Wait::streaming_slip; }) distance = Wait::streaming_slip;
    distance = std::min({distance, capacity / 8, max_batch / 2});
    return distance < 2 ? slip_options{} : slip_options{static_cast<std::uint32_t>(distance)};
}

/// A handler that writes to the events it handles (for later stages to read) says so with
/// `using mutates_events = std::true_type;`; every other handler gets const events.
template <class Handler>
concept annotating_handler = requires { typename Handler::mutates_events; } && Handler::mutates_events::value;

/// What a batch_event_processor did: its stats(), and a disruptor stage's (stage_stats(),
/// the shutdown report).
struct processor_counters {
    std::uint64_t processed = 0;       // events handed to the handler and passed (progress moved)
    std::uint64_t batches = 0;         // batches ended: processed / batches is the mean batch
    std::uint64_t handler_errors = 0;  // exceptions skipped or rewound
    std::uint64_t rewinds = 0;
    std::uint64_t slips = 0;  // waits that slipped first (processor_options::slip)
    std::uint64_t releases = 0;  // early releases that moved the progress (early_release)
    std::uint64_t timeouts = 0;  // waits that timed out (timeout_ns, or the wait strategy's own)
};

template <class Ring, class Handler>
class batch_event_processor;

namespace detail {

/// Moves a stage's progress from `from` to `to` (>= from): counts the events, and the batch
/// when `batch_ended`, then publishes `to` (when it moved) and tells the producers. The
/// counters are written before the progress, whose store is a release: a reader that sees
/// progress N (an acquire) sees the counters of every event and batch up to N. The one path
/// of both a batch's end and an early release.
template <class Ring, class Counter>
void advance_progress(Ring& ring, sequence<typename Ring::sync_type>& progress, Counter& processed,
                      Counter& batches, std::uint64_t from, std::uint64_t to, bool batch_ended) {
    using Sync = typename Ring::sync_type;
    const auto count = [&] {
        processed.add(to - from);
        if (batch_ended) batches.add();
    };
    // Planted bug: the counters are written after the progress, so they lag it.
    const bool counters_first = !Sync::canary("batch_event_processor.counters_after_progress");
    if (counters_first) count();
    if (to != from) {
        progress.set(to);
        ring.progress_made();
    }
    if (!counters_first) count();
}

}  // namespace detail

/// What a handler that takes a fourth argument gets: through(p) releases the events of its
/// batch up to and including p before the batch ends (see the header). Only the stage's
/// own thread, inside the handler.
template <class Ring>
class early_release {
    using Sync = typename Ring::sync_type;

public:
    early_release(const early_release&) = delete;
    early_release& operator=(const early_release&) = delete;

    /// Releases every position up to and including `position`: at most the event being
    /// handled; a position already released does nothing. Throws std::out_of_range past
    /// the event being handled.
    void through(std::uint64_t position) {
        if (position > handling_) [[unlikely]]
            past_handled(position);
        // Planted bug: one position more is released, the event after the one being handled.
        const std::uint64_t end =
            position + (Sync::canary("batch_event_processor.release_one_too_far") ? 2 : 1);
        if (end <= released_) return;
        // A release that reaches the batch's end counts the batch (publish_progress then
        // counts nothing).
        releases_->add();
        detail::advance_progress(*ring_, *progress_, *processed_, *batches_, released_, end,
                                 end == batch_end_);
        released_ = end;
    }

    /// The event being handled.
    [[nodiscard]] std::uint64_t handling() const noexcept { return handling_; }

private:
    template <class, class>
    friend class batch_event_processor;

    early_release(Ring& ring, sequence<Sync>& progress, typename Sync::counter& processed,
                  typename Sync::counter& batches, typename Sync::counter& releases)
        : ring_(&ring),
          progress_(&progress),
          processed_(&processed),
          batches_(&batches),
          releases_(&releases) {}

    [[noreturn]] [[gnu::noinline]] [[gnu::cold]] void past_handled(std::uint64_t position) const {
        throw std::out_of_range("early_release: position " + std::to_string(position) +
                                " is past the event being handled (" + std::to_string(handling_) + ")");
    }

    Ring* ring_;
    sequence<Sync>* progress_;
    typename Sync::counter* processed_;
    typename Sync::counter* batches_;
    typename Sync::counter* releases_;
    std::uint64_t handling_ = 0;   // the position handed to the handler now
    std::uint64_t released_ = 0;   // the progress published so far: the batch's first position, or a release
    std::uint64_t batch_end_ = 0;  // the end of the batch being handed
};

template <class Ring, class Handler>
class batch_event_processor {
    using Sync = typename Ring::sync_type;

public:
    using counters = processor_counters;

    batch_event_processor(sequence_barrier<Ring> barrier, Handler& handler, sequence<Sync>& progress,
                          processor_options options = {})
        : barrier_(barrier),
          handler_(handler),
          progress_(progress),
          options_(options),
          release_(barrier_.ring(), progress_, processed_, batches_, releases_) {
        if (options_.max_batch == 0) throw config_error("batch_event_processor: max_batch must be at least 1");
        if (options_.timeout_ns == 0)
            throw config_error("batch_event_processor: timeout_ns must be at least 1");
        const std::uint64_t capacity = barrier_.ring().capacity();
        prefetch_ = validate_prefetch("batch_event_processor", "prefetch", options_.prefetch, capacity);
        // No batch is longer than the ring, and the clamp keeps next + max_batch from wrapping.
        options_.max_batch = std::min<std::uint64_t>(options_.max_batch, capacity);
        slip_ = detail::validated_slip(
            "batch_event_processor",
            options_.slip.value_or(default_slip<typename Ring::wait_type>(capacity, options_.max_batch)),
            capacity, options_.max_batch);
    }
    batch_event_processor(const batch_event_processor&) = delete;
    batch_event_processor& operator=(const batch_event_processor&) = delete;

    /// Processes until halted, drained or alerted; returns after on_shutdown().
    void run() {
        if constexpr (requires { handler_.on_start(); }) handler_.on_start();
        std::uint64_t next = progress_.get();
        std::uint64_t since_idle = 0;  // events taken since the barrier last had none
        for (;;) {
            // relaxed: the stop position carries no data (see the header).
            const std::uint64_t stop = stop_.load(at("batch_event_processor.P1a.stop", mo::relaxed));
            if (next >= stop) break;
            const std::uint64_t limit = std::min(next + options_.max_batch, stop);
            const bool streaming = slip_.enabled() && since_idle >= slip_.after;
            const auto w =
                barrier_.wait_for(next, limit, stop_, options_.timeout_ns, streaming ? &slip_ : nullptr);
            if (w.idled) since_idle = 0;
            if (w.slipped) slips_.add();
            if (w.result == wait_result::alerted) break;
            if (w.end <= next) {
                // Timed out, or woken to look at the stop position.
                if (w.result == wait_result::timed_out && !timed_out(next)) break;
                continue;
            }
            if (!process(next, w.end)) break;
            since_idle += w.end - next;
            next = w.end;
        }
        if constexpr (requires { handler_.on_shutdown(); }) handler_.on_shutdown();
    }

    /// Stops before the next batch.
    void halt() { stop_at(0); }
    /// Stops once every position before `end` is processed.
    void drain_to(std::uint64_t end) { stop_at(end); }

    [[nodiscard]] sequence<Sync>& progress() noexcept { return progress_; }
    /// Each counter is read on its own (the set is not a snapshot), and none lags the
    /// progress: read after progress() showed N, they count every batch that ended by N.
    [[nodiscard]] counters stats() const noexcept {
        return {processed_.get(), batches_.get(),  handler_errors_.get(), rewinds_.get(),
                slips_.get(),     releases_.get(), timeouts_.get()};
    }
    /// The exception that halted the processor (read after run() returned).
    [[nodiscard]] std::exception_ptr error() const noexcept { return error_; }

private:
    /// Lowers the stop position to `end` (never raises it: a halt stays a halt when the
    /// disruptor's shutdown drains every stage afterwards).
    void stop_at(std::uint64_t end) {
        // relaxed, both: the stop position carries no data (see the header).
        std::uint64_t current = stop_.load(at("batch_event_processor.P1.stop_read", mo::relaxed));
        while (end < current &&
               !stop_.compare_exchange_weak(current, end, at("batch_event_processor.P1.stop", mo::relaxed))) {
        }
        barrier_.ring().consumer_wait().signal();
    }

    using event_ref = std::conditional_t<annotating_handler<Handler>, typename Ring::event_type&,
                                         const typename Ring::event_type&>;
    /// The handler takes an early_release as its fourth argument.
    static constexpr bool releasing =
        std::is_invocable_v<Handler&, event_ref, std::uint64_t, bool, early_release<Ring>&>;

    decltype(auto) event(std::uint64_t p) {
        if constexpr (annotating_handler<Handler>) {
            return barrier_.ring().annotate(p);
        } else {
            return barrier_.ring().read(p);
        }
    }

    /// The last event of the batch [.., end): the handler may act on the batch (flush) there.
    static bool is_end_of_batch(std::uint64_t p, std::uint64_t end) {
        // Planted bug: the event before the last is marked instead.
        if (Sync::canary("batch_event_processor.end_of_batch_early")) return p + 2 == end;
        return p + 1 == end;
    }

    /// Hands [begin, end) to the handler and publishes the progress. False: halted.
    bool process(std::uint64_t begin, std::uint64_t end) {
        std::uint64_t p = begin;
        std::uint32_t rewinds = 0;
        if constexpr (releasing) {
            release_.released_ = begin;
            release_.batch_end_ = end;
        }
        bool starting = true;  // on_batch_start is due (it threw while still true)
        while (p < end) {
            try {
                if (starting) batch_start(p, end);
                starting = false;
                hand_from(p, end);
            } catch (...) {
                if (options_.on_exception == exception_policy::skip) {
                    handler_errors_.add();
                    if (!starting) ++p;  // on_batch_start's failure skips no event
                    starting = false;
                    continue;
                }
                if (options_.on_exception == exception_policy::rewind && rewinds < options_.rewind_limit) {
                    handler_errors_.add();
                    rewinds_.add();
                    ++rewinds;
                    p = released(begin);  // what was released is gone: never handed again
                    starting = true;
                    continue;
                }
                error_ = std::current_exception();
                // An event released before its handler failed on it stays released.
                const std::uint64_t from = released(begin);
                const std::uint64_t stopped = std::max(p, from);
                publish_progress(begin, stopped, end);
                // Planted bug: the events before the failure are published but not counted.
                if (Sync::canary("batch_event_processor.failed_batch_uncounted") && stopped != begin) {
                    processed_.set(processed_.get() - (stopped - from));
                    batches_.set(batches_.get() - 1);
                }
                return false;
            }
        }
        publish_progress(begin, end, end);
        return true;
    }

    /// Hands [p, end) over; p moves past each event its handler returned from.
    void hand_from(std::uint64_t& p, std::uint64_t end) {
        if (const std::uint64_t prefetch = prefetch_; prefetch != 0) {
            // Lines within the run only: the producers are done with them. The stage asks for
            // a block of lines at a time, then hands their events over in a loop of its own:
            // an ask per event kept the compiler from vectorising the handing, and made a stage
            // that drains a long run on its own core take seven times as long per event
            // (reports/METHODOLOGY.md, "What a claim stores"). A block spans twice the
            // distance, at most 16 lines.
            // A distance shorter than a line's reach asks from the line's reach on, so that
            // no line asked for reaches back before p either.
            const std::uint64_t spl = Ring::slots_per_line;
            const std::uint64_t ahead = std::max(prefetch, Ring::line_reach);
            const std::uint64_t lines = std::clamp<std::uint64_t>(2 * ahead / spl, 1, 16);
            const std::uint64_t reach = ahead + (lines - 1) * spl + Ring::line_reach;
            while (p + reach <= end) {
                for (std::uint64_t i = 0; i < lines; ++i) {
                    barrier_.ring().prefetch_event(p + ahead + i * spl, annotating_handler<Handler>);
                }
                for (const std::uint64_t block_end = p + lines * spl; p < block_end; ++p) hand(p, end);
            }
            // Planted bug: the rest of the run starts one event late, which is never handed.
            if (Sync::canary("batch_event_processor.prefetch_tail_skipped") && p < end) ++p;
        }
        for (; p < end; ++p) hand(p, end);
    }

    void hand(std::uint64_t p, std::uint64_t end) {
        if constexpr (releasing) {
            release_.handling_ = p;
            handler_(event(p), p, is_end_of_batch(p, end), release_);
        } else {
            handler_(event(p), p, is_end_of_batch(p, end));
        }
    }

    void batch_start(std::uint64_t p, std::uint64_t end) {
        if constexpr (requires { handler_.on_batch_start(std::uint64_t{}); }) {
            if (p < end) handler_.on_batch_start(end - p);
        }
    }

    /// The first position of the batch not counted and published yet: past the handler's
    /// early releases.
    [[nodiscard]] std::uint64_t released(std::uint64_t begin) const noexcept {
        if constexpr (releasing) return std::max(begin, release_.released_);
        return begin;
    }

    /// The wait for `next` timed out: the handler hears of it. False: halted (its on_timeout
    /// threw, under exception_policy::halt).
    bool timed_out(std::uint64_t next) {
        timeouts_.add();
        if constexpr (requires { handler_.on_timeout(next); }) {
            try {
                handler_.on_timeout(next);
            } catch (...) {
                if (options_.on_exception == exception_policy::halt) {
                    error_ = std::current_exception();
                    return false;
                }
                handler_errors_.add();
            }
        }
        return true;
    }

    /// Ends the batch [begin, end) at `stopped` (end, or where its handler failed). Events
    /// the handler released early were counted and published by early_release, and the
    /// batch too when a release reached its end (detail::advance_progress, both).
    void publish_progress(std::uint64_t begin, std::uint64_t stopped, std::uint64_t end) {
        const std::uint64_t from = released(begin);
        if constexpr (releasing) release_.released_ = stopped;  // a later through() is a no-op
        if (stopped == begin || from == end) return;
        detail::advance_progress(barrier_.ring(), progress_, processed_, batches_, from, stopped, true);
    }

    sequence_barrier<Ring> barrier_;
    Handler& handler_;
    sequence<Sync>& progress_;
    processor_options options_;
    slip_options slip_;  // options_.slip, or the wait strategy's default
    std::uint64_t prefetch_ = 0;  // options_.prefetch, or the default for the capacity
    typename Sync::counter processed_;
    typename Sync::counter batches_;
    typename Sync::counter handler_errors_;
    typename Sync::counter rewinds_;
    typename Sync::counter slips_;
    typename Sync::counter releases_;
    typename Sync::counter timeouts_;
    early_release<Ring> release_;  // handed to a handler that takes it
    std::exception_ptr error_;
    alignas(false_sharing_bytes) typename Sync::template atomic<std::uint64_t> stop_{run_forever};
};

}  // namespace ringlab
