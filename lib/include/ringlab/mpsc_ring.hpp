// mpsc_ring.hpp: bounded multi-producer single-consumer ring.
//
// Threading contract: any number of producer threads, one consumer thread at a time.
// Progress: try_pop is wait-free; try_push is lock-free (a producer retries its claim only
// when another producer claimed first); blocking push/pop wait through the wait strategy.
//
// Producers claim positions by compare-and-swap on `head_`; each slot carries a turn that
// says whose it is, so there is no shared "published up to" counter and the consumer needs
// no read-modify-write at all. For the position p of a slot, with lap = p / capacity:
//   turn == 2*lap      the slot is free for position p          (producers wait for this)
//   turn == 2*lap + 1  the slot holds position p's value         (the consumer waits for this)
// The consumer frees a slot by storing 2*(lap + 1). A zero-filled ring is a valid empty ring.
//
//   head_ line   head_ (producers' CAS)
//   consumer     next_ (private)  counters
//   slots        [ value | turn ] x capacity, power of two
//
// Invariants:
//   (I1) the consumer frees slots in position order, so when the slot of position p is free
//        for p's lap, every position in [head, p] is free too (what batch claims rely on).
//   (I2) a slot's value is written only by the producer that claimed its position, and read
//        only after the consumer saw its turn.
//
// Synchronisation edges:
//   [E1]  release  producer publishes the slot's turn   -> pairs with [E1a] acquire in try_pop
//   [E2]  release  consumer frees the slot               -> pairs with [E2a] acquire in try_push
//   The claim CAS on head_ is relaxed: it hands out positions and orders no data; the
//   slot's turn ([E2a]) is what orders a producer after the consumer's last read.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "ringlab/detail/claim.hpp"
#include "ringlab/detail/slot_array.hpp"
#include "ringlab/platform.hpp"
#include "ringlab/sync/native.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab {

template <class T, template <class> class Wait = busy_spin_wait, class Sync = sync::native>
class mpsc_ring {
    template <class U>
    using atomic = typename Sync::template atomic<U>;

    struct slot {
        typename Sync::template cell<T> value;
        atomic<std::uint64_t> turn{0};
    };

public:
    using value_type = T;
    using wait_type = Wait<Sync>;
    using sync_type = Sync;
    using claim = detail::claim<mpsc_ring, T>;

    struct counters {
        std::uint64_t claimed = 0;  // positions handed to producers
        std::uint64_t popped = 0;
        std::uint64_t pop_empty = 0;
    };

    explicit mpsc_ring(std::size_t capacity, typename wait_type::config wait_cfg = {})
        : capacity_(validate_capacity("mpsc_ring", capacity)),
          mask_(capacity_ - 1),
          lap_shift_(static_cast<unsigned>(std::countr_zero(capacity_))),
          slots_(capacity_),
          not_empty_(wait_cfg),
          not_full_(wait_cfg) {}

    mpsc_ring(const mpsc_ring&) = delete;
    mpsc_ring& operator=(const mpsc_ring&) = delete;

    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    // ---- producers ----------------------------------------------------------------------

    [[nodiscard]] bool try_push(const T& v) {
        const claim c = try_claim(1);
        if (c.empty()) return false;
        c[0] = v;
        publish(c);
        return true;
    }

    /// Pushes up to `count` items as one contiguous claim; returns how many it pushed.
    [[nodiscard]] std::size_t try_push_batch(const T* items, std::size_t count) {
        const claim c = try_claim(count);
        for (std::size_t i = 0; i < c.size(); ++i) c[i] = items[i];
        publish(c);
        return c.size();
    }

    /// Claims up to `count` consecutive free slots (as many as are free, none when full).
    /// Fill them through the claim, then publish() them; nothing is visible before.
    [[nodiscard]] claim try_claim(std::size_t count = 1) {
        if (count > capacity_) count = capacity_;
        // relaxed: a hint where to start; the CAS below decides.
        std::uint64_t position = head_.load(at("mpsc_ring.head_hint", mo::relaxed));
        for (;;) {
            // Free slots form a prefix from head (I1): binary-search its length up to count.
            std::size_t free_slots = 0;
            std::size_t hi = count;
            bool stale = false;
            while (free_slots < hi) {
                const std::size_t mid = free_slots + (hi - free_slots + 1) / 2;
                const std::int64_t diff = turn_offset(position + mid - 1);
                if (diff == 0 || (diff == -1 && Sync::canary("mpsc_ring.claim_full_slot"))) {
                    // The canary above is a planted bug: it claims a slot still holding data.
                    free_slots = mid;
                } else if (diff < 0) {
                    hi = mid - 1;  // that slot still holds an older lap
                } else {
                    stale = true;  // another producer claimed past `position`
                    break;
                }
            }
            if (!stale && free_slots == 0) return claim(this, position, 0);
            if (!stale && head_.compare_exchange_weak(position, position + free_slots,
                                                      at("mpsc_ring.claim_cas", mo::relaxed))) {
                return claim(this, position, free_slots);
            }
            if (stale) {
                // relaxed: as above, a fresh hint.
                position = head_.load(at("mpsc_ring.head_reload", mo::relaxed));
            }
            // else the CAS failed and left head_'s current value in `position`
        }
    }

    /// Publishes every slot of `c`, in order.
    void publish(const claim& c) {
        for (std::size_t i = 0; i < c.size(); ++i) {
            const std::uint64_t position = c.first() + i;
            slots_[position & mask_].turn.store(full_turn(position),
                                                at("mpsc_ring.E1.publish", mo::release));
        }
        if (!c.empty()) not_empty_.signal();
    }

    wait_result push(const T& v, std::uint64_t timeout_ns = no_timeout) {
        if (try_push(v)) return wait_result::ready;  // the common case stays inline
        return not_full_.wait_until([&] { return try_push(v); }, timeout_ns);
    }

    // ---- consumer -----------------------------------------------------------------------

    [[nodiscard]] bool try_pop(T& out) {
        return consume([&](const T& v) { out = v; }, 1) == 1;
    }

    [[nodiscard]] std::size_t try_pop_batch(T* out, std::size_t max) {
        return consume([&](const T& v) { *out++ = v; }, max);
    }

    /// Zero-copy consumption of up to `max` ready items, oldest first. Stops at the first
    /// position not yet published, even if later ones are (FIFO by claim order).
    template <class Fn>
    std::size_t consume(Fn&& fn, std::size_t max = ~std::size_t{0}) {
        if (max == 0) return 0;
        const std::uint64_t first = next_.get();
        std::size_t n = 0;
        for (; n < max; ++n) {
            const std::uint64_t position = first + n;
            slot& s = slots_[position & mask_];
            if (s.turn.load(at("mpsc_ring.E1a.consume", mo::acquire)) != full_turn(position)) break;
            fn(s.value.read_ref());
            s.turn.store(free_turn(position + capacity_), at("mpsc_ring.E2.free", mo::release));
        }
        if (n == 0) {
            pop_empty_.add();
            return 0;
        }
        next_.set(first + n);
        not_full_.signal();
        return n;
    }

    wait_result pop(T& out, std::uint64_t timeout_ns = no_timeout) {
        if (try_pop(out)) return wait_result::ready;  // the common case stays inline
        return not_empty_.wait_until([&] { return try_pop(out); }, timeout_ns);
    }

    // ---- any thread -----------------------------------------------------------------------

    void alert() noexcept {
        not_empty_.alert();
        not_full_.alert();
    }
    void clear_alert() noexcept {
        not_empty_.clear_alert();
        not_full_.clear_alert();
    }

    [[nodiscard]] counters stats() const noexcept {
        // relaxed: a statistic.
        return counters{head_.load(at("mpsc_ring.stats_head", mo::relaxed)), next_.get(),
                        pop_empty_.get()};
    }
    [[nodiscard]] std::size_t footprint_bytes() const noexcept {
        return sizeof(*this) + slots_.footprint_bytes();
    }

    wait_type& consumer_wait() noexcept { return not_empty_; }
    wait_type& producer_wait() noexcept { return not_full_; }

private:
    friend claim;
    T& claimed_value(std::uint64_t position) { return slots_[position & mask_].value.write_ref(); }

    /// How the turn of `position`'s slot compares with the turn that frees it for
    /// `position`: 0 free, negative still holding an older lap, positive already claimed.
    [[nodiscard]] std::int64_t turn_offset(std::uint64_t position) const {
        const std::uint64_t turn =
            slots_[position & mask_].turn.load(at("mpsc_ring.E2a.claim", mo::acquire));
        return static_cast<std::int64_t>(turn - free_turn(position));
    }

    [[nodiscard]] std::uint64_t free_turn(std::uint64_t position) const noexcept {
        return (position >> lap_shift_) * 2;
    }
    [[nodiscard]] std::uint64_t full_turn(std::uint64_t position) const noexcept {
        return free_turn(position) + 1;
    }

    const std::size_t capacity_;
    const std::uint64_t mask_;
    const unsigned lap_shift_;
    detail::slot_array<slot> slots_;

    alignas(false_sharing_bytes) atomic<std::uint64_t> head_{0};

    // The consumer's position (stats' `popped`), written by the consumer only.
    alignas(false_sharing_bytes) typename Sync::counter next_;
    typename Sync::counter pop_empty_;

    alignas(false_sharing_bytes) wait_type not_empty_;
    alignas(false_sharing_bytes) wait_type not_full_;
};

}  // namespace ringlab
