// router.hpp: a router loop (fanout) with router-enforced credits. The router thread's
// membership and routing code is in detail/router_route.hpp.
//
// A single-writer router moves events from one producer ring (spsc_ring or mpsc_ring: the
// `Source`) into the lanes of up to `max_consumers` consumers. Each lane is a bounded
// single-producer single-consumer ring written by the router alone.
//
//   producer ──Source──▶ router ──lane 0──▶ consumer 0
//                               ──lane 1──▶ consumer 1 ...
//
// Modes: broadcast offers every event to every attached consumer (partial delivery is
// allowed and counted per consumer); work_queue gives each event to exactly one consumer,
// round-robin, skipping a consumer without credit. Credits: a consumer attaches with a
// `credit_max`, its largest backlog; before each delivery the router checks the lane's
// backlog (delivered - returned) against it. On exhaustion the policy decides: drop (skip,
// `drops_no_credit`), park (the router waits for credit; nothing is lost, `credit_waits`),
// detach (park, but a consumer whose exhaustion lasts `detach_after_ns` is detached: the
// on_detach hook runs, the consumer drains what it was given and is then told `detached`;
// it may re-attach and resumes at the live position, told how many events it missed).
//
// Threading contract: one router thread calls step() (or run()); any thread may attach();
// consumer `id` is used by one thread at a time (take/consume/status/reattach/leave).
// Progress: step() waits only under park/detach, for at most park_wait_ns per step;
// consumer calls are wait-free except take(), which waits through the lane's strategy.
// Knobs: batch_max (events per step), batch_time_us (virtual or real time per step),
// yield_every and idle_spin_limit (run()), and the wait strategy.
// A step takes up to batch_max events from the source. Broadcasting, with no time budget and
// no batch pending, it moves the first one straight from the source into every attached lane
// when each has credit for it (a lane's tail is read only when its cache shows none): a lone
// event, the latency case, is never copied. The rest goes into a pending batch, written lane
// by lane when every consumer has credit for its share (and no time budget applies), else
// event by event, where the policies act. Every path gives each consumer the same events in
// the same order. (Moving whole batches directly, event by event across the lanes, halved
// the throughput of a broadcast: the lane-by-lane writes of the pending batch stream better.)
//
//   router line (per lane)   head (its position = delivered), tail cache, credit, counters
//   credit line (per lane)   tail: the consumer's released position, the credit it returns
//   membership (per lane)    state word, requested credit, missed count
//   consumer line (per lane) next (its position = consumed)
//
// Invariants:
//   (I1) 0 <= head - tail <= credit_max <= lane capacity: the router delivers only with
//        credit, so a lane never overruns its consumer (and credit is the backlog bound).
//   (I2) a lane's positions never go back; when a consumer leaves, the router moves its
//        tail up to head, so the next consumer of that lane sees none of the old events.
//   (I3) a consumer is told `detached` only after it took every event delivered to it.
//   (I4) broadcast: per consumer, delivered + drops_no_credit = events routed while it was
//        attached; work_queue: routed = delivered + dropped_no_credit + dropped_no_consumer.
//
// Membership is a state word per lane: free -> claimed (attach) -> joining -> attached
// (router) -> detached (router) -> reattaching (consumer) -> attached (router); leaving
// (consumer, from any joined state) -> free (router). Every transition from a state that
// both sides may leave is a compare-and-swap.
//
// Synchronisation edges:
//   [K1]  release  router stamps a lane slot           -> [K1a] acquire in try_take/consume
//   [K2]  release  consumer returns credit (tail)      -> [K2a] acquire in the credit check:
//                  the router reuses a slot only after the consumer's read of it
//   [K3]  release  router detaches (attached->detached) -> [K3a] acquire in the consumer's
//                  empty path: every delivery before the detach is then visible (I3)
//   [K4]  release  consumer's join / reattach / leave   -> [K4a] acquire in poll_control:
//                  the requested credit, and on leave the consumer's last reads
//   [K5]  release  router grants (->attached, with the missed count) or frees (->free,
//                  after moving tail to head)           -> [K5a] acquire in status/attach
// The wait strategies' own edges order sleeping and waking (wait_strategy.hpp).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ringlab/detail/slot_array.hpp"
#include "ringlab/platform.hpp"
#include "ringlab/sync/native.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab {

enum class router_mode : std::uint8_t { broadcast, work_queue };
enum class credit_policy : std::uint8_t { drop, park, detach };

[[nodiscard]] constexpr const char* to_string(router_mode m) noexcept {
    return m == router_mode::broadcast ? "broadcast" : "work_queue";
}
[[nodiscard]] constexpr const char* to_string(credit_policy p) noexcept {
    switch (p) {
        case credit_policy::drop:
            return "drop";
        case credit_policy::park:
            return "park";
        case credit_policy::detach:
            return "detach";
    }
    return "?";
}

/// Where a consumer's lane stands (see the header's membership diagram).
enum class consumer_state : std::uint32_t {
    free,
    claimed,
    joining,
    attached,
    detached,
    reattaching,
    leaving
};

[[nodiscard]] constexpr const char* to_string(consumer_state s) noexcept {
    switch (s) {
        case consumer_state::free:
            return "free";
        case consumer_state::claimed:
            return "claimed";
        case consumer_state::joining:
            return "joining";
        case consumer_state::attached:
            return "attached";
        case consumer_state::detached:
            return "detached";
        case consumer_state::reattaching:
            return "reattaching";
        case consumer_state::leaving:
            return "leaving";
    }
    return "?";
}

/// What a consumer's take found.
enum class take_status : std::uint8_t { taken, empty, detached };

struct router_config {
    router_mode mode = router_mode::broadcast;
    credit_policy policy = credit_policy::park;
    std::size_t max_consumers = 4;              // lanes, [1, 64]
    std::size_t lane_capacity = 1024;           // a power of two: the largest credit_max
    std::uint32_t batch_max = 64;               // events per step, [1, 65536]
    std::uint64_t batch_time_us = 0;            // time budget per step; 0: none
    std::uint32_t yield_every = 0;              // run(): yield the CPU every N steps; 0: never
    std::uint32_t idle_spin_limit = 64;         // run(): empty steps before waiting on the source
    std::uint64_t park_wait_ns = 1'000'000;     // the longest one step waits for credit
    std::uint64_t detach_after_ns = 1'000'000;  // detach: exhaustion sustained this long
    /// detach: called on the router thread with the consumer, the routed count at the detach
    /// and when its exhaustion began (Sync::now_ns()): the application's event; may be empty.
    std::function<void(std::size_t consumer, std::uint64_t routed, std::uint64_t exhausted_since_ns)>
        on_detach = {};
};

template <class Source, template <class> class Wait = busy_spin_wait, class Sync = typename Source::sync_type>
class router {
    using u64 = std::uint64_t;
    using u32 = std::uint32_t;
    template <class U>
    using atomic = typename Sync::template atomic<U>;
    using counter = typename Sync::counter;

public:
    using value_type = typename Source::value_type;
    using wait_type = Wait<Sync>;
    using sync_type = Sync;
    using consumer_id = std::size_t;
    static constexpr consumer_id no_consumer = ~consumer_id{0};
    static constexpr std::size_t max_lanes = 64;

    struct counters {
        u64 routed = 0;               // events taken from the source and fully handled
        u64 delivered = 0;            // deliveries into lanes (broadcast: one per consumer)
        u64 dropped_no_credit = 0;    // deliveries skipped for lack of credit (drop policy)
        u64 dropped_no_consumer = 0;  // work_queue events with nobody attached (drop policy)
        u64 credit_waits = 0;         // times the router waited for credit
        u64 detaches = 0;
        u64 attaches = 0;  // joins and re-attaches granted
        u64 steps = 0;
        u64 pending = 0;  // taken from the source, not yet handled
    };

    struct consumer_counters {
        consumer_state state = consumer_state::free;
        u64 credit_max = 0;
        u64 delivered = 0;
        u64 consumed = 0;
        u64 lag = 0;  // delivered - consumed: the backlog
        u64 drops_no_credit = 0;
        u64 credit_waits = 0;
        u64 detaches = 0;
        u64 missed = 0;  // events routed while detached, over every re-attach
    };

    /// What a consumer learns from status(): its state and how many events the router
    /// moved while it was detached, over every re-attach granted since it joined (0 while
    /// a re-attach is still pending).
    struct consumer_status {
        consumer_state state = consumer_state::free;
        u64 missed = 0;
    };

    router(Source& source, router_config cfg, typename wait_type::config wait_cfg = {})
        : cfg_(validated(std::move(cfg))),
          mask_(cfg_.lane_capacity - 1),
          batch_time_ns_(cfg_.batch_time_us * 1000),
          source_(source),
          lanes_(cfg_.max_consumers),
          pending_(cfg_.batch_max),
          credit_wait_(wait_cfg) {
        for (std::size_t i = 0; i < cfg_.max_consumers; ++i) {
            lanes_[i] = std::make_unique<lane>(cfg_.lane_capacity, wait_cfg);
        }
        active_.reserve(cfg_.max_consumers);
    }

    router(const router&) = delete;
    router& operator=(const router&) = delete;

    [[nodiscard]] const router_config& config() const noexcept { return cfg_; }

    // ---- the router thread ------------------------------------------------------------

    /// One iteration: membership changes, then up to batch_max events (fewer when the
    /// batch_time_us budget runs out or a park times out). Returns the events handled.
    std::size_t step() {
        steps_.add();
        poll_control();
        std::size_t direct = 0;
        if (pending_begin_ == pending_end_) {
            const u64 room = direct_room();
            if (room != 0) direct = route_direct(room);
            // Done when the source ran dry or the batch is full; else the rest of the batch
            // goes through the pending path, where the policies act.
            if (direct != room || direct >= cfg_.batch_max || !refill(cfg_.batch_max - direct)) {
                signal_lanes();
                return direct;
            }
        }
        const std::size_t handled = cfg_.mode == router_mode::broadcast ? route<router_mode::broadcast>()
                                                                        : route<router_mode::work_queue>();
        signal_lanes();
        return direct + handled;
    }

    /// Steps until stop(): yields every yield_every steps; after idle_spin_limit empty steps
    /// waits on the source's consumer strategy (at most park_wait_ns at a time).
    void run() {
        u32 idle = 0;
        u32 since_yield = 0;
        while (!stopping()) {
            const std::size_t n = step();
            if (cfg_.yield_every != 0 && ++since_yield >= cfg_.yield_every) {
                since_yield = 0;
                Sync::yield();
            }
            if (n != 0) {
                idle = 0;
                continue;
            }
            if (pending_begin_ != pending_end_) {  // a park timed out, or nobody to give it to
                Sync::pause();
                continue;
            }
            if (++idle < cfg_.idle_spin_limit) {
                Sync::pause();
                continue;
            }
            idle = 0;
            (void)source_.consumer_wait().wait_until([&] { return stopping() || refill(pending_.size()); },
                                                     cfg_.park_wait_ns);
        }
    }

    /// Makes run() return and a parked step() give up, and wakes consumers waiting in
    /// take() (which returns `empty` from then on); from any thread.
    void stop() noexcept {
        // relaxed: a request to stop; it publishes nothing.
        stop_.store(1, at("router.stop", mo::relaxed));
        credit_wait_.alert();
        for (auto& l : lanes_) l->not_empty.alert();
    }

    /// run() on a thread of its own, pinned to `cpu` (-1: not pinned; a CPU this machine does
    /// not have is a config_error). Native backend only.
    [[nodiscard]] std::thread spawn(int cpu = -1) requires(!Sync::is_model) {
        check_cpu("router", cpu);
        return std::thread([this, cpu] {
            pin_or_warn("router", "router", cpu);
            run();
        });
    }

    // ---- consumers (any thread; one thread per consumer id) ------------------------------

    /// Claims a free lane for a consumer whose backlog may reach `credit_max`. The router
    /// attaches it at its next step. Returns no_consumer when every lane is taken.
    [[nodiscard]] consumer_id attach(u64 credit_max) {
        if (credit_max == 0 || credit_max > cfg_.lane_capacity) {
            throw config_error(
                "router: credit_max " + std::to_string(credit_max) +
                " is invalid; it must be in [1, lane_capacity = " + std::to_string(cfg_.lane_capacity) + "]");
        }
        for (std::size_t i = 0; i < lanes_.size(); ++i) {
            lane& l = *lanes_[i];
            u32 expected = state_word(consumer_state::free);
            if (!l.state.compare_exchange_strong(expected, state_word(consumer_state::claimed),
                                                 at("router.K5a.claim", mo::acquire))) {
                continue;
            }
            // relaxed: [K5a] ordered the router's reset of the lane (I2) before this read.
            l.next.set(l.tail.load(at("router.claim_tail", mo::relaxed)));
            l.requested_credit.store(credit_max);
            l.missed.store(0);
            l.state.store(state_word(consumer_state::joining), at("router.K4.join", mo::release));
            return i;
        }
        return no_consumer;
    }

    /// Takes the oldest event delivered to `id`. `detached` only once every event delivered
    /// before the detach was taken (I3).
    [[nodiscard]] take_status try_take(consumer_id id, value_type& out) {
        lane& l = lane_at(id);
        const u64 position = l.next.get();
        slot& s = l.slots[position & mask_];
        if (s.stamp.load(at("router.K1a.take", mo::acquire)) != position + 1) {
            if (!is_detached(l)) return take_status::empty;
            if (s.stamp.load(at("router.K1a.take_after_detach", mo::relaxed)) != position + 1) {
                return take_status::detached;
            }
            // relaxed above: [K3a] in is_detached() acquired every delivery before the detach.
        }
        out = s.value.load();
        l.next.set(position + 1);
        return_credit(l, position + 1);
        return take_status::taken;
    }

    /// Zero-copy: calls fn(const value_type&) for up to `max` events, oldest first, then
    /// returns their credit with one store. Returns how many (0: empty or detached).
    template <class Fn>
    std::size_t consume(consumer_id id, Fn&& fn, std::size_t max = ~std::size_t{0}) {
        lane& l = lane_at(id);
        const u64 first = l.next.get();
        std::size_t n = 0;
        for (; n < max; ++n) {
            slot& s = l.slots[(first + n) & mask_];
            if (s.stamp.load(at("router.K1a.consume", mo::acquire)) != first + n + 1) break;
            fn(s.value.read_ref());
        }
        if (n == 0) return 0;
        l.next.set(first + n);
        return_credit(l, first + n);
        return n;
    }

    /// Takes an event, waiting through the lane's strategy; `empty` on a timeout or alert.
    take_status take(consumer_id id, value_type& out, u64 timeout_ns = no_timeout) {
        take_status r = try_take(id, out);
        if (r != take_status::empty) return r;
        (void)lane_at(id).not_empty.wait_until([&] { return (r = try_take(id, out)) != take_status::empty; },
                                               timeout_ns);
        return r;
    }

    [[nodiscard]] consumer_status status(consumer_id id) const {
        const lane& l = lane_at(id);
        const auto state = static_cast<consumer_state>(l.state.load(at("router.K5a.status", mo::acquire)));
        // The router writes `missed` only while a re-attach is pending, before granting it.
        const bool settled = state == consumer_state::attached || state == consumer_state::detached;
        return {state, settled ? l.missed.load() : 0};
    }

    /// Asks to re-attach a detached consumer; the router grants it at its next step (status
    /// then leaves `reattaching`, and its missed count includes the events of this absence;
    /// the consumer may already be detached again). False when `id` is not detached.
    bool reattach(consumer_id id) {
        u32 expected = state_word(consumer_state::detached);
        return lane_at(id).state.compare_exchange_strong(expected, state_word(consumer_state::reattaching),
                                                         at("router.K4.reattach", mo::release));
    }

    /// Leaves for good; `id` must not be used afterwards (its lane is freed for another).
    void leave(consumer_id id) {
        lane& l = lane_at(id);
        // relaxed: a first guess for the compare-and-swap below, which decides.
        u32 seen = l.state.load(at("router.leave_guess", mo::relaxed));
        while (seen != state_word(consumer_state::leaving) && seen != state_word(consumer_state::free)) {
            if (l.state.compare_exchange_weak(seen, state_word(consumer_state::leaving),
                                              at("router.K4.leave", mo::release))) {
                return;
            }
        }
    }

    // ---- any thread ---------------------------------------------------------------------

    [[nodiscard]] counters stats() const noexcept {
        counters c;
        c.routed = routed_.get();
        c.dropped_no_consumer = dropped_no_consumer_.get();
        c.credit_waits = credit_waits_.get();
        c.detaches = detaches_.get();
        c.attaches = attaches_.get();
        c.steps = steps_.get();
        c.pending = taken_.get() - c.routed;
        for (const auto& l : lanes_) {
            c.delivered += l->head.get();  // lane positions count every delivery, over every consumer
            c.dropped_no_credit += l->drops_no_credit.get();
        }
        return c;
    }

    [[nodiscard]] consumer_counters consumer_stats(consumer_id id) const {
        const lane& l = lane_at(id);
        consumer_counters c;
        // relaxed: a statistic, ordered with nothing.
        c.state = static_cast<consumer_state>(l.state.load(at("router.stats_state", mo::relaxed)));
        c.credit_max = l.credit_max.get();
        c.delivered = l.head.get() - l.head_at_join.get();
        const u64 head = l.head.get();
        const u64 next = l.next.get();
        c.consumed = next > l.head_at_join.get() ? next - l.head_at_join.get() : 0;
        c.lag = head > next ? head - next : 0;
        c.drops_no_credit = l.drops_no_credit.get();
        c.credit_waits = l.credit_waits.get();
        c.detaches = l.detaches.get();
        c.missed = l.missed_total.get();
        return c;
    }

    [[nodiscard]] std::size_t max_consumers() const noexcept { return lanes_.size(); }
    [[nodiscard]] std::size_t attached_count() const noexcept { return attached_.get(); }
    [[nodiscard]] wait_type& credit_wait() noexcept { return credit_wait_; }
    [[nodiscard]] wait_type& consumer_wait(consumer_id id) { return lane_at(id).not_empty; }

    [[nodiscard]] std::size_t footprint_bytes() const noexcept {
        std::size_t bytes = sizeof(*this) + pending_.footprint_bytes() + lanes_.footprint_bytes();
        for (const auto& l : lanes_) bytes += sizeof(lane) + l->slots.footprint_bytes();
        return bytes;
    }

private:
    struct slot {
        typename Sync::template cell<value_type> value;
        atomic<u64> stamp{0};
    };

    struct lane {
        lane(std::size_t capacity, const typename wait_type::config& wait_cfg)
            : slots(capacity), not_empty(wait_cfg) {}
        detail::slot_array<slot> slots;

        // Router's line: written by the router only.
        alignas(false_sharing_bytes) counter head;  // next position the router writes
        u64 tail_cache = 0;
        u64 credit = 0;  // credit_max, the router's own copy
        u64 exhausted_since_ns = 0;
        u64 routed_at_detach = 0;
        u64 missed_since_join = 0;
        bool exhausted = false;
        bool member = false;  // in active_
        counter head_at_join;
        counter credit_max;
        counter drops_no_credit;
        counter credit_waits;
        counter detaches;
        counter missed_total;

        // The consumer's released position: the credit it returns ([K2]).
        alignas(false_sharing_bytes) atomic<u64> tail{0};

        // Membership: the state word and what travels with its transitions ([K4], [K5]).
        alignas(false_sharing_bytes) atomic<u32> state{0};
        typename Sync::template cell<u64> requested_credit;
        typename Sync::template cell<u64> missed;

        // Consumer's line.
        alignas(false_sharing_bytes) counter next;
        alignas(false_sharing_bytes) wait_type not_empty;
    };

    enum class credit_outcome : std::uint8_t { granted, detached, wait_more };

    static constexpr u32 state_word(consumer_state s) noexcept { return static_cast<u32>(s); }

    static router_config validated(router_config cfg) {
        auto fail = [](const std::string& what) { throw config_error("router: " + what); };
        if (cfg.max_consumers == 0 || cfg.max_consumers > max_lanes) {
            fail("max_consumers " + std::to_string(cfg.max_consumers) + " is invalid; it must be in [1, 64]");
        }
        (void)validate_capacity("router lane", cfg.lane_capacity);
        if (cfg.batch_max == 0 || cfg.batch_max > 65536) {
            fail("batch_max " + std::to_string(cfg.batch_max) + " is invalid; it must be in [1, 65536]");
        }
        if (cfg.park_wait_ns == 0) fail("park_wait_ns must be positive");
        if (cfg.detach_after_ns > (u64{1} << 62)) {
            fail("detach_after_ns " + std::to_string(cfg.detach_after_ns) + " is too large; at most 2^62");
        }
        if (cfg.batch_time_us > (u64{1} << 40))
            fail("batch_time_us " + std::to_string(cfg.batch_time_us) + " is too large");
        if (cfg.mode != router_mode::broadcast && cfg.mode != router_mode::work_queue) fail("unknown mode");
        if (cfg.policy != credit_policy::drop && cfg.policy != credit_policy::park &&
            cfg.policy != credit_policy::detach) {
            fail("unknown credit policy");
        }
        return cfg;
    }

    lane& lane_at(consumer_id id) const {
        if (id >= lanes_.size()) [[unlikely]] bad_id(id);
        return *lanes_[id];
    }

    [[noreturn]] [[gnu::noinline]] [[gnu::cold]] void bad_id(consumer_id id) const {
        throw config_error("router: consumer id " + std::to_string(id) + " is out of range [0, " +
                           std::to_string(lanes_.size()) + ")");
    }

    [[nodiscard]] bool stopping() const noexcept {
        // relaxed: see stop().
        return stop_.load(at("router.stop_poll", mo::relaxed)) != 0;
    }

    /// Takes up to `max` (at most batch_max) events into the pending batch when it is empty.
    bool refill(std::size_t max) {
        if (pending_begin_ != pending_end_) return true;
        pending_begin_ = 0;
        pending_end_ = source_.try_pop_batch(&pending_[0], max);
        taken_.add(pending_end_);
        return pending_end_ != 0;
    }

    // ---- membership and routing (router side): detail/router_route.hpp (each documented there)

    void poll_control();
    void grant(std::size_t i, u32 from);
    void remove_active(std::size_t lane_index);
    void detach(std::size_t index);
    template <router_mode Mode>
    std::size_t route();
    template <router_mode Mode>
    std::size_t route_batch();
    u64 direct_room();
    std::size_t route_direct(u64 room);
    bool broadcast_one(const value_type& v);
    bool work_one(const value_type& v);
    bool has_credit(lane& l, u64 n = 1);
    void deliver(lane& l, u32 id, const value_type* v, std::size_t n, std::size_t stride = 1);
    void put(lane& l, u64 position, const value_type& v);
    void advance(lane& l, u32 id, u64 n);
    credit_outcome await_credit(std::size_t index);
    credit_outcome detach_exhausted(std::size_t first, std::size_t last, u64 now);
    void signal_lanes();

    // ---- consumer side ----------------------------------------------------------------

    /// The lane looked empty: true when the consumer was detached ([K3a]).
    bool is_detached(const lane& l) const {
        return l.state.load(at("router.K3a.detached", mo::acquire)) == state_word(consumer_state::detached);
    }

    void return_credit(lane& l, u64 position) {
        l.tail.store(position, at("router.K2.return", mo::release));
        credit_wait_.signal();
    }

    // Read-only after construction.
    const router_config cfg_;
    const u64 mask_;
    const u64 batch_time_ns_;
    Source& source_;
    // Both arrays below sit on lines of their own (slot_array pads them): consumers read
    // lanes_ on every take, and the router writes pending_ on every step; next to each
    // other on the heap, the two shared a line and cost a line transfer per round trip.
    detail::slot_array<std::unique_ptr<lane>> lanes_;

    // Router's own state and counters.
    alignas(false_sharing_bytes) detail::slot_array<value_type> pending_;
    std::size_t pending_begin_ = 0;
    std::size_t pending_end_ = 0;
    std::size_t next_ = 0;  // broadcast: the consumer of the current event; work_queue: its turn
    u64 signal_mask_ = 0;
    std::vector<u32> active_;  // attached lanes, in attach order
    counter routed_;
    counter taken_;
    counter dropped_no_consumer_;
    counter credit_waits_;
    counter detaches_;
    counter attaches_;
    counter attached_;
    counter steps_;

    alignas(false_sharing_bytes) atomic<u32> stop_{0};
    alignas(false_sharing_bytes) wait_type credit_wait_;
};

}  // namespace ringlab

#include "ringlab/detail/router_route.hpp"
