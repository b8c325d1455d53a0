// dst/workloads/router.cpp: a producer, the router and 1-3 consumers, every mode, credit
// policy and wait strategy, with slow, stalled and crashed consumers.
//
// The producer sends 0..items-1 into the source ring; the router thread steps until it
// routed everything; each consumer takes with its own delay (virtual time), may stall for
// a long while once, and under detach re-attaches (always in work_queue, by a knob in
// broadcast). Virtual time drives batch_time_us, park_wait_ns and detach_after_ns.
// Checks:
//   every run     per consumer, values strictly increasing; a lane's backlog never above
//                 its credit; a step never handles more than batch_max; a detach only after
//                 the consumer was exhausted for detach_after_ns (virtual time)
//   no crash      everything routed; each consumer took exactly what was delivered to it;
//                 broadcast: delivered + drops + missed (+ routed since a final detach) =
//                 routed, per consumer (drop accounts exactly); park: every consumer got
//                 every event (park never loses); work_queue: each event at most once,
//                 routed = delivered + dropped, and exactly once unless the policy drops
// Crashes (1 run in 4 allows one): the others notice through ctx.crashed() and stop; only
// the safety checks apply then.
#include <algorithm>
#include <memory>
#include <vector>

#include "dst/workload.hpp"
#include "dst/workloads/common.hpp"
#include "ringlab/router.hpp"
#include "ringlab/spsc_ring.hpp"

namespace ringlab::dst {
namespace {

struct consumer_plan {
    std::uint64_t credit = 1;
    std::uint64_t delay_ns = 0;     // virtual time between takes: a slow consumer
    std::uint64_t stall_after = 0;  // takes before one long stall (0: never)
    std::uint64_t stall_ns = 0;
    bool reattach = true;
    bool batches = false;  // consume() instead of try_take()
};

struct consumer_log {
    std::size_t id = 0;
    std::uint32_t thread = 0;
    std::vector<std::uint64_t> values;
    std::uint64_t missed = 0;
    std::uint64_t last_detach_routed = 0;
    std::uint64_t detaches = 0;
};

template <template <class> class Wait>
void exercise(run_context& ctx) {
    using source_t = spsc_ring<std::uint64_t, Wait, sim>;
    using router_t = router<source_t, Wait, sim>;

    const auto mode = static_cast<router_mode>(ctx.knob("mode", 0, 1));
    const auto policy = static_cast<credit_policy>(ctx.knob("policy", 0, 2));
    const std::size_t consumers = ctx.knob("consumers", 1, 3);
    const std::size_t lane_capacity = ctx.knob_pick("lane_capacity", {1, 2, 4});
    const std::uint64_t items = ctx.knob("items", 1, 24);
    router_config cfg;
    cfg.mode = mode;
    cfg.policy = policy;
    cfg.max_consumers = consumers;
    cfg.lane_capacity = lane_capacity;
    cfg.batch_max = static_cast<std::uint32_t>(ctx.knob("batch_max", 1, 4));
    cfg.batch_time_us = ctx.knob_pick("batch_time_us", {0, 0, 1, 3});
    cfg.park_wait_ns = ctx.knob_pick("park_wait_ns", {100, 1000, 5000});
    cfg.detach_after_ns = ctx.knob_pick("detach_after_ns", {0, 300, 1000, 4000});
    std::vector<consumer_plan> plans(consumers);
    for (auto& p : plans) {
        p.credit = ctx.knob("credit", 1, lane_capacity);
        p.delay_ns = ctx.knob_pick("delay_ns", {0, 0, 50, 400});
        p.stall_after = ctx.knob("stall_after", 0, items);
        p.stall_ns = ctx.knob_pick("stall_ns", {0, 2000, 20000});
        p.reattach = mode == router_mode::work_queue || ctx.knob_flag("reattach", 1, 2);
        p.batches = ctx.knob_flag("batches", 1, 3);
    }
    const std::size_t source_capacity = ctx.knob_pick("source_capacity", {1, 2, 4, 8});
    if (ctx.knob_flag("crashes", 1, 4)) ctx.allow_crashes();
    ctx.expect_steps(items * (consumers + 1) * 80);

    std::vector<consumer_log> logs(consumers);
    cfg.on_detach = [&](std::size_t id, std::uint64_t routed, std::uint64_t exhausted_since_ns) {
        const std::uint64_t now = ctx.now_ns();
        ctx.check_that(now >= exhausted_since_ns + cfg.detach_after_ns, [&] {
            return "consumer " + std::to_string(id) + " detached after " +
                   std::to_string(now - exhausted_since_ns) + " ns of exhaustion; the threshold is " +
                   std::to_string(cfg.detach_after_ns) + " ns";
        });
        logs[id].last_detach_routed = routed;
        ++logs[id].detaches;
    };

    source_t source(source_capacity, sim_wait_config<Wait>(ctx));
    router_t r(source, cfg, sim_wait_config<Wait>(ctx));
    for (std::size_t c = 0; c < consumers; ++c) {
        logs[c].id = r.attach(plans[c].credit);
        ctx.check(logs[c].id == c, "a lane was not free at the start");
    }
    (void)r.step();  // every consumer attached before the first event

    sim::atomic<std::uint32_t> router_done{0};
    std::uint32_t producer_thread = 0;
    std::uint32_t router_thread = 0;
    auto crashed_consumer = [&] {
        return std::any_of(logs.begin(), logs.end(),
                           [&](const consumer_log& l) { return ctx.crashed(l.thread); });
    };

    producer_thread = ctx.spawn("producer", [&] {
        for (std::uint64_t v = 0; v < items;) {
            if (source.try_push(v)) {
                ++v;
            } else if (ctx.crashed(router_thread) ||
                       router_done.load(at("dst.router.done_poll_producer", mo::acquire)) != 0) {
                return;  // nobody will make room: the router died or gave up on a dead consumer
            } else {
                sim::pause();
            }
        }
    });

    router_thread = ctx.spawn("router", [&] {
        for (;;) {
            const auto s = r.stats();
            const std::uint64_t target = ctx.crashed(producer_thread) ? source.stats().pushed : items;
            if (s.routed >= target && s.pending == 0) break;
            const std::size_t n = r.step();
            ctx.check(n <= cfg.batch_max, "a step handled more than batch_max events");
            for (std::size_t c = 0; c < consumers; ++c) {
                const auto cs = r.consumer_stats(c);
                ctx.check_that(cs.lag <= plans[c].credit, [&] {
                    return "consumer " + std::to_string(c) + " has a backlog of " + std::to_string(cs.lag) +
                           " over its credit " + std::to_string(plans[c].credit);
                });
            }
            if (n == 0) {
                if (policy != credit_policy::drop && crashed_consumer()) break;  // parked on the dead
                sim::pause();
            }
        }
        router_done.store(1, at("dst.router.done", mo::release));
    });

    for (std::size_t c = 0; c < consumers; ++c) {
        logs[c].thread = ctx.spawn("consumer" + std::to_string(c), [&, c] {
            consumer_log& log = logs[c];
            const consumer_plan& plan = plans[c];
            auto record = [&](std::uint64_t v) {
                ctx.check_that(log.values.empty() || v > log.values.back(), [&] {
                    return "consumer " + std::to_string(c) + " got " + std::to_string(v) + " after " +
                           std::to_string(log.values.back());
                });
                log.values.push_back(v);
            };
            for (;;) {
                std::uint64_t v = 0;
                take_status st = take_status::empty;
                if (plan.batches && r.consume(
                                        log.id, [&](const std::uint64_t& x) { record(x); }, 2) != 0) {
                    st = take_status::taken;
                } else {
                    st = r.try_take(log.id, v);
                    if (st == take_status::taken) record(v);
                }
                if (st == take_status::taken) {
                    if (plan.delay_ns != 0) sim::sleep_ns(plan.delay_ns);
                    if (plan.stall_after != 0 && log.values.size() == plan.stall_after &&
                        plan.stall_ns != 0) {
                        sim::sleep_ns(plan.stall_ns);
                    }
                    continue;
                }
                if (st == take_status::detached) {
                    if (!plan.reattach) return;
                    ctx.check(r.reattach(log.id), "a detached consumer could not ask to re-attach");
                    for (bool last_look = false;; sim::pause()) {
                        const auto status = r.status(log.id);
                        if (status.state != consumer_state::reattaching) {
                            log.missed = status.missed;  // granted (and maybe detached again)
                            break;
                        }
                        if (last_look) return;  // the router finished without granting it
                        // A grant may come just before the router finishes: look once more.
                        last_look = router_done.load(at("dst.router.done_poll_reattach", mo::acquire)) != 0 ||
                                    ctx.crashed(router_thread);
                    }
                    continue;
                }
                if (router_done.load(at("dst.router.done_poll", mo::acquire)) != 0) {
                    while (r.try_take(log.id, v) == take_status::taken) record(v);
                    return;
                }
                if (ctx.crashed(router_thread)) return;
                sim::pause();
            }
        });
    }

    if (!ctx.run()) return;
    const bool any_crash = ctx.crashed(producer_thread) || ctx.crashed(router_thread) || crashed_consumer();
    if (any_crash) return;  // the safety checks ran as it went

    const auto s = r.stats();
    ctx.check(s.routed == items && s.pending == 0, "the router did not route every event");
    std::vector<std::uint64_t> all;
    for (std::size_t c = 0; c < consumers; ++c) {
        const auto cs = r.consumer_stats(c);
        const consumer_log& log = logs[c];
        ctx.check_that(log.values.size() == cs.delivered, [&] {
            return "consumer " + std::to_string(c) + " took " + std::to_string(log.values.size()) +
                   " of the " + std::to_string(cs.delivered) + " events delivered to it";
        });
        all.insert(all.end(), log.values.begin(), log.values.end());
        if (mode != router_mode::broadcast) continue;
        const bool detached_at_end = cs.state != consumer_state::attached;
        const std::uint64_t since_detach = detached_at_end ? s.routed - log.last_detach_routed : 0;
        ctx.check_that(cs.delivered + cs.drops_no_credit + log.missed + since_detach == s.routed, [&] {
            return "broadcast consumer " + std::to_string(c) + ": delivered " + std::to_string(cs.delivered) +
                   " + dropped " + std::to_string(cs.drops_no_credit) + " + missed " +
                   std::to_string(log.missed) + " + since its detach " + std::to_string(since_detach) +
                   " != routed " + std::to_string(s.routed);
        });
        if (policy == credit_policy::park) {
            ctx.check_that(log.values.size() == items, [&] {
                return "park lost events: consumer " + std::to_string(c) + " got " +
                       std::to_string(log.values.size()) + " of " + std::to_string(items);
            });
        }
    }
    if (mode == router_mode::work_queue) {
        std::sort(all.begin(), all.end());
        ctx.check(std::adjacent_find(all.begin(), all.end()) == all.end(),
                  "work_queue delivered an event twice");
        ctx.check_that(s.routed == s.delivered + s.dropped_no_credit + s.dropped_no_consumer, [&] {
            return "work_queue: routed " + std::to_string(s.routed) + " != delivered " +
                   std::to_string(s.delivered) + " + dropped " +
                   std::to_string(s.dropped_no_credit + s.dropped_no_consumer);
        });
        if (policy != credit_policy::drop) {
            ctx.check(all.size() == items, "work_queue lost events under park or detach");
        }
    }
}

void workload(run_context& ctx) {
    with_wait_strategy(ctx, [&]<template <class> class Wait>() { exercise<Wait>(ctx); });
}

const register_workload registration{workload_spec{
    "router",
    "producer -> router -> 1-3 consumers; broadcast/work_queue x drop/park/detach; slow, stalled, crashed "
    "consumers",
    &workload,
    {
        {canary_spec::kind::planted, "router.drop_uncounted",
         "a drop for lack of credit that no counter records"},
        {canary_spec::kind::planted, "router.park_gives_up",
         "a park that timed out skips the consumer: an event lost"},
        {canary_spec::kind::planted, "router.detach_without_threshold",
         "a consumer detached at its first exhaustion, before detach_after_ns"},
        {canary_spec::kind::planted, "router.credit_off_by_one",
         "one delivery more than the consumer's credit"},
        {canary_spec::kind::planted, "router.batch_credit_for_one",
         "a broadcast batch delivered with the credit for one event"},
        {canary_spec::kind::planted, "router.direct_room_plus_one",
         "the direct path moves a second event on the credit checked for one"},
        {canary_spec::kind::mutant, "router.K1.deliver",
         "the lane slot's stamp no longer publishes its value"},
        {canary_spec::kind::mutant, "router.K2.return",
         "the consumer's credit return no longer orders its read before the router's reuse"},
    },
    3000,
    std::uint64_t{1} << 21,
}};

}  // namespace
}  // namespace ringlab::dst
