// spsc_ring.hpp: bounded single-producer single-consumer ring.
//
// Threading contract: exactly one producer thread and one consumer thread at a time.
// Progress: try_* are wait-free; blocking push/pop wait through the ring's wait strategy.
//
// Layout and why. Each slot carries a sequence stamp next to its value. The producer writes
// the value, then stamps the slot with `position + 1` ([E1]); the consumer polls the stamp
// of the slot it expects next ([E1a]). A hop therefore moves one cache line (the slot's)
// from producer to consumer, as a bare cache-line ping-pong does: the round trip sits on
// the hardware floor. For throughput, the producer never reads the consumer's position
// unless its cached copy says the ring is full ([E2a] re-reads `tail_`), and the consumer
// publishes its position ([E2]) on a line of its own, away from its private position and
// counters. By default every pop publishes at once, so the ring is an exact bounded FIFO.
// With `spsc_options::release_every = R`, single pops publish every R pops (batches
// always publish), and always before the consumer reports the ring empty: a producer
// polling a full ring then pulls a line that changes every R pops, not every pop, for
// about 10% more throughput, at the price of try_push reporting "full" while up to R-1
// slots read in the last instants are not yet released.
// With `spsc_options::slip` (off by default), a blocking pop() that finds the ring empty
// after a streaming run lets the producer get `slip.distance` slots ahead first ([E3];
// detail/slip.hpp says why and what it costs).
//
//   producer line   head_ (its position)  tail_cache_ (private)  counters
//   shared line     tail_ (the consumer's published position, [E2])
//   consumer line   next_ (its position)  published_ (private)  counters  slip state
//   slots           [ value | stamp ] x capacity, power of two
//
// Positions are monotonic u64 (never wrapped); an index is position & mask.
//
// Invariants:
//   (I1) 0 <= head - tail <= capacity, checked by the producer against its cached tail.
//   (I2) a slot's stamp is `position + 1` for the position it holds, or older: stamps of
//        one slot differ by multiples of capacity, so a stale stamp never matches.
//   (I3) the consumer reads a value only after seeing its stamp, and the producer reuses a
//        slot only after seeing a tail past it.
//   (I4) tail_ <= next_ and next_ - tail_ < release_every; when the consumer finds the
//        ring empty, tail_ == next_ (everything it read is free again).
//
// Synchronisation edges:
//   [E1]  release  producer stamps the slot      -> pairs with [E1a] acquire in try_pop
//   [E2]  release  consumer publishes its tail   -> pairs with [E2a] acquire in try_push
//   [E3]  relaxed  a slipping consumer polls a stamp ahead: a hint only; what it then
//                  reads is ordered by [E1a]
//   The wait strategy's own edges (blocking_wait: W1..W5) order sleeping and waking.
#pragma once

#include <cstddef>
#include <cstdint>
#include "ringlab/detail/claim.hpp"
#include "ringlab/detail/slip.hpp"
#include "ringlab/detail/slot_array.hpp"
#include "ringlab/platform.hpp"
#include "ringlab/sync/native.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab {

/// Construction options of spsc_ring beyond its capacity and wait strategy.
struct spsc_options {
    /// Single pops publish the consumer's position every this many pops (1: every pop,
    /// an exact bounded FIFO). At least 1, at most the capacity.
    std::uint32_t release_every = 1;
    /// Temporal slipping of a streaming consumer in pop() (off by default); the distance
    /// must be below the capacity.
    slip_options slip = {};
};

template <class T, template <class> class Wait = busy_spin_wait, class Sync = sync::native>
class spsc_ring {
    template <class U>
    using atomic = typename Sync::template atomic<U>;

    struct slot {
        typename Sync::template cell<T> value;
        atomic<std::uint64_t> stamp{0};
    };

public:
    using value_type = T;
    using wait_type = Wait<Sync>;
    using sync_type = Sync;

    struct counters {
        std::uint64_t pushed = 0;
        std::uint64_t popped = 0;
        std::uint64_t push_full = 0;  // try_push calls that found the ring full
        std::uint64_t pop_empty = 0;  // try_pop calls that found it empty
        std::uint64_t slips = 0;      // pop() calls that slipped (spsc_options::slip)
    };

    /// `capacity` must be a power of two; throws config_error otherwise.
    explicit spsc_ring(std::size_t capacity, typename wait_type::config wait_cfg = {},
                       spsc_options options = {})
        : capacity_(validate_capacity("spsc_ring", capacity)),
          mask_(capacity_ - 1),
          release_every_(validated_release_every(options.release_every, capacity_)),
          slip_(detail::validated_slip("spsc_ring", options.slip, capacity_, capacity_)),
          slots_(capacity_),
          not_empty_(wait_cfg),
          not_full_(wait_cfg) {}

    spsc_ring(const spsc_ring&) = delete;
    spsc_ring& operator=(const spsc_ring&) = delete;

    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    // ---- producer -----------------------------------------------------------------------

    [[nodiscard]] bool try_push(const T& v) {
        const std::uint64_t position = head_.get();
        if (!has_room(position, 1)) {
            push_full_.add();
            return false;
        }
        slot& s = slots_[position & mask_];
        s.value.store(v);
        s.stamp.store(position + 1, at("spsc_ring.E1.push", mo::release));
        advance_head(position + 1);
        return true;
    }

    /// Pushes up to `count` items from `items`; returns how many it pushed (0 when full).
    [[nodiscard]] std::size_t try_push_batch(const T* items, std::size_t count) {
        const std::uint64_t position = head_.get();
        const std::size_t n = room_for(position, count);
        for (std::size_t i = 0; i < n; ++i) {
            slot& s = slots_[(position + i) & mask_];
            s.value.store(items[i]);
            s.stamp.store(position + i + 1, at("spsc_ring.E1.push_batch", mo::release));
        }
        if (n == 0) {
            push_full_.add();
            return 0;
        }
        advance_head(position + n);
        return n;
    }

    /// Zero-copy write access to up to `count` slots; fill them, then publish().
    using claim = detail::claim<spsc_ring, T>;

    [[nodiscard]] claim try_claim(std::size_t count = 1) {
        const std::uint64_t position = head_.get();
        const std::size_t n = room_for(position, count);
        if (n == 0) push_full_.add();
        return claim(this, position, n);
    }

    /// Publishes the first `count` slots of `c` (all of them by default), in order.
    void publish(const claim& c, std::size_t count = ~std::size_t{0}) {
        const std::size_t n = count < c.size() ? count : c.size();
        Sync::check(c.first() == head_.get(), "spsc_ring: publish() of a claim that is not the oldest");
        for (std::size_t i = 0; i < n; ++i) {
            slots_[(c.first() + i) & mask_].stamp.store(c.first() + i + 1,
                                                        at("spsc_ring.E1.publish", mo::release));
        }
        if (n != 0) advance_head(c.first() + n);
    }

    /// Pushes, waiting through the wait strategy while the ring is full.
    wait_result push(const T& v, std::uint64_t timeout_ns = no_timeout) {
        if (try_push(v)) return wait_result::ready;  // the common case stays inline
        return not_full_.wait_until([&] { return try_push(v); }, timeout_ns);
    }

    // ---- consumer -----------------------------------------------------------------------

    [[nodiscard]] bool try_pop(T& out) {
        const std::uint64_t position = next_.get();
        slot& s = slots_[position & mask_];
        if (s.stamp.load(at("spsc_ring.E1a.pop", mo::acquire)) != position + 1) {
            on_empty(position);
            return false;
        }
        out = s.value.load();
        next_.set(position + 1);
        if (position + 1 - published_ >= release_every_) publish_tail(position + 1);
        return true;
    }

    /// Pops up to `max` items into `out`; returns how many. One tail store per batch.
    [[nodiscard]] std::size_t try_pop_batch(T* out, std::size_t max) {
        return consume([&](const T& v) { *out++ = v; }, max);
    }

    /// Zero-copy consumption: calls fn(const T&) for up to `max` ready items, oldest first,
    /// then releases them all with one store. Returns how many it consumed.
    template <class Fn>
    std::size_t consume(Fn&& fn, std::size_t max = ~std::size_t{0}) {
        if (max == 0) return 0;
        const std::uint64_t first = next_.get();
        std::size_t n = 0;
        for (; n < max; ++n) {
            slot& s = slots_[(first + n) & mask_];
            if (s.stamp.load(at("spsc_ring.E1a.consume", mo::acquire)) != first + n + 1) break;
            fn(s.value.read_ref());
        }
        if (n == 0) {
            on_empty(first);
            return 0;
        }
        next_.set(first + n);
        publish_tail(first + n);
        return n;
    }

    /// Pops, waiting through the wait strategy while the ring is empty (after a slip, when
    /// slipping is on and the consumer was streaming: at most slip.polls pauses, outside
    /// `timeout_ns` and without looking at the alert).
    wait_result pop(T& out, std::uint64_t timeout_ns = no_timeout) {
        if (try_pop(out)) return wait_result::ready;  // the common case stays inline
        if (streaming_) slip(next_.get());
        return not_empty_.wait_until([&] { return try_pop(out); }, timeout_ns);
    }

    // ---- either side, any thread ----------------------------------------------------------

    /// Wakes every waiter on both sides; their waits return `alerted` until clear_alert().
    void alert() noexcept {
        not_empty_.alert();
        not_full_.alert();
    }
    void clear_alert() noexcept {
        not_empty_.clear_alert();
        not_full_.clear_alert();
    }

    [[nodiscard]] counters stats() const noexcept {
        return counters{head_.get(), next_.get(), push_full_.get(), pop_empty_.get(), slips_.get()};
    }
    /// Items in the ring as far as a third thread can tell (exact when both sides are idle).
    [[nodiscard]] std::size_t size_approx() const noexcept {
        const std::uint64_t popped = next_.get();
        const std::uint64_t pushed = head_.get();
        return pushed > popped ? static_cast<std::size_t>(pushed - popped) : 0;
    }

    [[nodiscard]] std::size_t footprint_bytes() const noexcept {
        return sizeof(*this) + slots_.footprint_bytes();
    }

    wait_type& consumer_wait() noexcept { return not_empty_; }
    wait_type& producer_wait() noexcept { return not_full_; }

private:
    friend claim;
    T& claimed_value(std::uint64_t position) { return slots_[position & mask_].value.write_ref(); }

    static std::uint64_t validated_release_every(std::uint32_t every, std::size_t capacity) {
        if (every == 0 || every > capacity) {
            throw config_error("spsc_ring: release_every " + std::to_string(every) +
                               " is invalid; it must be in [1, capacity = " + std::to_string(capacity) + "]");
        }
        return every;
    }

    /// How many of `wanted` slots from `position` are free, refreshing the cached tail
    /// only when the cache says there are fewer than wanted.
    std::size_t room_for(std::uint64_t position, std::size_t wanted) {
        std::uint64_t used = position - tail_cache_;
        if (capacity_ - used < wanted) {
            tail_cache_ = tail_.load(at("spsc_ring.E2a.refresh", mo::acquire));
            used = position - tail_cache_;
            Sync::check(used <= capacity_, "spsc_ring: producer ran past the consumer (I1)");
        }
        const std::uint64_t free_slots = capacity_ - used;
        return static_cast<std::size_t>(free_slots < wanted ? free_slots : wanted);
    }

    bool has_room(std::uint64_t position, std::size_t wanted) {
        if (Sync::canary("spsc_ring.full_off_by_one")) {
            // Planted bug: treats a full ring as having one more free slot.
            return room_for(position, wanted) == wanted || position - tail_cache_ == capacity_;
        }
        return room_for(position, wanted) == wanted;
    }

    void advance_head(std::uint64_t position) {
        head_.set(position);
        not_empty_.signal();
    }

    /// [E2]: hands the slots before `position` back to the producer.
    void publish_tail(std::uint64_t position) {
        published_ = position;
        tail_.store(position, at("spsc_ring.E2.release", mo::release));
        not_full_.signal();
    }

    /// Lets the producer get slip_.distance slots past `position`, or slip_.polls polls.
    [[gnu::noinline]] void slip(std::uint64_t position) {
        slips_.add();
        const std::uint64_t target = position + slip_.distance;
        const slot& ahead = slots_[target & mask_];
        // relaxed [E3]: a hint; pop() then reads through [E1a].
        (void)detail::slip_wait<Sync>(
            slip_, [&] { return ahead.stamp.load(at("spsc_ring.E3.slip", mo::relaxed)) == target + 1; });
    }

    /// The ring looked empty at `position`: publish any pops the producer has not seen yet,
    /// so that a producer waiting for room is not left waiting on an idle consumer (I4).
    /// Whether the consumer was streaming (for pop()'s slip) is decided here too.
    void on_empty(std::uint64_t position) {
        pop_empty_.add();
        streaming_ = slip_.enabled() && position - last_empty_ >= slip_.after;
        last_empty_ = position;
        if (published_ != position && !Sync::canary("spsc_ring.lazy_tail_never_flushed")) {
            // The canary above is a planted bug: pops stay unpublished while the consumer idles.
            publish_tail(position);
        }
    }

    // Read-only after construction.
    const std::size_t capacity_;
    const std::uint64_t mask_;
    const std::uint64_t release_every_;
    const slip_options slip_;
    detail::slot_array<slot> slots_;

    // Producer's line. head_ is the producer's position, written by the producer only; as a
    // counter it is also what stats() reports as `pushed`.
    alignas(false_sharing_bytes) typename Sync::counter head_;
    std::uint64_t tail_cache_ = 0;
    typename Sync::counter push_full_;

    // The consumer's published position: alone on its line, read by the producer.
    alignas(false_sharing_bytes) atomic<std::uint64_t> tail_{0};

    // Consumer's line: its position (stats' `popped`) and what it last published.
    alignas(false_sharing_bytes) typename Sync::counter next_;
    std::uint64_t published_ = 0;
    typename Sync::counter pop_empty_;
    typename Sync::counter slips_;
    std::uint64_t last_empty_ = 0;  // where the consumer last found the ring empty
    bool streaming_ = false;        // it had taken slip_.after pops since then (pop() slips)

    alignas(false_sharing_bytes) wait_type not_empty_;
    alignas(false_sharing_bytes) wait_type not_full_;
};

}  // namespace ringlab
