// bench/latency.hpp: latency distributions and the price of waiting.
//
//   one_way          producer ──queue──▶ consumer
//                    The producer is paced: tick i is due at start + i * interval, and the
//                    event carries that *intended* time (TSC). The consumer records
//                    now - intended. When the producer is late (a full queue, a preempted
//                    vCPU, a slow consumer), it sends at once with the stamp it should have
//                    sent, so every event that waited behind a stall counts the stall:
//                    latency with coordinated omission corrected. Offered load = rate.
//   round_trip_dist  main ──ping──▶ partner ──pong──▶ main, every round trip timed (one TSC
//                    read per iteration) into the histogram.
//   idle             nothing flows: the consumer waits on an empty queue while the
//                    benchmark thread sleeps; idle_cpu_fraction is the consumer thread's CPU
//                    time over wall time (1.0: a whole core spent waiting).
//
// Histograms become counters (p50_ns ... max_ns, samples) and, when the runner sets
// RINGLAB_HGRM_DIR, a `.hgrm` file named by the `hist_id` counter.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "harness.hpp"
#include "histogram.hpp"

namespace ringlab::bench {

/// The TSC, calibrated once per process against CLOCK_MONOTONIC (invariant TSC, shared by
/// all cores: the clocksource the runner records says whether the kernel trusts it).
struct tsc_clock {
    double ns_per_cycle = 1.0;

    static const tsc_clock& get() {
        static const tsc_clock clock{cycle_clock::calibrate().ns_per_cycle};
        return clock;
    }
    [[nodiscard]] static std::uint64_t now() noexcept { return cycles_now(); }
    [[nodiscard]] std::uint64_t to_ns(std::uint64_t cycles) const noexcept {
        return static_cast<std::uint64_t>(static_cast<double>(cycles) * ns_per_cycle);
    }
    [[nodiscard]] double cycles_per_second() const noexcept { return 1e9 / ns_per_cycle; }
};

/// Sets the histogram's counters and writes its .hgrm when the runner asked for files.
inline void report_histogram(benchmark::State& state, const latency_histogram& h) {
    state.counters["samples"] = static_cast<double>(h.count());
    state.counters["mean_ns"] = h.mean();
    state.counters["min_ns"] = static_cast<double>(h.min());
    state.counters["p50_ns"] = static_cast<double>(h.value_at_percentile(50));
    state.counters["p90_ns"] = static_cast<double>(h.value_at_percentile(90));
    state.counters["p99_ns"] = static_cast<double>(h.value_at_percentile(99));
    state.counters["p999_ns"] = static_cast<double>(h.value_at_percentile(99.9));
    state.counters["p9999_ns"] = static_cast<double>(h.value_at_percentile(99.99));
    state.counters["max_ns"] = static_cast<double>(h.max());
    const char* dir = std::getenv("RINGLAB_HGRM_DIR");
    if (dir == nullptr || *dir == '\0') return;
    static int next_id = 0;  // one per histogram this process writes; the runner matches it
    const int id = ++next_id;
    const std::string path = std::string(dir) + "/" + std::to_string(id) + ".hgrm";
    if (std::FILE* f = std::fopen(path.c_str(), "w")) {
        h.write_hgrm(f);
        std::fclose(f);
        state.counters["hist_id"] = id;
    }
}

/// Hooks into a one-way run; the tests plant stalls through them.
struct no_hooks {
    void before_send(std::uint64_t /*tick*/) noexcept {}
    void after_receive(std::uint64_t /*index*/) noexcept {}
};

struct one_way_result {
    std::uint64_t ticks = 0;
    std::uint64_t events = 0;
    std::uint64_t late_ticks = 0;  // ticks sent more than one interval after they were due
    double seconds = 0;            // from the first tick's due time to the last send
    double consumer_cpu_seconds = 0;
};

/// The paced, coordinated-omission-corrected one-way measurement (see the header): sends
/// `Batch` events per tick at `rate` events per second while keep_going() says so, and
/// records each event's latency from its intended time into `hist` (on the consumer).
template <std::size_t Batch = 1, class Q, class KeepGoing, class Hooks = no_hooks>
one_way_result measure_one_way(Q& q, const cpu_pair& plan, double rate, latency_histogram& hist,
                               KeepGoing&& keep_going, Hooks&& hooks = {}) {
    const tsc_clock& clock = tsc_clock::get();
    one_way_result result;
    alignas(false_sharing_bytes) std::atomic<bool> ready{false};
    std::thread consumer([&] {
        (void)pin_current_thread(plan.second);
        const double cpu0 = thread_cpu_seconds();
        ready.store(true, std::memory_order_release);
        std::array<std::uint64_t, Batch> got{};
        for (std::uint64_t index = 0;;) {
            const std::size_t n = Batch == 1 ? (got[0] = receive(q), 1) : receive_some(q, got.data(), Batch);
            const std::uint64_t now = tsc_clock::now();
            for (std::size_t i = 0; i < n; ++i) {
                if (got[i] == stop_value) {
                    result.consumer_cpu_seconds = thread_cpu_seconds() - cpu0;
                    return;
                }
                hist.record(clock.to_ns(now > got[i] ? now - got[i] : 0));
                hooks.after_receive(index++);
            }
        }
    });
    (void)pin_current_thread(plan.first);
    while (!ready.load(std::memory_order_acquire)) spin_pause();
    const double interval = clock.cycles_per_second() * static_cast<double>(Batch) / rate;
    const std::uint64_t start = tsc_clock::now() + static_cast<std::uint64_t>(interval);
    std::array<std::uint64_t, Batch> stamps{};
    std::uint64_t last_send = start;
    for (; keep_going(); ++result.ticks) {
        const std::uint64_t due = start + static_cast<std::uint64_t>(static_cast<double>(result.ticks) * interval);
        hooks.before_send(result.ticks);
        std::uint64_t now;
        while ((now = tsc_clock::now()) < due) spin_pause();
        if (static_cast<double>(now - due) > interval) ++result.late_ticks;
        stamps.fill(due);
        if constexpr (Batch == 1) {
            send(q, due);
        } else {
            send_some(q, stamps.data(), Batch);
        }
        last_send = now;
    }
    send(q, stop_value);
    consumer.join();
    result.events = result.ticks * Batch;
    result.seconds = last_send > start ? static_cast<double>(clock.to_ns(last_send - start)) * 1e-9 : 0;
    return result;
}

/// The one-way row: a queue from `make`, `rate` events per second offered.
template <std::size_t Batch = 1, class Make>
void one_way(benchmark::State& state, Make make, double rate) {
    std::size_t heap = 0;
    auto q = make_measured(make, heap);
    const cpu_pair plan = pair_plan();
    latency_histogram hist;
    const one_way_result r = measure_one_way<Batch>(*q, plan, rate, hist, [&] { return state.KeepRunning(); });
    const auto events = static_cast<double>(r.events);
    state.SetItemsProcessed(static_cast<std::int64_t>(r.events));
    report_histogram(state, hist);
    state.counters["offered_rate"] = rate;
    state.counters["achieved_rate"] = r.seconds > 0 ? events / r.seconds : 0;
    state.counters["late_fraction"] = r.ticks ? static_cast<double>(r.late_ticks) / static_cast<double>(r.ticks) : 0;
    state.counters["cpu_ns_per_event"] = events > 0 ? r.consumer_cpu_seconds * 1e9 / events : 0;
    state.counters["footprint_bytes"] = footprint_of(*q, heap);
    label_plan(state, plan);
}

/// Round trips through a pair of queues, each one timed into the histogram.
template <class Make>
void round_trip_dist(benchmark::State& state, Make make) {
    const tsc_clock& clock = tsc_clock::get();
    std::size_t heap = 0;
    auto ping = make_measured(make, heap);
    auto pong = make();
    const cpu_pair plan = pair_plan();
    latency_histogram hist;
    std::thread partner = start_echo(*ping, *pong, plan.second);
    (void)pin_current_thread(plan.first);
    std::uint64_t next = 1;
    std::uint64_t before = tsc_clock::now();
    for (auto _ : state) {
        send(*ping, next);
        if (receive(*pong) != next) state.SkipWithError("round trip returned the wrong value");
        const std::uint64_t now = tsc_clock::now();  // one read per round trip: its end, the next one's start
        hist.record(clock.to_ns(now - before));
        before = now;
        ++next;
    }
    stop_echo(*ping, *pong, partner);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    report_histogram(state, hist);
    state.counters["footprint_bytes"] = footprint_of(*ping, heap);
    label_plan(state, plan);
}

/// The price of waiting when nothing flows (see the header).
template <class Make>
void idle(benchmark::State& state, Make make) {
    std::size_t heap = 0;
    auto q = make_measured(make, heap);
    const cpu_pair plan = pair_plan();
    std::thread consumer([&] {
        (void)pin_current_thread(plan.second);
        while (receive(*q) != stop_value) {
        }
    });
    (void)pin_current_thread(plan.first);
    clockid_t consumer_clock{};
    const bool have_clock = pthread_getcpuclockid(consumer.native_handle(), &consumer_clock) == 0;
    auto consumer_cpu = [&] {
        timespec ts{};
        if (!have_clock || clock_gettime(consumer_clock, &ts) != 0) return 0.0;
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    };
    const double cpu0 = consumer_cpu();
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = consumer_cpu() - cpu0;
    send(*q, stop_value);
    consumer.join();
    if (!have_clock) state.SkipWithError("no CPU clock for the consumer thread");
    state.counters["idle_cpu_fraction"] = wall > 0 ? cpu / wall : 0;
    state.counters["footprint_bytes"] = footprint_of(*q, heap);
    label_plan(state, plan);
}

}  // namespace ringlab::bench
