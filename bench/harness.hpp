// bench/harness.hpp: the throughput and round-trip kernels every suite shares.
//
//   throughput   free running: the producer (the benchmark thread, first CPU of the plan)
//                sends `events_per_iteration` values per iteration and never waits for the
//                consumer (second CPU), except that the last iteration ends only when the
//                consumer has received everything (manual time). A consumer that catches up
//                with its producer polls the very line being written and both slow down
//                about ten times (the bistability in reports/METHODOLOGY.md); free running
//                keeps the measurement on the full-ring side, as the peers' own benchmarks do.
//   throughput_producers
//                the same with several producers (MPSC): rows needing more threads than
//                CPUs run anyway and say `oversubscribed`.
//   round_trip   one value to a partner through one queue and back through another; one
//                iteration is one round trip, and real_time is its mean.
//   all three report CPU time of the whole process per event (getrusage: the price of a
//                wait strategy that a rate hides), the queue's memory footprint, and whether
//                the row ran more threads than CPUs.
// Latency distributions (paced one-way, timed round trips) and the idle price live in
// latency.hpp.
//
// A queue is measured through a small adapter: try_push(u64) / try_pop(u64&); optionally
// push/pop that wait through the queue's own strategy, and try_push_batch/try_pop_batch
// (used by the batch rows). Values are never 0 (atomic_queue reserves 0) and ~0 means stop.
#pragma once

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ringlab/platform.hpp"
#include "ringlab/wait_strategy.hpp"
#include "topology.hpp"

namespace ringlab::bench {

inline constexpr std::uint64_t stop_value = ~std::uint64_t{0};

/// The slip distance of the rows that measure temporal slipping (detail/slip.hpp): a few
/// hundred cache lines of 8-byte events, well below the rings' 65,536 slots and the
/// stages' largest batch.
inline constexpr std::uint32_t slip_distance = 2048;

/// Which CPUs the two sides of a pair run on (the first two threads of a plan).
struct cpu_pair {
    int first = 0;
    int second = 1;
    bool oversubscribed = false;
};

inline cpu_pair pair_plan() {
    const thread_plan plan = plan_threads(2);
    return {plan.cpus[0], plan.cpus[1], plan.oversubscribed};
}

inline double process_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

/// CPU seconds the calling thread has used (for a consumer's own price).
inline double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Bytes malloc has handed out and not taken back (main arena and mmapped blocks): what a
/// queue built on this thread holds when it has no footprint_bytes() of its own.
inline std::size_t heap_bytes() {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

/// Builds a queue and remembers the heap it took, so a peer's footprint can be reported.
template <class Make>
auto make_measured(Make& make, std::size_t& heap_delta) {
    const std::size_t before = heap_bytes();
    auto q = make();
    const std::size_t after = heap_bytes();
    heap_delta = after > before ? after - before : 0;
    return q;
}

/// A queue's memory: its own account when it has one (ringlab's rings), else the heap its
/// construction took (which includes the object: make() returns a unique_ptr), and never
/// less than the object itself (memory from another allocator, tbbmalloc, is not seen).
template <class Q>
double footprint_of(const Q& q, std::size_t heap_delta) {
    if constexpr (requires { q.footprint_bytes(); }) {
        return static_cast<double>(q.footprint_bytes());
    } else {
        return static_cast<double>(heap_delta > sizeof(Q) ? heap_delta : sizeof(Q));
    }
}

inline void label_plan(benchmark::State& state, bool oversubscribed, int threads) {
    state.counters["oversubscribed"] = oversubscribed ? 1 : 0;
    state.counters["threads_used"] = threads;
}
inline void label_plan(benchmark::State& state, const cpu_pair& plan) { label_plan(state, plan.oversubscribed, 2); }

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

template <class Q>
concept batch_queue = requires(Q& q, std::uint64_t* p, std::size_t n) {
    { q.try_push_batch(p, n) } -> std::convertible_to<std::size_t>;
    { q.try_pop_batch(p, n) } -> std::convertible_to<std::size_t>;
};

/// Sends values[0, n): in batches through try_push_batch when the queue has it (waiting
/// through its producer-side strategy while full), else one at a time.
template <class Q>
void send_some(Q& q, const std::uint64_t* values, std::size_t n) {
    if constexpr (batch_queue<Q>) {
        while (n != 0) {
            std::size_t k = q.try_push_batch(values, n);
            if (k == 0) {
                if constexpr (requires { q.producer_wait(); }) {
                    (void)q.producer_wait().wait_until([&] { return (k = q.try_push_batch(values, n)) != 0; });
                } else {
                    spin_pause();
                }
            }
            values += k;
            n -= k;
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) send(q, values[i]);
    }
}

/// Receives between 1 and `max` values into `out`; returns how many.
template <class Q>
std::size_t receive_some(Q& q, std::uint64_t* out, std::size_t max) {
    if constexpr (batch_queue<Q>) {
        for (;;) {
            std::size_t k = q.try_pop_batch(out, max);
            if (k != 0) return k;
            if constexpr (requires { q.consumer_wait(); }) {
                (void)q.consumer_wait().wait_until([&] { return (k = q.try_pop_batch(out, max)) != 0; });
                if (k != 0) return k;
            } else {
                spin_pause();
            }
        }
    } else {
        out[0] = receive(q);
        return 1;
    }
}

/// One-way throughput of a queue built by `make`, free running (see the header). `Batch`
/// values move per call on both sides (1: single try_push/try_pop).
template <std::size_t Batch = 1, class Make>
void throughput(benchmark::State& state, Make make, std::uint64_t events_per_iteration = 1 << 14) {
    static_assert(Batch >= 1 && (Batch & (Batch - 1)) == 0, "A batch is a power of two.");
    if (!is_power_of_two(events_per_iteration) || events_per_iteration < Batch) {
        state.SkipWithError("events per iteration must be a power of two, at least the batch");
        return;
    }
    std::size_t heap = 0;
    auto q = make_measured(make, heap);
    const cpu_pair plan = pair_plan();
    alignas(false_sharing_bytes) std::atomic<std::uint64_t> received{0};
    // The consumer gets what it reads by value (or on a line of its own): the producer's
    // stack words beside them change on every event.
    std::thread consumer([&received, qp = q.get(), events_per_iteration, cpu = plan.second] {
        (void)pin_current_thread(cpu);
        std::array<std::uint64_t, Batch> got{};
        for (;;) {
            const std::size_t n = Batch == 1 ? (got[0] = receive(*qp), 1) : receive_some(*qp, got.data(), Batch);
            for (std::size_t i = 0; i < n; ++i) {
                if (got[i] == stop_value) return;
                if ((got[i] & (events_per_iteration - 1)) == 0) received.store(got[i], std::memory_order_release);
            }
        }
    });
    (void)pin_current_thread(plan.first);
    std::uint64_t next = 1;
    std::array<std::uint64_t, Batch> out{};
    const double cpu0 = process_cpu_seconds();
    auto t_prev = std::chrono::steady_clock::now();
    for (auto _ : state) {
        const std::uint64_t end = next + events_per_iteration;
        if constexpr (Batch == 1) {
            for (; next < end; ++next) send(*q, next);
        } else {
            for (; next < end; next += Batch) {
                for (std::size_t i = 0; i < Batch; ++i) out[i] = next + i;
                send_some(*q, out.data(), Batch);
            }
        }
        if (state.iterations() + 1 >= state.max_iterations) {
            while (received.load(std::memory_order_acquire) < end - 1) spin_pause();  // drain
        }
        const auto t = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t - t_prev).count());
        t_prev = t;
    }
    const double cpu = process_cpu_seconds() - cpu0;
    while (received.load(std::memory_order_acquire) < next - 1) spin_pause();
    send(*q, stop_value);
    consumer.join();
    const auto events = static_cast<double>(state.iterations()) * static_cast<double>(events_per_iteration);
    state.SetItemsProcessed(static_cast<std::int64_t>(events));
    state.counters["cpu_ns_per_event"] = events > 0 ? cpu * 1e9 / events : 0;
    state.counters["footprint_bytes"] = footprint_of(*q, heap);
    label_plan(state, plan);
}

/// Throughput with `producers` free-running producers (the benchmark thread is one of
/// them) and one consumer; the rate is what the consumer received while the benchmark
/// thread iterated.
template <class Make>
void throughput_producers(benchmark::State& state, Make make, int producers,
                          std::uint64_t events_per_iteration = 1 << 12) {
    std::size_t heap = 0;
    auto q = make_measured(make, heap);
    const thread_plan plan = plan_threads(producers + 1);
    alignas(false_sharing_bytes) std::atomic<std::uint64_t> received{0};
    alignas(false_sharing_bytes) std::atomic<bool> stop{false};
    std::thread consumer([&received, qp = q.get(), producers, cpu = plan.cpus[1]] {
        (void)pin_current_thread(cpu);
        std::uint64_t count = 0;
        for (int stops = 0; stops < producers;) {
            if (receive(*qp) == stop_value) {
                ++stops;
                continue;
            }
            if ((++count & 255) == 0) received.store(count, std::memory_order_release);
        }
    });
    std::vector<std::thread> others;
    for (int p = 1; p < producers; ++p) {
        const int cpu = plan.cpus[static_cast<std::size_t>(p) + 1];  // cpus[1] is the consumer's
        others.emplace_back([&stop, qp = q.get(), cpu] {
            (void)pin_current_thread(cpu);
            while (!stop.load(std::memory_order_acquire)) send(*qp, 1);
            send(*qp, stop_value);
        });
    }
    (void)pin_current_thread(plan.cpus[0]);
    const double cpu0 = process_cpu_seconds();
    const std::uint64_t received0 = received.load(std::memory_order_acquire);
    auto t_prev = std::chrono::steady_clock::now();
    for (auto _ : state) {
        for (std::uint64_t i = 0; i < events_per_iteration; ++i) send(*q, 1);
        const auto t = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t - t_prev).count());
        t_prev = t;
    }
    const auto events = static_cast<double>(received.load(std::memory_order_acquire) - received0);
    const double cpu = process_cpu_seconds() - cpu0;
    stop.store(true, std::memory_order_release);
    send(*q, stop_value);
    for (std::thread& t : others) t.join();
    consumer.join();
    state.SetItemsProcessed(static_cast<std::int64_t>(events));
    state.counters["cpu_ns_per_event"] = events > 0 ? cpu * 1e9 / events : 0;
    state.counters["footprint_bytes"] = footprint_of(*q, heap);
    label_plan(state, plan.oversubscribed, producers + 1);
}

/// The far side of a round trip, on `cpu`: echoes every value from `ping` into `pong`
/// until it has echoed stop_value (stop_echo).
template <class Q>
std::thread start_echo(Q& ping, Q& pong, int cpu) {
    return std::thread([&ping, &pong, cpu] {
        (void)pin_current_thread(cpu);
        for (;;) {
            const std::uint64_t v = receive(ping);
            send(pong, v);
            if (v == stop_value) return;
        }
    });
}

template <class Q>
void stop_echo(Q& ping, Q& pong, std::thread& echo) {
    send(ping, stop_value);
    (void)receive(pong);
    echo.join();
}

/// Round trip through a pair of queues built by `make`; real_time is the mean.
template <class Make>
void round_trip(benchmark::State& state, Make make) {
    std::size_t heap = 0;
    auto ping = make_measured(make, heap);
    auto pong = make();
    const cpu_pair plan = pair_plan();
    std::thread partner = start_echo(*ping, *pong, plan.second);
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
    stop_echo(*ping, *pong, partner);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["cpu_ns_per_event"] =
        state.iterations() > 0 ? cpu * 1e9 / static_cast<double>(state.iterations()) : 0;
    state.counters["footprint_bytes"] = footprint_of(*ping, heap);
    label_plan(state, plan);
}

}  // namespace ringlab::bench
