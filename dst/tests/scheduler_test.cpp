// dst/tests/scheduler_test.cpp: the scheduler's own promises.
#include <gtest/gtest.h>

#include "dst/runner.hpp"
#include "dst/scheduler.hpp"
#include "dst/token.hpp"
#include "ringlab/sync/sim.hpp"

namespace ringlab::dst {
namespace {

using sim = sync::sim;
using sync::at;
namespace mo = sync::mo;

run_options with_seed(std::uint64_t seed, strategy_kind k = strategy_kind::random_walk) {
    run_options o;
    o.seed = seed;
    o.strategy = k;
    return o;
}

const workload_spec& spsc() {
    const workload_spec* w = find_workload("spsc_ring");
    EXPECT_NE(w, nullptr);
    return *w;
}

TEST(dst_scheduler, the_same_seed_gives_the_same_trace_hash) {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        for (const auto k :
             {strategy_kind::random_walk, strategy_kind::pct, strategy_kind::preemption_bound}) {
            const run_result a = run_once(spsc().body, with_seed(seed, k));
            const run_result b = run_once(spsc().body, with_seed(seed, k));
            ASSERT_EQ(a.kind, verdict::pass) << a.message;
            ASSERT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
            ASSERT_EQ(a.steps, b.steps);
            ASSERT_EQ(a.schedule, b.schedule);
        }
    }
}

TEST(dst_scheduler, different_strategies_give_different_schedules) {
    int differ = 0;
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        const auto r = run_once(spsc().body, with_seed(seed, strategy_kind::random_walk));
        const auto p = run_once(spsc().body, with_seed(seed, strategy_kind::pct));
        const auto b = run_once(spsc().body, with_seed(seed, strategy_kind::preemption_bound));
        differ += (r.schedule != p.schedule) + (p.schedule != b.schedule);
    }
    EXPECT_GT(differ, 80);
}

// A shrunk token replays a run from its recorded switches: replaying all of them must give
// the same run. The hard cases are choices within one step: threads that sleep for the same
// time and wake together (the one that slept last may run on without a switch), and a
// thread that finishes right after it was picked.
TEST(dst_scheduler, the_recorded_schedule_replays_the_same_run) {
    auto sleepers = [](run_context& ctx) {
        auto count = std::make_shared<sim::atomic<int>>(0);
        for (int t = 0; t < 3; ++t) {
            ctx.spawn("sleeper", [count, t] {
                for (int i = 0; i < 20 + t; ++i) {
                    sim::sleep_ns(1'000);
                    count->fetch_add(1, at("test.sleepers.count", mo::relaxed));
                }
            });
        }
        ctx.run();
    };
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        for (const auto k :
             {strategy_kind::random_walk, strategy_kind::pct, strategy_kind::preemption_bound}) {
            const run_result a = run_once(sleepers, with_seed(seed, k));
            run_options forced = with_seed(seed, k);
            forced.forced = a.schedule;
            const run_result b = run_once(sleepers, forced);
            ASSERT_EQ(a.kind, verdict::pass) << a.message;
            ASSERT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed << ", strategy " << to_string(k);
            const run_result c = run_once(spsc().body, with_seed(seed, k));
            forced.forced = c.schedule;
            ASSERT_EQ(c.trace_hash, run_once(spsc().body, forced).trace_hash) << "spsc_ring, seed " << seed;
        }
    }
}

TEST(dst_scheduler, virtual_time_is_exact) {
    run_options o = with_seed(7);
    o.faults = false;
    std::uint64_t woke_at = 0;
    std::uint64_t steps_before = 0;
    const run_result r = run_once(
        [&](run_context& ctx) {
            ctx.spawn("sleeper", [&] {
                sim::sleep_ns(1'000'000);
                woke_at = sim::now_ns();
            });
            ctx.run();
            steps_before = 0;
        },
        o);
    ASSERT_EQ(r.kind, verdict::pass) << r.message;
    // Two scheduling points (sleep, now), 10 virtual ns each, and the sleep itself.
    EXPECT_EQ(woke_at, 1'000'000u + 2 * o.step_ns);
    EXPECT_EQ(r.virtual_ns, woke_at);
}

TEST(dst_scheduler, a_timed_futex_wait_times_out_at_its_deadline) {
    run_options o = with_seed(3);
    o.faults = false;
    sync::futex_status status = sync::futex_status::woken;
    std::uint64_t at_ns = 0;
    const run_result r = run_once(
        [&](run_context& ctx) {
            auto word = std::make_shared<sim::futex_word>(0);
            ctx.spawn("waiter", [&, word] {
                status = sim::futex_wait(*word, 0, 5'000);
                at_ns = sim::now_ns();
            });
            ctx.run();
        },
        o);
    ASSERT_EQ(r.kind, verdict::pass) << r.message;
    EXPECT_EQ(status, sync::futex_status::timed_out);
    EXPECT_EQ(at_ns, 5'000u + 2 * o.step_ns);
}

TEST(dst_scheduler, reports_a_deadlock_as_a_liveness_failure) {
    const run_result r = run_once(
        [](run_context& ctx) {
            auto word = std::make_shared<sim::futex_word>(0);
            ctx.spawn("sleeper", [word] { (void)sim::futex_wait(*word, 0); });
            ctx.run();
        },
        with_seed(1));
    EXPECT_EQ(r.kind, verdict::liveness);
    EXPECT_NE(r.message.find("deadlock"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("sleeper"), std::string::npos) << r.message;
}

TEST(dst_scheduler, reports_a_livelock) {
    const run_result r = run_once(
        [](run_context& ctx) {
            auto flag = std::make_shared<sim::atomic<int>>(0);
            for (int i = 0; i < 2; ++i) {
                ctx.spawn("spinner", [flag] {
                    while (flag->load(at("test.spin", mo::acquire)) == 0) sim::pause();
                });
            }
            ctx.run();
        },
        with_seed(1));
    EXPECT_EQ(r.kind, verdict::liveness);
    EXPECT_NE(r.message.find("livelock"), std::string::npos) << r.message;
}

/// Message passing through `flag` with the given orders; the payload is a plain cell.
run_result message_passing(std::memory_order store_order, std::memory_order load_order, bool fences,
                           std::uint64_t seed) {
    return run_once(
        [=](run_context& ctx) {
            auto payload = std::make_shared<sim::cell<int>>();
            auto flag = std::make_shared<sim::atomic<int>>(0);
            ctx.spawn("writer", [=] {
                payload->store(42);
                if (fences) sim::fence(at("test.mp.release_fence", mo::release));
                flag->store(1, sync::mo_site{store_order, "test.mp.flag", std::source_location::current()});
            });
            ctx.spawn("reader", [=] {
                while (flag->load(
                           sync::mo_site{load_order, "test.mp.poll", std::source_location::current()}) == 0) {
                    sim::pause();
                }
                if (fences) sim::fence(at("test.mp.acquire_fence", mo::acquire));
                (void)payload->load();
            });
            ctx.run();
        },
        with_seed(seed));
}

TEST(dst_happens_before, release_acquire_orders_the_payload) {
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        const run_result r = message_passing(mo::release, mo::acquire, false, seed);
        ASSERT_EQ(r.kind, verdict::pass) << r.message;
    }
}

TEST(dst_happens_before, fences_order_relaxed_accesses) {
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        const run_result r = message_passing(mo::relaxed, mo::relaxed, true, seed);
        ASSERT_EQ(r.kind, verdict::pass) << r.message;
    }
}

TEST(dst_happens_before, a_relaxed_flag_is_a_data_race) {
    for (const auto& [store, load] :
         {std::pair{mo::relaxed, mo::acquire}, std::pair{mo::release, mo::relaxed}}) {
        const run_result r = message_passing(store, load, false, 1);
        EXPECT_EQ(r.kind, verdict::correctness);
        EXPECT_NE(r.message.find("data race"), std::string::npos) << r.message;
    }
}

TEST(dst_token, round_trips_every_field) {
    replay_token t;
    t.workload = "spsc_ring";
    t.strategy = strategy_kind::pct;
    t.strategy_param = 3;
    t.seed = 0x1234abcd5678ef90ULL;
    t.canary = "spsc_ring.full_off_by_one";
    t.mutant = "spsc_ring.E1.push:release";
    t.schedule = std::vector<schedule_entry>{{0, 1}, {17, 2}, {300, 1}, {70'000, 3}};
    t.trace_hash = 0xfeedfacecafebeefULL;
    std::string error;
    const auto back = decode(encode(t), error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->workload, t.workload);
    EXPECT_EQ(back->strategy, t.strategy);
    EXPECT_EQ(back->strategy_param, 3u);
    EXPECT_EQ(back->seed, t.seed);
    EXPECT_EQ(back->canary, t.canary);
    EXPECT_EQ(back->mutant, t.mutant);
    EXPECT_EQ(back->schedule, t.schedule);
    EXPECT_EQ(back->trace_hash, t.trace_hash);
    EXPECT_FALSE(decode("spsc_ring~bogus~00", error));
    EXPECT_FALSE(decode("x", error));
}

TEST(dst_token, carries_its_format_and_refuses_a_later_one) {
    replay_token t;
    t.workload = "spsc_ring";
    t.seed = 7;
    const std::string text = encode(t);
    EXPECT_EQ(text, "spsc_ring~random~0000000000000007~v" + std::to_string(token_format));
    std::string error;
    // A token printed before the field existed is format 1.
    const auto old = decode("spsc_ring~random~0000000000000007", error);
    ASSERT_TRUE(old) << error;
    EXPECT_EQ(old->seed, 7u);
    const std::string later = "spsc_ring~random~0000000000000007~v" + std::to_string(token_format + 1);
    EXPECT_FALSE(decode(later, error));
    EXPECT_NE(error.find("this build reads format " + std::to_string(token_format)), std::string::npos)
        << error;
    EXPECT_FALSE(decode("spsc_ring~random~0000000000000007~v", error));
    EXPECT_NE(error.find("bad token format"), std::string::npos) << error;
    EXPECT_FALSE(decode("spsc_ring~random~0000000000000007~vx", error));
}

TEST(dst_token, parses_decimal_hex_and_commit_seeds) {
    EXPECT_EQ(parse_seed("42"), 42u);
    EXPECT_EQ(parse_seed("0x2a"), 42u);
    EXPECT_TRUE(parse_seed("a5621a0c1d2e3f405162738495a6b7c8d9e0f102"));
    EXPECT_FALSE(parse_seed("12x"));
    EXPECT_FALSE(parse_seed("99999999999999999999999"));
}

TEST(dst_runner, shrinks_a_failure_and_replays_both_tokens_identically) {
    run_request r;
    r.workload = &spsc();
    r.canary = "spsc_ring.full_off_by_one";
    run_result failing;
    for (r.seed = 1; r.seed < 200; ++r.seed) {
        assign_strategy(r, *parse_strategy_choice("random"));
        failing = execute(r);
        if (failing.kind != verdict::pass) break;
    }
    ASSERT_NE(failing.kind, verdict::pass) << "the planted bug was not found";
    const failure_report rep = investigate(r, failing);
    EXPECT_TRUE(rep.replay_matches);
    EXPECT_LE(rep.switches_after, rep.switches_before);
    std::string error;
    const auto token = decode(rep.shrunk_token, error);
    ASSERT_TRUE(token) << error;
    const run_result again = execute(request_of(*token, error));
    EXPECT_EQ(again.kind, failing.kind);
    EXPECT_EQ(again.message, failing.message);
    EXPECT_EQ(again.trace_hash, *token->trace_hash);
}

TEST(dst_faults, a_crashed_thread_never_runs_again) {
    int crashed_runs = 0;
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        int progress = 0;
        std::uint32_t id = 0;
        bool crashed = false;
        run_options o = with_seed(seed);
        const run_result r = run_once(
            [&](run_context& ctx) {
                ctx.allow_crashes();
                ctx.expect_steps(100);
                auto counter = std::make_shared<sim::atomic<int>>(0);
                id = ctx.spawn("victim", [&, counter] {
                    for (int i = 0; i < 100; ++i) {
                        counter->fetch_add(1, at("test.crash.count", mo::relaxed));
                        ++progress;
                    }
                });
                ctx.run();
                crashed = ctx.crashed(id);
            },
            o);
        ASSERT_EQ(r.kind, verdict::pass) << r.message;
        if (crashed) {
            ++crashed_runs;
            EXPECT_LT(progress, 100);
        } else {
            EXPECT_EQ(progress, 100);
        }
    }
    EXPECT_GT(crashed_runs, 10);
}

TEST(dst_invariants, a_broken_invariant_fails_at_the_step_that_broke_it) {
    // Two threads move a token between two counters; the invariant is that their sum is
    // one. The correct move keeps it (an exchange); the broken one has a window.
    for (const bool broken : {false, true}) {
        bool failed = false;
        for (std::uint64_t seed = 1; seed <= 50 && !failed; ++seed) {
            const run_result r = run_once(
                [&](run_context& ctx) {
                    sim::atomic<int> a(1);
                    sim::atomic<int> b(0);
                    ctx.invariant("a + b == 1", [&] {
                        return a.load(at("test.inv.a", mo::relaxed)) +
                                   b.load(at("test.inv.b", mo::relaxed)) ==
                               1;
                    });
                    ctx.spawn("mover", [&] {
                        for (int i = 0; i < 3; ++i) {
                            if (broken) {
                                a.store(0, at("test.inv.a0", mo::relaxed));
                                b.store(1, at("test.inv.b1", mo::relaxed));
                                b.store(0, at("test.inv.b0", mo::relaxed));
                                a.store(1, at("test.inv.a1", mo::relaxed));
                            } else {
                                sim::pause();
                            }
                        }
                    });
                    ctx.spawn("bystander", [] { sim::pause(); });
                    ctx.run();
                },
                with_seed(seed));
            if (r.kind != verdict::pass) {
                failed = true;
                EXPECT_EQ(r.kind, verdict::correctness);
                EXPECT_NE(r.message.find("invariant 'a + b == 1' broken"), std::string::npos) << r.message;
                EXPECT_NE(r.message.find("mover"), std::string::npos) << r.message;
            }
        }
        EXPECT_EQ(failed, broken);
    }
}

TEST(dst_invariants, an_invariant_catches_the_spsc_overfill_canary) {
    // The spsc_ring workload's backlog invariant: with the off-by-one full check planted,
    // the first seeds already fail on it (or on the value check that follows).
    run_request r;
    r.workload = &spsc();
    r.canary = "spsc_ring.full_off_by_one";
    bool invariant_seen = false;
    for (std::uint64_t seed = 1; seed <= 200 && !invariant_seen; ++seed) {
        r.seed = seed;
        const run_result result = execute(r);
        invariant_seen = result.message.find("invariant 'backlog <= capacity'") != std::string::npos;
    }
    EXPECT_TRUE(invariant_seen);
}

}  // namespace
}  // namespace ringlab::dst
