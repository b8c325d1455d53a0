// bench/harness.hpp: the measurement kernels every suite shares.
//
//   throughput   a producer (the benchmark thread, pinned to the first CPU of the plan)
//                sends `batch` values per iteration to a consumer (pinned to the second);
//                the iteration ends when the consumer acknowledges the batch's last value,
//                so the time covers delivery, not just enqueueing (manual timing).
//   round_trip   one value to a partner through one queue and back through another; one
//                iteration is one round trip.
//   both report  CPU time of the whole process per event (every thread, from getrusage),
//                the price of a wait strategy that a wall-clock rate hides.
//
// A queue is measured through a small adapter: try_push(u64) / try_pop(u64&), optionally
// push/pop that wait through the queue's own strategy. Values are never 0 (atomic_queue
// reserves 0).
#pragma once

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "ringlab/platform.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab::bench {

/// Which CPUs the two sides of a pair run on. Two threads on a machine with fewer CPUs
/// are still measured and marked oversubscribed.
struct cpu_pair {
    int first = 0;
    int second = 1;
    bool oversubscribed = false;
};

// Read before any benchmark pins the main thread.
inline const int process_cpus = available_cpus();

inline cpu_pair pair_plan() {
    const int cpus = available_cpus();
    if (cpus >= 2) return {0, 1, false};
    return {0, 0, true};
}

inline double process_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

inline void label_plan(benchmark::State& state, const cpu_pair& plan) {
    state.counters["oversubscribed"] = plan.oversubscribed ? 1 : 0;
}

/// Waits through the queue's own strategy when the adapter has one, else spins on try_*.
template <class Q>
void send(Q& q, std::uint64_t v) {
    if constexpr (requires { q.push(v); }) {
        while (q.push(v) != wait_result::ready) {
        }
    } else {
        while (!q.try_push(v)) spin_pause();
    }
}

template <class Q>
std::uint64_t receive(Q& q) {
    std::uint64_t v = 0;
    if constexpr (requires { q.pop(v); }) {
        while (q.pop(v) != wait_result::ready) {
        }
    } else {
        while (!q.try_pop(v)) spin_pause();
    }
    return v;
}

/// One-way throughput of `q` (built by `make`), free running: the producer sends `batch`
/// values per iteration and never waits for the consumer, except that the last iteration
/// ends only when the consumer has received every value. The queue stays full whenever
/// the consumer is the slower side, as in the peers' own benchmarks. (A consumer faster
/// than its producer is the paced one-way latency rows' subject.)
template <class Make>
void throughput(benchmark::State& state, Make make, std::uint64_t batch = 1 << 14) {
    if (!is_power_of_two(batch)) {
        state.SkipWithError("batch must be a power of two");
        return;
    }
    auto q = make();
    const cpu_pair plan = pair_plan();
    alignas(false_sharing_bytes) std::atomic<std::uint64_t> received{0};
    std::thread consumer([&] {
        (void)pin_current_thread(plan.second);
        for (;;) {
            const std::uint64_t v = receive(*q);
            if (v == ~std::uint64_t{0}) return;
            if ((v & (batch - 1)) == 0) received.store(v, std::memory_order_release);
        }
    });
    (void)pin_current_thread(plan.first);
    std::uint64_t next = 1;
    const double cpu0 = process_cpu_seconds();
    auto t_prev = std::chrono::steady_clock::now();
    for (auto _ : state) {
        const std::uint64_t end = next + batch;
        for (; next < end; ++next) send(*q, next);
        if (state.iterations() + 1 >= state.max_iterations) {
            while (received.load(std::memory_order_acquire) < end - 1) spin_pause();  // drain
        }
        const auto t = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t - t_prev).count());
        t_prev = t;
    }
    const double cpu = process_cpu_seconds() - cpu0;
    while (received.load(std::memory_order_acquire) < next - 1) spin_pause();
    send(*q, ~std::uint64_t{0});
    consumer.join();
    const auto events = static_cast<double>(state.iterations()) * static_cast<double>(batch);
    state.SetItemsProcessed(static_cast<std::int64_t>(events));
    state.counters["cpu_ns_per_event"] = events > 0 ? cpu * 1e9 / events : 0;
    label_plan(state, plan);
}

/// Round trip through a pair of queues built by `make`.
template <class Make>
void round_trip(benchmark::State& state, Make make) {
    auto ping = make();
    auto pong = make();
    const cpu_pair plan = pair_plan();
    std::thread partner([&] {
        (void)pin_current_thread(plan.second);
        for (;;) {
            const std::uint64_t v = receive(*ping);
            send(*pong, v);
            if (v == ~std::uint64_t{0}) return;
        }
    });
    (void)pin_current_thread(plan.first);
    std::uint64_t next = 1;
    const double cpu0 = process_cpu_seconds();
    for (auto _ : state) {
        send(*ping, next);
        const std::uint64_t back = receive(*pong);
        if (back != next) state.SkipWithError("round trip returned the wrong value");
        ++next;
    }
    const double cpu = process_cpu_seconds() - cpu0;
    send(*ping, ~std::uint64_t{0});
    (void)receive(*pong);
    partner.join();
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["cpu_ns_per_event"] =
        state.iterations() > 0 ? cpu * 1e9 / static_cast<double>(state.iterations()) : 0;
    label_plan(state, plan);
}

}  // namespace ringlab::bench
