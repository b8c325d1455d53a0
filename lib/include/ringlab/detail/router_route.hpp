// detail/router_route.hpp: the router thread's side of router.hpp, which includes this file
// after the class: membership (poll_control takes joins, re-attaches and leaves; detach)
// and routing (the direct path, the pending batch lane by lane, event by event with the
// credit policies, parking for credit and detaching).
//
// Threading contract, invariants (I1)..(I4) and the synchronisation edges [K1]..[K5]
// these functions take part in: the header comment of router.hpp. Every function here runs
// on the one router thread.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "ringlab/router.hpp"

namespace ringlab {

// ---- membership (router side) --------------------------------------------------------

template <class Source, template <class> class Wait, class Sync>
inline void router<Source, Wait, Sync>::poll_control() {
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        lane& l = *lanes_[i];
        const u32 seen = l.state.load(at("router.K4a.poll", mo::acquire));
        switch (static_cast<consumer_state>(seen)) {
            case consumer_state::joining:
                l.credit = l.requested_credit.load();
                l.credit_max.set(l.credit);
                l.head_at_join.set(l.head.get());
                l.missed_since_join = 0;
                grant(i, seen);
                break;
            case consumer_state::reattaching: {
                const u64 missed = routed_.get() - l.routed_at_detach;
                l.missed_since_join += missed;
                l.missed.store(l.missed_since_join);
                l.missed_total.add(missed);
                grant(i, seen);
                break;
            }
            case consumer_state::leaving:
                if (l.member) remove_active(i);
                // relaxed: [K5] below publishes the reset with the free state (I2).
                l.tail.store(l.head.get(), at("router.reset_tail", mo::relaxed));
                l.tail_cache = l.head.get();
                l.state.store(state_word(consumer_state::free), at("router.K5.free", mo::release));
                break;
            default:
                break;
        }
    }
}

template <class Source, template <class> class Wait, class Sync>
inline void router<Source, Wait, Sync>::grant(std::size_t i, u32 from) {
    lane& l = *lanes_[i];
    l.exhausted = false;
    u32 expected = from;
    if (!l.state.compare_exchange_strong(expected, state_word(consumer_state::attached),
                                         at("router.K5.grant", mo::release))) {
        return;  // the consumer is leaving; the next poll frees the lane
    }
    attaches_.add();
    l.member = true;
    active_.push_back(static_cast<u32>(i));
    attached_.set(active_.size());
}

template <class Source, template <class> class Wait, class Sync>
inline void router<Source, Wait, Sync>::remove_active(std::size_t lane_index) {
    for (std::size_t j = 0; j < active_.size(); ++j) {
        if (active_[j] != lane_index) continue;
        active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(j));
        if (j < next_) --next_;
        break;
    }
    lanes_[lane_index]->member = false;
    attached_.set(active_.size());
}

/// Detaches active_[index] (detach policy, exhaustion past the threshold).
template <class Source, template <class> class Wait, class Sync>
inline void router<Source, Wait, Sync>::detach(std::size_t index) {
    const u32 id = active_[index];
    lane& l = *lanes_[id];
    u32 expected = state_word(consumer_state::attached);
    const bool detached = l.state.compare_exchange_strong(expected, state_word(consumer_state::detached),
                                                          at("router.K3.detach", mo::release));
    remove_active(id);
    if (!detached) return;  // the consumer is leaving
    l.exhausted = false;
    l.routed_at_detach = routed_.get();
    l.detaches.add();
    detaches_.add();
    l.not_empty.signal();
    if (cfg_.on_detach) cfg_.on_detach(id, routed_.get(), l.exhausted_since_ns);
}

// ---- routing ----------------------------------------------------------------------

template <class Source, template <class> class Wait, class Sync>
template <router_mode Mode>
inline std::size_t router<Source, Wait, Sync>::route() {
    if (const std::size_t n = route_batch<Mode>(); n != 0) return n;
    const u64 budget_end = batch_time_ns_ != 0 ? Sync::now_ns() + batch_time_ns_ : 0;
    std::size_t handled = 0;
    while (pending_begin_ < pending_end_) {
        const value_type& v = pending_[pending_begin_];
        const bool done = Mode == router_mode::broadcast ? broadcast_one(v) : work_one(v);
        if (!done) break;
        ++pending_begin_;
        ++handled;
        routed_.add();
        if (budget_end != 0 && Sync::now_ns() >= budget_end) break;
    }
    return handled;
}

/// The fast path: when no time budget applies, no broadcast event is half offered and
/// every attached consumer has credit for its whole share of the pending batch, delivers
/// the batch lane by lane (one run of slot stores and one head store per lane):
/// broadcast gives each lane every event; work_queue gives the lane k places after the
/// round-robin cursor events k, k + m, k + 2m ... of m lanes, the events the slow path
/// would give it. Otherwise 0, and route() offers the batch event by event.
template <class Source, template <class> class Wait, class Sync>
template <router_mode Mode>
inline std::size_t router<Source, Wait, Sync>::route_batch() {
    constexpr bool broadcast = Mode == router_mode::broadcast;
    const std::size_t n = pending_end_ - pending_begin_;
    const std::size_t m = active_.size();
    if (batch_time_ns_ != 0 || n < 2 || m == 0 || (broadcast && next_ != 0)) return 0;
    auto share = [&](std::size_t k) -> std::size_t {
        if constexpr (broadcast) {
            return n;
        } else {
            return k < n ? (n - k - 1) / m + 1 : 0;
        }
    };
    auto lane_index = [&](std::size_t k) { return broadcast ? k : (next_ + k) % m; };
    // The canary below is a planted bug: the batch goes out with the credit for one event.
    const bool one = Sync::canary("router.batch_credit_for_one");
    for (std::size_t k = 0; k < m; ++k) {
        const std::size_t need = one ? 1 : share(k);
        if (need == 0) continue;
        lane& l = *lanes_[active_[lane_index(k)]];
        if (need > l.credit) return 0;  // more than the lane may ever hold: no tail read
        if (!has_credit(l, need)) return 0;
    }
    for (std::size_t k = 0; k < m && share(k) != 0; ++k) {
        const u32 id = active_[lane_index(k)];
        const std::size_t first = pending_begin_ + (broadcast ? 0 : k);
        deliver(*lanes_[id], id, &pending_[first], share(k), broadcast ? 1 : m);
    }
    if constexpr (!broadcast) next_ = (next_ + n - 1) % m + 1;
    pending_begin_ = pending_end_;
    routed_.add(n);
    return n;
}

/// How many events the direct path moves: 1 when broadcasting with no time budget and
/// every attached lane has credit for one (its tail read only when its cache shows none);
/// 0: the whole batch takes the pending path.
template <class Source, template <class> class Wait, class Sync>
inline std::uint64_t router<Source, Wait, Sync>::direct_room() {
    if (cfg_.mode != router_mode::broadcast || batch_time_ns_ != 0 || active_.empty()) return 0;
    for (const u32 id : active_) {
        lane& l = *lanes_[id];
        if (!has_credit(l)) return 0;
    }
    // The canary below is a planted bug: a second event on the credit checked for one.
    return Sync::canary("router.direct_room_plus_one") ? 2 : 1;
}

/// Up to `room` events straight from the source into every attached lane, each with
/// credit for them all: no copy through the pending batch.
template <class Source, template <class> class Wait, class Sync>
inline std::size_t router<Source, Wait, Sync>::route_direct(u64 room) {
    u64 offset = 0;
    const std::size_t n = source_.consume(
        [&](const value_type& v) {
            for (const u32 id : active_) {
                lane& l = *lanes_[id];
                put(l, l.head.get() + offset, v);
            }
            ++offset;
        },
        room);
    if (n == 0) return 0;
    for (const u32 id : active_) advance(*lanes_[id], id, n);
    taken_.add(n);
    routed_.add(n);
    return n;
}

/// Offers `v` to every attached consumer from next_ on; false when the step must end
/// with `v` still pending (a park that timed out).
template <class Source, template <class> class Wait, class Sync>
inline bool router<Source, Wait, Sync>::broadcast_one(const value_type& v) {
    while (next_ < active_.size()) {
        lane& l = *lanes_[active_[next_]];
        if (has_credit(l)) {
            deliver(l, active_[next_], &v, 1);
            ++next_;
            continue;
        }
        if (cfg_.policy == credit_policy::drop) {
            if (!Sync::canary("router.drop_uncounted")) l.drops_no_credit.add();
            // The canary above is a planted bug: a drop that no counter records.
            ++next_;
            continue;
        }
        switch (await_credit(next_)) {
            case credit_outcome::granted:
                break;  // delivered at the top of the loop
            case credit_outcome::detached:
                break;  // active_[next_] is now the next consumer
            case credit_outcome::wait_more:
                if (Sync::canary("router.park_gives_up")) {
                    ++next_;  // Planted bug: a park that timed out skips the consumer, losing v.
                    break;
                }
                return false;
        }
    }
    next_ = 0;
    return true;
}

/// Gives `v` to one consumer, round-robin from next_; false when it must stay pending.
template <class Source, template <class> class Wait, class Sync>
inline bool router<Source, Wait, Sync>::work_one(const value_type& v) {
    for (;;) {
        const std::size_t n = active_.size();
        if (n == 0) {
            if (cfg_.policy != credit_policy::drop) return false;
            dropped_no_consumer_.add();
            return true;
        }
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t index = (next_ + k) % n;
            lane& l = *lanes_[active_[index]];
            if (!has_credit(l)) continue;
            deliver(l, active_[index], &v, 1);
            next_ = index + 1;
            return true;
        }
        const std::size_t turn = next_ % n;
        if (cfg_.policy == credit_policy::drop) {
            if (!Sync::canary("router.drop_uncounted")) lanes_[active_[turn]]->drops_no_credit.add();
            next_ = turn + 1;
            return true;
        }
        if (await_credit(turn) == credit_outcome::wait_more) return false;
    }
}

/// Whether lane `l` may take `n` more events (I1). Refreshes the cached tail ([K2a]) only
/// when the cache says the credit is short. A refresh that finds credit for one event
/// ends an exhaustion, whatever `n`: `exhausted` then always means that the cached tail
/// last said "no credit", so the detach threshold counts from the latest exhaustion.
template <class Source, template <class> class Wait, class Sync>
inline bool router<Source, Wait, Sync>::has_credit(lane& l, u64 n) {
    const u64 head = l.head.get();
    if (head - l.tail_cache + n <= l.credit) return true;
    l.tail_cache = l.tail.load(at("router.K2a.credit", mo::acquire));
    const u64 backlog = head - l.tail_cache;
    Sync::check(backlog <= l.credit, "router: a lane's backlog exceeds its credit (I1)");
    const u64 limit = Sync::canary("router.credit_off_by_one") ? l.credit + 1 : l.credit;
    // The canary above is a planted bug: one delivery more than the credit allows.
    if (backlog + 1 <= limit) l.exhausted = false;
    return backlog + n <= limit;
}

/// Delivers v[0], v[stride] ... (n events) into lane `l`, its credit checked: each slot's
/// stamp publishes it.
template <class Source, template <class> class Wait, class Sync>
inline void router<Source, Wait, Sync>::deliver(lane& l, u32 id, const value_type* v, std::size_t n,
                                                std::size_t stride) {
    const u64 head = l.head.get();
    for (std::size_t j = 0; j < n; ++j) put(l, head + j, v[j * stride]);
    advance(l, id, n);
}

/// Writes `v` into lane `l` at `position`: the slot's stamp publishes it.
template <class Source, template <class> class Wait, class Sync>
inline void router<Source, Wait, Sync>::put(lane& l, u64 position, const value_type& v) {
    slot& s = l.slots[position & mask_];
    s.value.store(v);
    s.stamp.store(position + 1, at("router.K1.deliver", mo::release));
}

/// Moves lane `l`'s head past `n` events put into it, and marks it for a signal.
template <class Source, template <class> class Wait, class Sync>
inline void router<Source, Wait, Sync>::advance(lane& l, u32 id, u64 n) {
    l.head.set(l.head.get() + n);
    signal_mask_ |= u64{1} << id;
}

/// The cold path of park and detach: the consumer at active_[index] (broadcast) or every
/// attached consumer (work_queue) has no credit. Waits for credit for at most
/// park_wait_ns, and under detach detaches those exhausted past detach_after_ns.
template <class Source, template <class> class Wait, class Sync>
inline typename router<Source, Wait, Sync>::credit_outcome router<Source, Wait, Sync>::await_credit(
    std::size_t index) {
    const bool broadcast = cfg_.mode == router_mode::broadcast;
    const std::size_t first = broadcast ? index : 0;
    const std::size_t last = broadcast ? index + 1 : active_.size();
    const u64 now = Sync::now_ns();
    u64 deadline = no_timeout;
    for (std::size_t j = first; j < last; ++j) {
        lane& l = *lanes_[active_[j]];
        if (!l.exhausted) {
            l.exhausted = true;
            l.exhausted_since_ns = now;
        }
        const u64 due = l.exhausted_since_ns + cfg_.detach_after_ns;
        if (due < deadline) deadline = due;
    }
    lanes_[active_[index]]->credit_waits.add();
    credit_waits_.add();
    signal_lanes();  // a consumer asleep on the events it owes us credit for must wake
    if (cfg_.policy == credit_policy::detach &&
        (now >= deadline || Sync::canary("router.detach_without_threshold"))) {
        // The canary above is a planted bug: detaches at the first exhaustion.
        return detach_exhausted(first, last, now);
    }
    u64 timeout = cfg_.park_wait_ns;
    if (cfg_.policy == credit_policy::detach && deadline - now < timeout) timeout = deadline - now;
    auto ready = [&] {
        for (std::size_t j = first; j < last; ++j) {
            lane& l = *lanes_[active_[j]];
            // relaxed: a hint to stop waiting; poll_control's [K4a] orders what follows.
            if (has_credit(l) ||
                l.state.load(at("router.park_poll", mo::relaxed)) != state_word(consumer_state::attached)) {
                return true;
            }
        }
        return false;
    };
    (void)credit_wait_.wait_until(ready, timeout);
    for (std::size_t j = first; j < last; ++j) {
        if (has_credit(*lanes_[active_[j]])) return credit_outcome::granted;
    }
    if (cfg_.policy == credit_policy::detach) {
        const u64 later = Sync::now_ns();
        if (later >= deadline) return detach_exhausted(first, last, later);
    }
    return credit_outcome::wait_more;
}

/// Detaches, among active_[first, last), the consumers still without credit whose
/// exhaustion began detach_after_ns before `now`.
template <class Source, template <class> class Wait, class Sync>
inline typename router<Source, Wait, Sync>::credit_outcome router<Source, Wait, Sync>::detach_exhausted(
    std::size_t first, std::size_t last, u64 now) {
    bool any = false;
    for (std::size_t j = last; j > first; --j) {
        lane& l = *lanes_[active_[j - 1]];
        if (has_credit(l)) return credit_outcome::granted;
        const bool due = l.exhausted_since_ns + cfg_.detach_after_ns <= now;
        if (due || Sync::canary("router.detach_without_threshold")) {
            detach(j - 1);
            any = true;
        }
    }
    return any ? credit_outcome::detached : credit_outcome::wait_more;
}

template <class Source, template <class> class Wait, class Sync>
inline void router<Source, Wait, Sync>::signal_lanes() {
    u64 mask = signal_mask_;
    signal_mask_ = 0;
    while (mask != 0) {
        const auto i = static_cast<std::size_t>(std::countr_zero(mask));
        mask &= mask - 1;
        lanes_[i]->not_empty.signal();
    }
}

}  // namespace ringlab
