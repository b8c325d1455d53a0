// bench/router.cpp: the router loop (fanout) with credits, under every wait strategy.
//
//   producer ──spsc──▶ router ──lanes──▶ consumers 1..3         throughput (fanout rows)
//   producer ──spsc──▶ router ──lane──▶ consumer                one_way, idle, batch_max
//   main ──spsc──▶ router ──lane──▶ partner ──spsc──▶ main      round_trip (router hop)
//
// Rows (pattern `router`, group `router`):
//   throughput/router/<wait>/consumers_N/mode_M/policy_P[/inline_1]
//        N consumers, M 0 broadcast / 1 work_queue, P 0 drop / 1 park / 2 detach; items per
//        second are events routed (broadcast delivers N times as many: `deliveries_per_second`).
//        Without inline: producer, router and N consumers on threads of their own (2 + N
//        threads: oversubscribed on a 2-core machine). inline_1: two threads, the producer
//        steps the router and one thread drains every lane.
//   one_way/router/<wait>/rate_R, idle/router/<wait>
//        1 -> 1 broadcast under park: the router on its own thread between two spsc hops
//   one_way/router/<wait>/inline_1/rate_R
//        the same on two threads: the producer steps the router after each push
//   round_trip[_dist]/router/<wait>/inline_I
//        I 1: the sender steps the router itself (caller-owned thread): the router's cost
//        per event without a third thread; I 0: the router on its own thread. Compare with
//        round_trip/spsc_ring/<wait> (the direct hop) measured in the same run.
//   throughput/router/busy_spin_wait/batch_max_B and one_way/.../batch_max_B/rate_1M
//        the batch_max trade-off: throughput against the latency tail
//   one_way/router/busy_spin_wait/policy_P/overload_1
//        overload: broadcast to a fast consumer (measured) and a slow one (2 us per event,
//        under the offered 1M/s): who drops, who waits, what the fast consumer's tail does;
//        counters dropped_no_credit, credit_waits, detaches
// The router thread is not pinned; rows with more threads than CPUs say `oversubscribed`.
#include <atomic>
#include <chrono>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "latency.hpp"
#include "ringlab/router.hpp"
#include "ringlab/spsc_ring.hpp"
#include "rows.hpp"

namespace ringlab::bench {
namespace {

using u64 = std::uint64_t;
constexpr std::size_t source_capacity = 65536;
constexpr std::size_t lane_capacity = 4096;

router_config bench_config(router_mode mode, credit_policy policy, std::size_t consumers,
                           std::uint32_t batch_max = 64) {
    router_config cfg;
    cfg.mode = mode;
    cfg.policy = policy;
    cfg.max_consumers = consumers;
    cfg.lane_capacity = lane_capacity;
    cfg.batch_max = batch_max;
    cfg.park_wait_ns = 100'000;
    cfg.detach_after_ns = 10'000'000;
    return cfg;
}

/// producer ──spsc──▶ router (own thread) ──lane 0──▶ consumer, behind the adapter
/// interface of harness.hpp; optionally a second, slow consumer on lane 1 (overload).
template <template <class> class Wait>
class router_pipe {
public:
    using source_t = spsc_ring<u64, Wait>;
    using router_t = router<source_t, Wait>;

    explicit router_pipe(router_config cfg, u64 slow_ns = 0)
        : source_(source_capacity), router_(source_, std::move(cfg)), id_(router_.attach(lane_capacity)) {
        if (slow_ns != 0) slow_id_ = router_.attach(64);
        (void)router_.step();
        thread_ = router_.spawn();
        if (slow_ns != 0) {
            slow_ = std::thread([this, slow_ns] {
                u64 v = 0;
                while (!stop_slow_.load(std::memory_order_acquire)) {
                    const take_status st = router_.take(slow_id_, v, 1'000'000);
                    if (st == take_status::detached) (void)router_.reattach(slow_id_);
                    if (st != take_status::taken) continue;
                    const u64 until = monotonic_ns() + slow_ns;
                    while (monotonic_ns() < until) spin_pause();
                }
            });
        }
    }
    ~router_pipe() {
        stop_slow_.store(true, std::memory_order_release);
        if (slow_.joinable()) slow_.join();
        router_.stop();
        thread_.join();
    }
    router_pipe(const router_pipe&) = delete;
    router_pipe& operator=(const router_pipe&) = delete;

    bool try_push(u64 v) { return source_.try_push(v); }
    bool try_pop(u64& v) {
        if (!take_or_reattach(v, false)) return false;
        if (v == stop_value) stopped_.store(true, std::memory_order_release);
        return true;
    }
    wait_result push(u64 v) {
        if (v != stop_value) return source_.push(v);
        // Under detach the consumer may miss a stop_value: send more until one arrives.
        while (!stopped_.load(std::memory_order_acquire)) {
            (void)source_.push(v);
            const u64 until = monotonic_ns() + 1'000'000;
            while (!stopped_.load(std::memory_order_acquire) && monotonic_ns() < until) spin_pause();
        }
        return wait_result::ready;
    }
    wait_result pop(u64& v) {
        if (!take_or_reattach(v, true)) return wait_result::timed_out;
        if (v == stop_value) stopped_.store(true, std::memory_order_release);
        return wait_result::ready;
    }
    [[nodiscard]] std::size_t footprint_bytes() const noexcept {
        return source_.footprint_bytes() + router_.footprint_bytes();
    }
    router_t& get() noexcept { return router_; }

private:
    /// A measured consumer that was detached (overload rows, or a preempted vCPU) re-attaches
    /// and goes on: the events it missed are missing samples, not a hang. `wait`: no timeout
    /// (a bounded wait reads the clock); stop_value ends every kernel.
    bool take_or_reattach(u64& v, bool wait) {
        const take_status st = wait ? router_.take(id_, v) : router_.try_take(id_, v);
        if (st == take_status::detached) (void)router_.reattach(id_);
        return st == take_status::taken;
    }

    source_t source_;
    router_t router_;
    typename router_t::consumer_id id_;
    typename router_t::consumer_id slow_id_ = router_t::no_consumer;
    std::thread thread_;
    std::thread slow_;
    std::atomic<bool> stop_slow_{false};
    std::atomic<bool> stopped_{false};  // the consumer took a stop_value
};

/// producer ──spsc──▶ router ──lane 0──▶ consumer on two threads: the producer steps the
/// router after each push (the caller-owned form), so a paced row measures the router's
/// latency without a third thread to schedule.
template <template <class> class Wait>
class router_inline_pipe {
public:
    using source_t = spsc_ring<u64, Wait>;
    using router_t = router<source_t, Wait>;

    explicit router_inline_pipe(router_config cfg)
        : source_(source_capacity), router_(source_, std::move(cfg)), id_(router_.attach(lane_capacity)) {
        (void)router_.step();
    }

    /// Pushes and routes: steps until the router holds nothing (a park that timed out
    /// steps again), so no event waits for a later push. The counters are read only after
    /// a step, off the event's way to the consumer.
    wait_result push(u64 v) {
        while (!source_.try_push(v)) (void)router_.step();
        ++sent_;
        do {
            (void)router_.step();
        } while (router_.stats().routed < sent_);
        return wait_result::ready;
    }
    wait_result pop(u64& v) {
        return router_.take(id_, v) == take_status::taken ? wait_result::ready : wait_result::timed_out;
    }
    [[nodiscard]] std::size_t footprint_bytes() const noexcept {
        return source_.footprint_bytes() + router_.footprint_bytes();
    }

private:
    source_t source_;
    router_t router_;
    typename router_t::consumer_id id_;
    u64 sent_ = 0;
};

/// The shared kernels label a pair of threads; a router_pipe adds the router's own thread.
void label_router_thread(benchmark::State& state) { label_plan(state, available_cpus() < 3, 3); }

void report_router(benchmark::State& state, const router_config& cfg, const auto& stats, double events) {
    state.counters["dropped_no_credit"] = static_cast<double>(stats.dropped_no_credit);
    state.counters["credit_waits"] = static_cast<double>(stats.credit_waits);
    state.counters["detaches"] = static_cast<double>(stats.detaches);
    state.counters["deliveries_per_event"] = events > 0 ? static_cast<double>(stats.delivered) / events : 0;
    state.counters["batch_max"] = cfg.batch_max;
}

/// Free-running fanout on two threads: the benchmark thread produces and steps the router
/// itself (caller-owned), one consumer thread drains every lane. What a 2-core machine can
/// measure without oversubscription: the router's own cost per event and per delivery.
/// The counters of a fanout row: `sent` events in, `cpu` process CPU seconds spent.
template <class Router, class Source>
void report_fanout(benchmark::State& state, const Router& r, const Source& source, const router_config& cfg, u64 sent,
                   double cpu) {
    const auto stats = r.stats();
    const auto events = static_cast<double>(sent);
    state.SetItemsProcessed(static_cast<std::int64_t>(sent));
    state.counters["deliveries_per_second"] =
        benchmark::Counter(static_cast<double>(stats.delivered), benchmark::Counter::kIsRate);
    state.counters["cpu_ns_per_event"] = events > 0 ? cpu * 1e9 / events : 0;
    state.counters["footprint_bytes"] = static_cast<double>(r.footprint_bytes() + source.footprint_bytes());
    report_router(state, cfg, stats, events);
}

template <template <class> class Wait>
void fanout_inline(benchmark::State& state, router_mode mode, credit_policy policy, int consumers) {
    using source_t = spsc_ring<u64, Wait>;
    using router_t = router<source_t, Wait>;
    constexpr u64 per_iteration = u64{1} << 14;
    constexpr u64 chunk = 64;
    const cpu_pair plan = pair_plan();
    const router_config cfg = bench_config(mode, policy, static_cast<std::size_t>(consumers));
    source_t source(source_capacity);
    router_t r(source, cfg);
    std::vector<typename router_t::consumer_id> ids;
    for (int c = 0; c < consumers; ++c) ids.push_back(r.attach(lane_capacity / 4));
    (void)r.step();
    // The drain gets what it reads in its loop by value or on a line of its own: the
    // producer's stack words change on every event.
    alignas(false_sharing_bytes) std::atomic<bool> stop{false};
    std::thread drain([&r, &stop, ids, cpu = plan.second] {
        (void)pin_current_thread(cpu);
        u64 sum = 0;
        while (!stop.load(std::memory_order_acquire)) {
            std::size_t n = 0;
            for (const auto id : ids) {
                n += r.consume(
                    id, [&](const u64& v) { sum += v; }, 256);
            }
            if (n != 0) continue;
            for (const auto id : ids) {
                if (r.status(id).state == consumer_state::detached) (void)r.reattach(id);
            }
            spin_pause();
        }
        benchmark::DoNotOptimize(sum);
    });
    (void)pin_current_thread(plan.first);
    u64 sent = 0;
    const double cpu0 = process_cpu_seconds();
    auto t_prev = std::chrono::steady_clock::now();
    for (auto _ : state) {
        for (u64 i = 0; i < per_iteration; i += chunk) {
            for (u64 k = 0; k < chunk; ++k) {
                while (!source.try_push(++sent)) (void)r.step();
            }
            while (r.step() != 0) {
            }
        }
        if (state.iterations() + 1 >= state.max_iterations) {
            while (r.stats().routed < sent) (void)r.step();
            for (const auto id : ids) {
                while (r.consumer_stats(id).lag != 0) spin_pause();
            }
        }
        const auto t = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t - t_prev).count());
        t_prev = t;
    }
    const double cpu = process_cpu_seconds() - cpu0;
    stop.store(true, std::memory_order_release);
    drain.join();
    report_fanout(state, r, source, cfg, sent, cpu);
    label_plan(state, plan);
}

/// Free-running fanout: the benchmark thread produces, the router and N consumers run on
/// threads of their own; the last iteration ends when everything routed was consumed.
template <template <class> class Wait>
void fanout_throughput(benchmark::State& state, router_mode mode, credit_policy policy, int consumers) {
    using source_t = spsc_ring<u64, Wait>;
    using router_t = router<source_t, Wait>;
    constexpr u64 per_iteration = u64{1} << 14;
    const thread_plan plan = plan_threads(2 + consumers);
    const router_config cfg = bench_config(mode, policy, static_cast<std::size_t>(consumers));
    source_t source(source_capacity);
    router_t r(source, cfg);
    std::vector<typename router_t::consumer_id> ids;
    for (int c = 0; c < consumers; ++c) ids.push_back(r.attach(lane_capacity / 4));
    (void)r.step();
    std::thread router_thread = r.spawn(plan.cpus[1]);
    // Threads get what they read in their loops by value or on lines of their own: the
    // producer's stack words change on every event.
    alignas(false_sharing_bytes) std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int c = 0; c < consumers; ++c) {
        threads.emplace_back([&r, &stop, id = ids[static_cast<std::size_t>(c)],
                              cpu = plan.cpus[static_cast<std::size_t>(c) + 2]] {
            (void)pin_current_thread(cpu);
            u64 sum = 0;
            while (!stop.load(std::memory_order_acquire)) {
                const std::size_t n = r.consume(
                    id, [&](const u64& v) { sum += v; }, 256);
                if (n == 0) {
                    u64 v = 0;
                    const take_status st = r.take(id, v, 100'000);
                    if (st == take_status::taken) sum += v;
                    if (st == take_status::detached) (void)r.reattach(id);
                }
            }
            benchmark::DoNotOptimize(sum);
        });
    }
    (void)pin_current_thread(plan.cpus[0]);
    u64 sent = 0;
    const double cpu0 = process_cpu_seconds();
    auto t_prev = std::chrono::steady_clock::now();
    for (auto _ : state) {
        for (u64 i = 0; i < per_iteration; ++i) {
            while (source.push(++sent) != wait_result::ready) {
            }
        }
        if (state.iterations() + 1 >= state.max_iterations) {
            while (r.stats().routed < sent) spin_pause();  // drain: every event routed ...
            for (const auto id : ids) {
                while (r.consumer_stats(id).lag != 0) spin_pause();  // ... and consumed
            }
        }
        const auto t = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t - t_prev).count());
        t_prev = t;
    }
    const double cpu = process_cpu_seconds() - cpu0;
    stop.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
    r.stop();
    router_thread.join();
    report_fanout(state, r, source, cfg, sent, cpu);
    label_plan(state, plan.oversubscribed, 2 + consumers);
}

/// main ──spsc──▶ router ──lane──▶ partner ──spsc──▶ main. `inline_step`: main steps the
/// router after each send (two threads); otherwise the router runs on a thread of its own.
template <template <class> class Wait>
void router_round_trip(benchmark::State& state, bool inline_step, bool timed) {
    using source_t = spsc_ring<u64, Wait>;
    using router_t = router<source_t, Wait>;
    const tsc_clock& clock = tsc_clock::get();
    const router_config cfg = bench_config(router_mode::broadcast, credit_policy::park, 1, 1);
    source_t ping(1024);
    source_t pong(1024);
    router_t r(ping, cfg);
    const auto id = r.attach(64);
    (void)r.step();
    const cpu_pair plan = pair_plan();
    std::thread router_thread;
    if (!inline_step) router_thread = r.spawn();
    // `id` by value: the partner reads it on every take, and main's loop writes the stack
    // words beside it (a line transfer per round trip when they share a line).
    std::thread partner([&, id] {
        (void)pin_current_thread(plan.second);
        for (;;) {
            u64 v = 0;
            if (r.take(id, v) != take_status::taken) continue;  // no timeout: no clock reads
            while (pong.push(v) != wait_result::ready) {
            }
            if (v == stop_value) return;
        }
    });
    (void)pin_current_thread(plan.first);
    latency_histogram hist;
    u64 next = 1;
    u64 before = tsc_clock::now();
    for (auto _ : state) {
        while (ping.push(next) != wait_result::ready) {
        }
        if (inline_step) (void)r.step();
        u64 back = 0;
        while (pong.pop(back) != wait_result::ready) {
        }
        if (back != next) state.SkipWithError("round trip returned the wrong value");
        if (timed) {
            const u64 now = tsc_clock::now();
            hist.record(clock.to_ns(now - before));
            before = now;
        }
        ++next;
    }
    while (ping.push(stop_value) != wait_result::ready) {
    }
    if (inline_step) {
        while (r.step() == 0) {
        }
    }
    u64 last = 0;
    while (pong.pop(last) != wait_result::ready) {
    }
    partner.join();
    r.stop();
    if (router_thread.joinable()) router_thread.join();
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    if (timed) report_histogram(state, hist);
    state.counters["footprint_bytes"] = static_cast<double>(r.footprint_bytes());
    label_plan(state, !inline_step && available_cpus() < 3, inline_step ? 2 : 3);
}

/// Overload: a paced producer at 1M/s, a fast measured consumer and a slow one (2 us per
/// event) on one broadcast router, under `policy`.
void overload(benchmark::State& state, credit_policy policy) {
    router_config cfg = bench_config(router_mode::broadcast, policy, 2);
    cfg.detach_after_ns = 200'000;
    router_pipe<busy_spin_wait> q(cfg, 2'000);
    const cpu_pair plan = pair_plan();
    latency_histogram hist;
    const one_way_result res = measure_one_way(q, plan, 1e6, hist, [&] { return state.KeepRunning(); });
    const auto events = static_cast<double>(res.events);
    state.SetItemsProcessed(static_cast<std::int64_t>(res.events));
    report_histogram(state, hist);
    state.counters["offered_rate"] = 1e6;
    state.counters["achieved_rate"] = res.seconds > 0 ? events / res.seconds : 0;
    state.counters["late_fraction"] =
        res.ticks ? static_cast<double>(res.late_ticks) / static_cast<double>(res.ticks) : 0;
    report_router(state, cfg, q.get().stats(), events);
    label_plan(state, true, 4);
}

}  // namespace

RINGLAB_BENCH_ROWS(router_rows) {
    for_each_wait([]<template <class> class Wait>(const char* wait) {
        const row_base base{"router", wait, "router"};
        for (const int consumers : {1, 2, 3}) {
            for (const router_mode mode : {router_mode::broadcast, router_mode::work_queue}) {
                for (const credit_policy policy :
                     {credit_policy::drop, credit_policy::park, credit_policy::detach}) {
                    row_spec spec = make_spec(base, row_kind::throughput,
                                              {{"consumers", static_cast<u64>(consumers)},
                                               {"mode", static_cast<u64>(mode)},
                                               {"policy", static_cast<u64>(policy)}});
                    spec.threads = 2 + consumers;
                    // The default run sweeps every consumer count, mode and policy under
                    // busy spin, and samples the other strategies at two consumers, Park.
                    spec.full_only = std::string_view(wait) != "busy_spin_wait" &&
                                     (consumers != 2 || policy != credit_policy::park);
                    add_row(spec, [consumers, mode, policy](benchmark::State& s) {
                        fanout_throughput<Wait>(s, mode, policy, consumers);
                    });
                    row_spec two = spec;
                    two.knobs.push_back({"inline", 1});
                    two.threads = 2;
                    add_row(two, [consumers, mode, policy](benchmark::State& s) {
                        fanout_inline<Wait>(s, mode, policy, consumers);
                    });
                }
            }
        }
        const auto pipe = [] {
            return std::make_unique<router_pipe<Wait>>(
                bench_config(router_mode::broadcast, credit_policy::park, 1));
        };
        const auto inline_pipe = [] {
            return std::make_unique<router_inline_pipe<Wait>>(
                bench_config(router_mode::broadcast, credit_policy::park, 1));
        };
        // Paced rows are the slowest: the default run keeps busy spin and blocking.
        const bool paced_full_only =
            std::string_view(wait) != "busy_spin_wait" && std::string_view(wait) != "blocking_wait";
        for (const u64 rate : offered_rates) {
            row_spec spec = make_spec(base, row_kind::one_way, {{"rate", rate}});
            spec.threads = 3;
            spec.full_only = paced_full_only;
            add_row(spec, [pipe, rate](benchmark::State& s) {
                one_way(s, pipe, static_cast<double>(rate));
                label_router_thread(s);
            });
            row_spec two = make_spec(base, row_kind::one_way, {{"inline", 1}, {"rate", rate}});
            two.full_only = paced_full_only;
            add_row(two, [inline_pipe, rate](benchmark::State& s) {
                one_way(s, inline_pipe, static_cast<double>(rate));
            });
        }
        row_spec idle_spec = make_spec(base, row_kind::idle);
        idle_spec.threads = 3;
        add_row(idle_spec, [pipe](benchmark::State& s) {
            idle(s, pipe);
            label_router_thread(s);
        });
        for (const u64 inline_step : {u64{1}, u64{0}}) {
            row_spec rt = make_spec(base, row_kind::round_trip, {{"inline", inline_step}});
            rt.threads = inline_step != 0 ? 2 : 3;
            add_row(rt, [inline_step](benchmark::State& s) {
                router_round_trip<Wait>(s, inline_step != 0, false);
            });
            row_spec dist = make_spec(base, row_kind::round_trip_dist, {{"inline", inline_step}});
            dist.threads = rt.threads;
            add_row(dist, [inline_step](benchmark::State& s) {
                router_round_trip<Wait>(s, inline_step != 0, true);
            });
        }
    });

    const row_base busy{"router", "busy_spin_wait", "router"};
    for (const u64 batch_max : {u64{1}, u64{4}, u64{16}, u64{64}, u64{256}}) {
        const auto make = [batch_max] {
            return std::make_unique<router_pipe<busy_spin_wait>>(bench_config(
                router_mode::broadcast, credit_policy::park, 1, static_cast<std::uint32_t>(batch_max)));
        };
        row_spec tp = make_spec(busy, row_kind::throughput, {{"batch_max", batch_max}});
        tp.threads = 3;
        add_row(tp, [make](benchmark::State& s) {
            throughput(s, make);
            label_router_thread(s);
        });
        row_spec ow = make_spec(busy, row_kind::one_way, {{"batch_max", batch_max}, {"rate", 1'000'000}});
        ow.threads = 3;
        add_row(ow, [make](benchmark::State& s) {
            one_way(s, make, 1e6);
            label_router_thread(s);
        });
    }
    for (const credit_policy policy : {credit_policy::drop, credit_policy::park, credit_policy::detach}) {
        row_spec spec =
            make_spec(busy, row_kind::one_way, {{"policy", static_cast<u64>(policy)}, {"overload", 1}});
        spec.threads = 4;
        add_row(spec, [policy](benchmark::State& s) { overload(s, policy); });
    }
}

}  // namespace ringlab::bench
