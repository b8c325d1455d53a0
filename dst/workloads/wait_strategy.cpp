// dst/workloads/wait_strategy.cpp: waiters, a signaller and an alerter on one strategy.
//
// A signaller publishes rounds 1..R of a counter (release store, then signal()), each after
// 0-5 early signals that wake parked waiters while the round is still missing; 1-3
// waiters each wait for every round in turn with wait_until(counter >= round). Every
// waiter must see every round (a lost wake-up leaves one parked for ever: a deadlock,
// which the scheduler reports as a liveness failure). With `alert`, an alerter writes a
// reason (plain data) and raises the alert part-way through: each waiter must return
// `alerted` (or see every round first) and then read the reason without a race, which is
// what the alert flag's release/acquire pair [A1]/[A1a] promises. With a timeout, a wait
// that returns `timed_out` must have found the round missing at a virtual time at or past
// its deadline: virtual time makes that check exact. A parking strategy makes no more
// wakes than its waiters asked for (plus the alert's). A lone blocking_wait waiter whose
// untimed wait asked for P wakes spent at least P * W + (P - 1) * min(W, M - W) in it
// (W = yield_ns, M = the larger of yield_max_ns and W): every park follows a window of at
// least W, and each futile wake either came at least that window after its park or
// doubled the next window. Early signals that each wake it soon after it parked must not
// make it park again after every yield_ns.
#include <algorithm>
#include <string>
#include <string_view>

#include "dst/workload.hpp"
#include "dst/workloads/common.hpp"

namespace ringlab::dst {
namespace {

template <template <class> class Wait>
void exercise(run_context& ctx) {
    using sync::at;
    namespace mo = sync::mo;
    const std::uint64_t waiters = ctx.knob("waiters", 1, 3);
    const std::uint64_t rounds = ctx.knob("rounds", 1, 10);
    const std::uint64_t gap = ctx.knob("signal_gap_steps", 0, 30);  // lets waiters reach the park
    // Signals before a round is published: they wake parked waiters whose condition is still
    // false, which must leave the parked count, wait again, and still see the round.
    const std::uint64_t early = ctx.knob("early_signals", 0, 5);
    const std::uint64_t early_gap_ns = ctx.knob("early_gap_ns", 0, 3000);  // after each early signal
    const bool alert = ctx.knob_flag("alert", 1, 3);
    const std::uint64_t alert_after = ctx.knob("alert_after_round", 0, rounds);
    const std::uint64_t timeout_ns =
        ctx.knob_flag("timed_waits", 1, 3) ? ctx.knob("timeout_ns", 50, 3000) : no_timeout;
    ctx.expect_steps(rounds * (waiters + 1) * 12 +
                     rounds * (gap + early * (early_gap_ns / 10 + waiters + 2)));
    typename Wait<sim>::config cfg = sim_wait_config<Wait>(ctx);
    // Half the blocking_wait runs yield longer than a park takes, so that early signals
    // wake a parked waiter sooner than its window and grow it.
    if constexpr (requires { cfg.yield_max_ns; }) {
        if (ctx.knob_flag("long_windows", 1, 2)) {
            cfg.yield_ns = ctx.knob("long_yield_ns", 400, 1500);
            cfg.yield_max_ns = ctx.knob("long_yield_max_ns", 0, 8000);
        }
    }
    Wait<sim> wait(cfg);
    // The least virtual time in which a wait asks for `requests` wakes (blocking_wait only).
    const auto least_ns = [&](std::uint64_t requests) {
        std::uint64_t total = 0;
        if constexpr (requires { cfg.yield_max_ns; }) {
            const std::uint64_t w = cfg.yield_ns;
            const std::uint64_t extra = std::min(w, std::max(w, cfg.yield_max_ns) - w);
            total = requests * w + (requests > 0 ? (requests - 1) * extra : 0);
        }
        return total;
    };
    const bool lone_untimed = waiters == 1 && !alert && timeout_ns == no_timeout;
    sim::atomic<std::uint64_t> published(0);
    sim::cell<std::uint64_t> reason;

    for (std::uint64_t w = 0; w < waiters; ++w) {
        ctx.spawn("waiter" + std::to_string(w), [&] {
            std::uint64_t round = 1;
            while (round <= rounds) {
                auto ready = [&] { return published.load(at("test.wait.published", mo::acquire)) >= round; };
                const std::uint64_t t0 = ctx.now_ns();
                std::uint64_t requests0 = 0;
                if constexpr (requires { wait.requests(); }) requests0 = wait.requests();
                const wait_result r = wait.wait_until(ready, timeout_ns);
                if (r == wait_result::ready) {
                    ctx.check(ready(), "wait returned ready while the round is not published");
                    if constexpr (requires { cfg.yield_max_ns; }) {
                        const std::uint64_t asked = wait.requests() - requests0;
                        const std::uint64_t took = ctx.now_ns() - t0;
                        ctx.check_that(!lone_untimed || least_ns(asked) <= took, [&] {
                            return "a wait asked for " + std::to_string(asked) + " wakes in " +
                                   std::to_string(took) + " ns; its yield windows and parks take at least " +
                                   std::to_string(least_ns(asked)) + " ns";
                        });
                    }
                    ++round;
                } else if (r == wait_result::alerted) {
                    ctx.check(alert, "alerted without an alert");
                    ctx.check(reason.load() == 42,
                              "alerted, but the reason written before the alert is not seen");
                    return;
                } else {
                    ctx.check(timeout_ns != no_timeout || Wait<sim>::name == std::string("timeout_blocking"),
                              "an untimed wait timed out");
                    const std::uint64_t limit = timeout_ns != no_timeout ? timeout_ns : 0;
                    ctx.check_that(ctx.now_ns() >= t0 + limit, [&] {
                        return "timed out after " + std::to_string(ctx.now_ns() - t0) + " ns of a " +
                               std::to_string(limit) + " ns timeout";
                    });
                }
            }
        });
    }
    ctx.spawn("signaller", [&] {
        for (std::uint64_t round = 1; round <= rounds; ++round) {
            for (std::uint64_t i = 0; i < gap; ++i) sim::pause();
            for (std::uint64_t i = 0; i < early; ++i) {
                wait.signal();
                const std::uint64_t until = ctx.now_ns() + early_gap_ns;
                do {
                    sim::pause();
                } while (ctx.now_ns() < until);
            }
            published.store(round, at("test.wait.publish", mo::release));
            wait.signal();
            if (alert && round == alert_after) return;
        }
    });
    if (alert) {
        ctx.spawn("alerter", [&] {
            reason.store(42);
            wait.alert();
        });
    }
    if (!ctx.run()) return;
    // A parking strategy makes a wake only for a request (one before each sleep) or the
    // alert: signals that come while a woken waiter gets back to its CPU make none.
    if constexpr (requires { wait.requests(); }) {
        const std::uint64_t allowed = wait.requests() + (alert ? 1 : 0);
        ctx.check_that(wait.wakes() <= allowed, [&] {
            return std::to_string(wait.wakes()) + " wakes for " + std::to_string(wait.requests()) +
                   " requests" + (alert ? " and an alert" : "");
        });
    }
}

void workload(run_context& ctx) {
    with_wait_strategy(ctx, [&]<template <class> class Wait>() { exercise<Wait>(ctx); });
}

const register_workload registration{workload_spec{
    "wait_strategy",
    "1-3 waiters, a signaller, an alerter; every strategy, timed and untimed waits",
    &workload,
    {
        {canary_spec::kind::planted, "blocking_wait.sleep_without_recheck",
         "a waiter reads the futex word after its last check: a wake is lost"},
        {canary_spec::kind::planted, "blocking_wait.asks_once",
         "a waiter woken too early sleeps again without asking for a wake: the next is lost"},
        {canary_spec::kind::planted, "blocking_wait.every_signal_wakes",
         "signals leave the request up: each makes a wake until the waiter runs"},
        {canary_spec::kind::planted, "blocking_wait.futile_wakes_keep_the_window",
         "a waiter woken with its condition false parks again after yield_ns every time"},
        {canary_spec::kind::mutant, "wait.A1.raise",
         "raising the alert no longer publishes what the alerter wrote before it"},
        {canary_spec::kind::mutant, "wait.A1a.poll",
         "a waiter that sees the alert no longer sees what the alerter wrote before it"},
    },
    4000,
}};

}  // namespace
}  // namespace ringlab::dst
