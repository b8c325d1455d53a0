// scenarios/router_props.cpp: RapidCheck properties of the router.
//
// Generated: mode, credit policy, 1-4 consumers with their credits and speeds (events taken
// per round, 0: stalled until the drain; in the streams, 0: 3 us per event), batch_max,
// lane capacity, events, re-attach.
//   rounds        one thread: push, step, each consumer takes at its speed; then a drain
//   stream        producer, router and consumers on real threads
//   stream_dst    the same under DST with a generated seed (shrunk together)
// Every run checks:
//   broadcast     per consumer delivered + drops + missed (+ routed since a final detach)
//                 = routed, so in total delivered + dropped = routed x attached consumers;
//                 park: every consumer gets every event
//   work_queue    each event at most once; routed = delivered + dropped; exactly once
//                 unless the policy drops
//   credit        a consumer's backlog never exceeds its credit
//   order         each consumer sees its events in routed order
//   virtual time  under DST, batch_time_us ends a step early and a detach waits for
//                 detach_after_ns, both in virtual time
// Canaries (each must make a property fail on the check its bug breaks): a drop nobody
// counts, one delivery over the credit, a broadcast batch sent on the credit for one event
// and a direct broadcast of two events on the credit for one (rounds, sim backend outside a
// run; the rounds pass there with no canary on), a park that gives up, losing an event, and
// the weakened lane publication [K1] (stream_dst), an early detach (virtual time).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "ringlab/router.hpp"
#include "ringlab/spsc_ring.hpp"
#include "support/canary.hpp"
#include "support/concurrent.hpp"

namespace ringlab::scenarios {
namespace {

struct plan {
    router_mode mode = router_mode::broadcast;
    credit_policy policy = credit_policy::drop;
    std::size_t lane_capacity = 4;
    std::vector<std::uint64_t> credits;
    std::vector<int> speeds;  // events taken per round; 0: stalled until the drain
    std::vector<bool> reattach;
    std::uint32_t batch_max = 1;
    int items = 0;
    int per_round = 1;  // events the producer offers per round
};

plan gen_plan(int max_items, bool allow_park) {
    plan p;
    p.mode = *rc::gen::element(router_mode::broadcast, router_mode::work_queue);
    p.policy = allow_park ? *rc::gen::element(credit_policy::drop, credit_policy::park, credit_policy::detach)
                          : *rc::gen::element(credit_policy::drop, credit_policy::detach);
    p.lane_capacity = std::size_t{1} << *rc::gen::inRange(0, 4);
    const int consumers = *rc::gen::inRange(1, 5);
    for (int c = 0; c < consumers; ++c) {
        p.credits.push_back(*rc::gen::inRange<std::uint64_t>(1, p.lane_capacity + 1));
        p.speeds.push_back(*rc::gen::inRange(0, 4));
        p.reattach.push_back(p.mode == router_mode::work_queue || *rc::gen::arbitrary<bool>());
    }
    p.batch_max = *rc::gen::inRange<std::uint32_t>(1, 9);
    p.items = *rc::gen::inRange(0, max_items);
    p.per_round = *rc::gen::inRange(1, 6);
    return p;
}

router_config config_of(const plan& p) {
    router_config cfg;
    cfg.mode = p.mode;
    cfg.policy = p.policy;
    cfg.max_consumers = p.credits.size();
    cfg.lane_capacity = p.lane_capacity;
    cfg.batch_max = p.batch_max;
    cfg.park_wait_ns = 2'000;
    cfg.detach_after_ns = 0;  // detach at the first exhaustion: deterministic on one thread
    return cfg;
}

/// What one consumer saw, for the final checks.
struct seen_by {
    std::vector<int> values;
    std::uint64_t missed = 0;
    std::uint64_t last_detach_routed = 0;
    std::string broken;  // the first broken expectation
    void take(int v) {
        if (broken.empty() && !values.empty() && v <= values.back()) {
            broken = "got " + std::to_string(v) + " after " + std::to_string(values.back());
        }
        values.push_back(v);
    }
};

/// Checks the accounting of a finished run; returns what broke ("" when nothing).
template <class Router>
std::string verdict(const plan& p, Router& r, const std::vector<seen_by>& seen, bool complete) {
    const auto s = r.stats();
    if (complete && (s.routed != static_cast<std::uint64_t>(p.items) || s.pending != 0)) {
        return "routed " + std::to_string(s.routed) + " of " + std::to_string(p.items);
    }
    std::vector<int> all;
    for (std::size_t c = 0; c < seen.size(); ++c) {
        if (!seen[c].broken.empty()) return "consumer " + std::to_string(c) + ": " + seen[c].broken;
        const auto cs = r.consumer_stats(c);
        if (seen[c].values.size() != cs.delivered) {
            return "consumer " + std::to_string(c) + " took " + std::to_string(seen[c].values.size()) +
                   " of " + std::to_string(cs.delivered) + " delivered";
        }
        all.insert(all.end(), seen[c].values.begin(), seen[c].values.end());
        if (p.mode != router_mode::broadcast) continue;
        const bool detached_at_end = cs.state != consumer_state::attached;
        const std::uint64_t since = detached_at_end ? s.routed - seen[c].last_detach_routed : 0;
        if (cs.delivered + cs.drops_no_credit + seen[c].missed + since != s.routed) {
            return "broadcast consumer " + std::to_string(c) + ": delivered " + std::to_string(cs.delivered) +
                   " + dropped " + std::to_string(cs.drops_no_credit) + " + missed " +
                   std::to_string(seen[c].missed + since) + " != routed " + std::to_string(s.routed) + " (" +
                   to_string(p.policy) + ", state " + to_string(cs.state) + ", " +
                   std::to_string(cs.detaches) + " detaches, router missed count " +
                   std::to_string(cs.missed) + ")";
        }
        if (complete && p.policy == credit_policy::park &&
            seen[c].values.size() != static_cast<std::size_t>(p.items)) {
            return "park lost events for consumer " + std::to_string(c);
        }
    }
    if (p.mode == router_mode::work_queue) {
        std::sort(all.begin(), all.end());
        if (std::adjacent_find(all.begin(), all.end()) != all.end())
            return "work_queue delivered an event twice";
        if (s.routed != s.delivered + s.dropped_no_credit + s.dropped_no_consumer) {
            return "work_queue: routed " + std::to_string(s.routed) + " != delivered + dropped " +
                   std::to_string(s.delivered + s.dropped_no_credit + s.dropped_no_consumer);
        }
        if (complete && p.policy != credit_policy::drop && all.size() != static_cast<std::size_t>(p.items)) {
            return "work_queue lost events under " + std::string(to_string(p.policy));
        }
    }
    return "";
}

template <class Router>
void refresh_missed(Router& r, std::size_t c, seen_by& seen) {
    const auto status = r.status(c);
    if (status.state == consumer_state::attached || status.state == consumer_state::detached)
        seen.missed = status.missed;
}

/// One consumer's turn: takes up to `budget` events; re-attaches when detached (after
/// reading its missed count, which a pending re-attach hides).
template <class Router>
void take_some(Router& r, std::size_t c, int budget, bool reattach, seen_by& seen) {
    for (int i = 0; i < budget; ++i) {
        int v = 0;
        const take_status st = r.try_take(c, v);
        if (st == take_status::taken) {
            seen.take(v);
            continue;
        }
        refresh_missed(r, c, seen);
        if (st == take_status::detached && reattach) (void)r.reattach(c);
        return;
    }
}

/// The single-threaded scenario (any backend; the sim backend outside a run turns canaries on).
template <class Sync>
std::string rounds(const plan& p) {
    using source_t = spsc_ring<int, busy_spin_wait, Sync>;
    using router_t = router<source_t, busy_spin_wait, Sync>;
    source_t source(256);
    router_config cfg = config_of(p);
    std::vector<seen_by> seen(p.credits.size());
    cfg.on_detach = [&](std::size_t c, std::uint64_t routed, std::uint64_t) {
        seen[c].last_detach_routed = routed;
    };
    router_t r(source, cfg);
    for (const std::uint64_t credit : p.credits) (void)r.attach(credit);
    int pushed = 0;
    const int round_limit = 8 * p.items + 64;
    for (int round = 0; round < round_limit; ++round) {
        const bool draining = pushed == p.items;
        for (int k = 0; k < p.per_round && pushed < p.items; ++k) pushed += source.try_push(pushed) ? 1 : 0;
        (void)r.step();
        for (std::size_t c = 0; c < p.credits.size(); ++c) {
            const auto cs = r.consumer_stats(c);
            if (cs.lag > p.credits[c]) {
                return "consumer " + std::to_string(c) + " backlog " + std::to_string(cs.lag) +
                       " over credit " + std::to_string(p.credits[c]);
            }
            take_some(r, c, draining ? 64 : p.speeds[c], p.reattach[c] || draining, seen[c]);
            refresh_missed(r, c, seen[c]);
        }
        if (draining && r.stats().routed == static_cast<std::uint64_t>(p.items)) break;
    }
    for (std::size_t c = 0; c < p.credits.size(); ++c) {
        take_some(r, c, 1 << 20, false, seen[c]);
        refresh_missed(r, c, seen[c]);
    }
    return verdict(p, r, seen, true);
}

/// Producer, router and consumers as threads (real ones, or logical ones under DST).
template <class Sync>
outcome stream(const plan& p, std::uint64_t seed) {
    using source_t = spsc_ring<int, busy_spin_wait, Sync>;
    using router_t = router<source_t, busy_spin_wait, Sync>;
    source_t source(4);
    router_config cfg = config_of(p);
    cfg.detach_after_ns = 10'000;
    std::vector<seen_by> seen(p.credits.size());
    cfg.on_detach = [&](std::size_t c, std::uint64_t routed, std::uint64_t) {
        seen[c].last_detach_routed = routed;
    };
    router_t r(source, cfg);
    for (const std::uint64_t credit : p.credits) (void)r.attach(credit);
    (void)r.step();
    findings found;
    typename Sync::template atomic<std::uint32_t> done{0};
    std::vector<body> bodies;
    bodies.push_back([&] {
        for (int v = 0; v < p.items;) {
            if (source.try_push(v)) {
                ++v;
            } else {
                relax<Sync>();
            }
        }
    });
    bodies.push_back([&] {
        while (r.stats().routed < static_cast<std::uint64_t>(p.items)) {
            if (r.step() == 0) relax<Sync>();
            for (std::size_t c = 0; c < p.credits.size(); ++c) {
                if (r.consumer_stats(c).lag > p.credits[c])
                    found.fail("consumer " + std::to_string(c) + " over its credit");
            }
        }
        done.store(1, at("scenario.router.done", mo::release));
    });
    for (std::size_t c = 0; c < p.credits.size(); ++c) {
        bodies.push_back([&, c] {
            for (;;) {
                int v = 0;
                const take_status st = r.try_take(c, v);
                if (st == take_status::taken) {
                    seen[c].take(v);
                    if (p.speeds[c] == 0) Sync::sleep_ns(3'000);  // a slow consumer
                    continue;
                }
                if (st == take_status::detached) {
                    refresh_missed(r, c, seen[c]);
                    (void)r.reattach(c);
                    // A grant may come just before the router finishes: look once more after `done`.
                    bool last_look = false;
                    while (r.status(c).state == consumer_state::reattaching && !last_look) {
                        last_look = done.load(at("scenario.router.done_poll_reattach", mo::acquire)) != 0;
                        relax<Sync>();
                    }
                    refresh_missed(r, c, seen[c]);
                    continue;
                }
                if (done.load(at("scenario.router.done_poll", mo::acquire)) != 0) {
                    while (r.try_take(c, v) == take_status::taken) seen[c].take(v);
                    refresh_missed(r, c, seen[c]);
                    return;
                }
                relax<Sync>();
            }
        });
    }
    outcome o = run_concurrently<Sync>(bodies, found, seed);
    if (!o.ok) return o;
    const std::string broken = verdict(p, r, seen, true);
    return {broken.empty(), broken};
}

}  // namespace

RC_GTEST_PROP(router_props, rounds, ()) {
    const plan p = gen_plan(120, true);
    const std::string broken = rounds<sync::native>(p);
    require_empty(broken);
}

RC_GTEST_PROP(router_props, stream, ()) {
    const plan p = gen_plan(1000, true);
    const outcome o = stream<sync::native>(p, 0);
    require(o);
}

#if RINGLAB_WITH_DST
RC_GTEST_PROP(router_props, stream_dst, ()) {
    const plan p = gen_plan(30, true);
    const outcome o = stream<sync::sim>(p, *rc::gen::arbitrary<std::uint64_t>());
    require(o);
}
#endif

#if RINGLAB_WITH_DST
/// One step over 64 waiting events on one logical thread: how many it routes with a time
/// budget of `batch_time_us` (virtual time: every scheduling point is 10 ns).
std::size_t one_step_under_dst(std::uint64_t batch_time_us, std::uint64_t detach_after_ns,
                               std::uint64_t& detached_at, std::uint64_t& exhausted_since) {
    using source_t = spsc_ring<int, busy_spin_wait, sync::sim>;
    using router_t = router<source_t, busy_spin_wait, sync::sim>;
    std::size_t handled = 0;
    dst::run_options options;
    options.seed = 1;
    options.faults = false;
    const dst::run_result res = dst::run_once(
        [&](dst::run_context& ctx) {
            source_t source(64);
            router_config cfg;
            cfg.batch_max = 64;
            cfg.lane_capacity = 64;
            cfg.batch_time_us = batch_time_us;
            cfg.policy = credit_policy::detach;
            cfg.detach_after_ns = detach_after_ns;
            cfg.park_wait_ns = 1'000;
            cfg.on_detach = [&](std::size_t, std::uint64_t, std::uint64_t since) {
                detached_at = ctx.now_ns();
                exhausted_since = since;
            };
            router_t r(source, cfg);
            (void)r.attach(detach_after_ns == 0 ? 64 : 1);
            (void)r.step();
            for (int v = 0; v < 64; ++v) (void)source.try_push(v);
            ctx.spawn("router", [&] {
                handled = r.step();
                while (detach_after_ns != 0 && r.stats().detaches == 0) (void)r.step();
            });
            ctx.run();
        },
        options);
    EXPECT_EQ(res.kind, dst::verdict::pass) << res.message;
    return handled;
}

TEST(router_virtual_time, batch_time_us_ends_a_step_early) {
    std::uint64_t detached_at = 0;
    std::uint64_t since = 0;
    EXPECT_EQ(one_step_under_dst(0, 0, detached_at, since), 64u) << "no budget: the whole batch";
    const std::size_t budgeted = one_step_under_dst(1, 0, detached_at, since);
    EXPECT_GT(budgeted, 0u);
    EXPECT_LT(budgeted, 64u) << "1 us of virtual time (100 scheduling points) cannot route 64 events";
}

TEST(router_virtual_time, detach_waits_for_the_threshold_in_virtual_time) {
    std::uint64_t detached_at = 0;
    std::uint64_t since = 0;
    (void)one_step_under_dst(0, 50'000, detached_at, since);
    EXPECT_GT(detached_at, 0u) << "never detached";
    EXPECT_GE(detached_at - since, 50'000u) << "detached before 50 us of virtual exhaustion";
}
#endif

// The sim backend outside a DST run: canaries can be switched on, clocks read 0, so these
// use the policies that never wait (drop, and detach at the first exhaustion).
void sim_rounds() { require_empty(rounds<sync::sim>(gen_plan(60, false))); }

TEST(router_canaries, the_rounds_catch_a_drop_nobody_counts) {
    const canary_scope bug("router.drop_uncounted");
    const catch_report report =
        caught("rounds with router.drop_uncounted",
               {"!= delivered + dropped", "+ dropped 0 + missed 0 != routed"}, sim_rounds);
    EXPECT_TRUE(report) << "the accounting did not notice drops missing from the counters: " << report;
}

TEST(router_canaries, the_rounds_catch_a_delivery_over_the_credit) {
    const canary_scope bug("router.credit_off_by_one");
    const catch_report report = caught("rounds with router.credit_off_by_one", "over credit", sim_rounds);
    EXPECT_TRUE(report) << "nothing noticed a backlog above the credit: " << report;
}

TEST(router_canaries, the_rounds_catch_a_broadcast_batch_over_the_credit) {
    const canary_scope bug("router.batch_credit_for_one");
    const catch_report report = caught("rounds with router.batch_credit_for_one", "over credit", sim_rounds);
    EXPECT_TRUE(report) << "nothing noticed a broadcast batch sent on the credit for one event: " << report;
}

TEST(router_canaries, the_rounds_catch_a_direct_broadcast_over_the_credit) {
    const canary_scope bug("router.direct_room_plus_one");
    const catch_report report = caught("rounds with router.direct_room_plus_one", "over credit", sim_rounds);
    EXPECT_TRUE(report) << "nothing noticed a direct broadcast of two events on the credit for one: "
                        << report;
}

// The control: the same rounds on the sim backend, with no canary on.
TEST(router_canaries, the_sim_backend_passes_without_canaries) {
    EXPECT_TRUE(rc::check("rounds under sim", sim_rounds));
}

#if RINGLAB_WITH_DST
TEST(router_canaries, the_dst_stream_catches_a_park_that_gives_up) {
    const canary_scope bug("router.park_gives_up");
    const catch_report report = caught("stream_dst with router.park_gives_up", "!= routed", [] {
        plan p = gen_plan(30, true);
        RC_PRE(p.policy == credit_policy::park);
        const outcome o = stream<sync::sim>(p, *rc::gen::arbitrary<std::uint64_t>());
        require(o);
    });
    EXPECT_TRUE(report) << "park lost events and nothing noticed: " << report;
}

TEST(router_canaries, virtual_time_catches_a_detach_without_threshold) {
    const canary_scope bug("router.detach_without_threshold");
    std::uint64_t detached_at = 0;
    std::uint64_t since = 0;
    (void)one_step_under_dst(0, 50'000, detached_at, since);
    EXPECT_LT(detached_at - since, 50'000u) << "the planted early detach went unseen";
}

TEST(router_canaries, the_dst_stream_catches_a_weakened_lane_publication) {
    const canary_scope bug(nullptr, "router.K1.deliver");
    const catch_report report =
        caught("stream_dst with router.K1.deliver weakened", "DST correctness: data race", [] {
            const plan p = gen_plan(30, true);
            RC_PRE(p.items > 0);
            const outcome o = stream<sync::sim>(p, *rc::gen::arbitrary<std::uint64_t>());
            require(o);
        });
    EXPECT_TRUE(report) << "the DST stream did not notice a relaxed lane publication: " << report;
}
#endif

}  // namespace ringlab::scenarios
