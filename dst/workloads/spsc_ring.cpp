// dst/workloads/spsc_ring.cpp: one producer, one consumer, every API and wait strategy.
//
// The producer sends 0..items-1 through a drawn API (try_push, blocking push, batches,
// claim/publish); the consumer takes them through a drawn API and checks it sees exactly
// that sequence. With `shutdown=alert`, the producer alerts the ring when done and the
// consumer drains after its wait returns `alerted`: nothing may be lost. With `slip`, the
// consumer's blocking pop slips (spsc_options::slip, drawn distance, polls and run).
#include <algorithm>
#include <vector>

#include "dst/workload.hpp"
#include "dst/workloads/common.hpp"
#include "ringlab/spsc_ring.hpp"

namespace ringlab::dst {
namespace {

template <template <class> class Wait>
void exercise(run_context& ctx) {
    using ring_t = spsc_ring<std::uint64_t, Wait, sim>;
    const std::size_t capacity = ctx.knob_pick("capacity", {1, 2, 4, 8});
    const std::uint64_t items = ctx.knob("items", 1, 40);
    const auto push_with = static_cast<push_api>(ctx.knob("push_api", 0, 3));
    const auto pop_with = static_cast<pop_api>(ctx.knob("pop_api", 0, 3));
    const std::size_t batch = ctx.knob("batch", 1, 4);
    const bool alert_shutdown = ctx.knob_flag("shutdown_by_alert", 1, 3);
    const auto release_every = static_cast<std::uint32_t>(ctx.knob("release_every", 1, capacity));
    slip_options slip{};
    if (capacity > 2 && ctx.knob_flag("slip", 1, 2)) {
        slip.distance = static_cast<std::uint32_t>(ctx.knob("slip.distance", 2, capacity - 1));
        slip.polls = static_cast<std::uint32_t>(ctx.knob("slip.polls", 1, 4));
        slip.after = static_cast<std::uint32_t>(ctx.knob("slip.after", 2, 4));
    }
    ctx.expect_steps(items * 12 + 20);
    ring_t ring(capacity, sim_wait_config<Wait>(ctx), spsc_options{release_every, slip});

    ctx.invariant("backlog <= capacity", [&] { return ring.size_approx() <= capacity; });

    ctx.spawn("producer", [&] {
        std::uint64_t next = 0;
        while (next < items) {
            switch (push_with) {
                case push_api::try_push:
                    if (ring.try_push(next))
                        ++next;
                    else
                        sim::pause();
                    break;
                case push_api::blocking_push:
                    if (ring.push(next) == wait_result::ready) ++next;
                    break;
                case push_api::batch: {
                    std::uint64_t values[4];
                    const std::size_t n = std::min<std::uint64_t>(batch, items - next);
                    for (std::size_t i = 0; i < n; ++i) values[i] = next + i;
                    const std::size_t pushed = ring.try_push_batch(values, n);
                    next += pushed;
                    if (pushed == 0) sim::pause();
                    break;
                }
                case push_api::claim: {
                    auto c = ring.try_claim(std::min<std::uint64_t>(batch, items - next));
                    for (std::size_t i = 0; i < c.size(); ++i) c[i] = next + i;
                    ring.publish(c);
                    next += c.size();
                    if (c.empty()) sim::pause();
                    break;
                }
            }
        }
        if (alert_shutdown) ring.alert();
    });

    ctx.spawn("consumer", [&] {
        std::uint64_t expected = 0;
        auto take = [&](std::uint64_t v) {
            ctx.check_that(v == expected, [&] {
                return "consumer got " + std::to_string(v) + ", expected " + std::to_string(expected);
            });
            ++expected;
        };
        while (expected < items) {
            std::uint64_t v = 0;
            switch (pop_with) {
                case pop_api::try_pop:
                    if (ring.try_pop(v))
                        take(v);
                    else
                        sim::pause();
                    break;
                case pop_api::blocking_pop: {
                    const wait_result r = ring.pop(v);
                    if (r == wait_result::ready) take(v);
                    if (r == wait_result::alerted) {
                        while (ring.try_pop(v)) take(v);  // drain what was published before the alert
                        ctx.check_that(expected == items, [&] {
                            return "alerted with " + std::to_string(items - expected) + " items lost";
                        });
                    }
                    break;
                }
                case pop_api::batch: {
                    std::uint64_t out[4];
                    const std::size_t n = ring.try_pop_batch(out, batch);
                    for (std::size_t i = 0; i < n; ++i) take(out[i]);
                    if (n == 0) sim::pause();
                    break;
                }
                case pop_api::consume:
                    if (ring.consume([&](const std::uint64_t& x) { take(x); }, batch) == 0) sim::pause();
                    break;
            }
        }
    });

    if (!ctx.run()) return;
    const auto stats = ring.stats();
    ctx.check(stats.pushed == items && stats.popped == items, "counters disagree with the traffic");
    ctx.check(ring.size_approx() == 0, "ring not empty after the consumer took everything");
}

void workload(run_context& ctx) {
    with_wait_strategy(ctx, [&]<template <class> class Wait>() { exercise<Wait>(ctx); });
}

const register_workload registration{workload_spec{
    "spsc_ring",
    "1 producer, 1 consumer; every push/pop API and wait strategy; alert shutdown; slipping",
    &workload,
    {
        {canary_spec::kind::planted, "spsc_ring.full_off_by_one",
         "the producer overwrites the oldest unread slot of a full ring"},
        {canary_spec::kind::planted, "blocking_wait.sleep_without_recheck",
         "a waiter reads the futex word after its last check: a wake is lost"},
        {canary_spec::kind::planted, "slip.unbounded",
         "a slipping consumer waits for ever on a producer that stopped short of the slip distance"},
        {canary_spec::kind::mutant, "spsc_ring.E1.push", "the slot's stamp no longer publishes its value"},
        {canary_spec::kind::mutant, "spsc_ring.E2.release",
         "the consumer's tail no longer orders its read before the producer's reuse"},
    },
    4000,
}};

}  // namespace
}  // namespace ringlab::dst
