// dst/workloads/mpsc_ring.cpp: 2-3 producers, one consumer.
//
// Each producer sends (producer << 32 | k) for k in [0, items); the consumer checks that it
// sees every value exactly once and each producer's values in order.
#include <algorithm>
#include <vector>

#include "dst/workload.hpp"
#include "dst/workloads/common.hpp"
#include "ringlab/mpsc_ring.hpp"

namespace ringlab::dst {
namespace {

template <template <class> class Wait>
void exercise(run_context& ctx) {
    using ring_t = mpsc_ring<std::uint64_t, Wait, sim>;
    const std::size_t capacity = ctx.knob_pick("capacity", {1, 2, 4, 8});
    const std::uint64_t producers = ctx.knob("producers", 2, 3);
    const std::uint64_t items = ctx.knob("items", 1, 16);
    const auto push_with = static_cast<push_api>(ctx.knob("push_api", 0, 3));
    const auto pop_with = static_cast<pop_api>(ctx.knob("pop_api", 0, 3));
    const std::size_t batch = ctx.knob("batch", 1, 4);
    ctx.expect_steps(producers * items * 8 + 20);
    ring_t ring(capacity, sim_wait_config<Wait>(ctx));

    for (std::uint64_t p = 0; p < producers; ++p) {
        ctx.spawn("producer" + std::to_string(p), [&, p] {
            std::uint64_t next = 0;
            while (next < items) {
                const std::uint64_t base = p << 32;
                switch (push_with) {
                    case push_api::try_push:
                        if (ring.try_push(base | next))
                            ++next;
                        else
                            sim::pause();
                        break;
                    case push_api::blocking_push:
                        if (ring.push(base | next) == wait_result::ready) ++next;
                        break;
                    case push_api::batch: {
                        std::uint64_t values[4];
                        const std::size_t n = std::min<std::uint64_t>(batch, items - next);
                        for (std::size_t i = 0; i < n; ++i) values[i] = base | (next + i);
                        const std::size_t pushed = ring.try_push_batch(values, n);
                        next += pushed;
                        if (pushed == 0) sim::pause();
                        break;
                    }
                    case push_api::claim: {
                        auto c = ring.try_claim(std::min<std::uint64_t>(batch, items - next));
                        for (std::size_t i = 0; i < c.size(); ++i) c[i] = base | (next + i);
                        ring.publish(c);
                        next += c.size();
                        if (c.empty()) sim::pause();
                        break;
                    }
                }
            }
        });
    }

    ctx.spawn("consumer", [&] {
        std::vector<std::uint64_t> next_of(producers, 0);
        std::uint64_t total = 0;
        auto take = [&](std::uint64_t v) {
            const std::uint64_t p = v >> 32;
            const std::uint64_t k = v & 0xffffffffu;
            ctx.check_that(p < producers && k == next_of[p], [&] {
                return "consumer got producer " + std::to_string(p) + " item " + std::to_string(k) +
                       ", expected item " + (p < producers ? std::to_string(next_of[p]) : "-");
            });
            ++next_of[p];
            ++total;
        };
        while (total < producers * items) {
            std::uint64_t v = 0;
            switch (pop_with) {
                case pop_api::try_pop:
                    if (ring.try_pop(v))
                        take(v);
                    else
                        sim::pause();
                    break;
                case pop_api::blocking_pop:
                    if (ring.pop(v) == wait_result::ready) take(v);
                    break;
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
    ctx.check(stats.claimed == producers * items && stats.popped == producers * items,
              "counters disagree with the traffic");
}

void workload(run_context& ctx) {
    with_wait_strategy(ctx, [&]<template <class> class Wait>() { exercise<Wait>(ctx); });
}

const register_workload registration{workload_spec{
    "mpsc_ring",
    "2-3 producers, 1 consumer; every push/pop API and wait strategy",
    &workload,
    {
        {canary_spec::kind::planted, "mpsc_ring.claim_full_slot",
         "a producer claims a slot that still holds an unread value"},
        {canary_spec::kind::planted, "blocking_wait.sleep_without_recheck",
         "a waiter reads the futex word after its last check: a wake is lost"},
        {canary_spec::kind::mutant, "mpsc_ring.E1.publish", "the slot's turn no longer publishes its value"},
        {canary_spec::kind::mutant, "mpsc_ring.E2.free",
         "freeing a slot no longer orders the consumer's read before the next write"},
    },
    4000,
}};

}  // namespace
}  // namespace ringlab::dst
