// bench/floor.cpp: the hardware floor, measured in the same run as every queue (the runner
// probes it before and after every row).
//
//   floor/cacheline_round_trip   one cache line bounced between the two pinned CPUs: the
//                                least a round trip through any shared-memory queue costs
//       main: line = v ──▶ partner: sees v, line = v + 1 ──▶ main: sees v + 1
//   floor/two_line_round_trip    the same with one line each way (ping, then pong): what a round
//                                trip through two queues costs at least, whose slots cannot
//                                share a line; on AMD EPYC about 1.5x the one-line trip
//       main: ping = v ──▶ partner: sees v, pong = v ──▶ main: sees v
//   floor/cacheline_one_way      main writes a TSC stamp into a line, the partner records
//                                now - stamp and acknowledges on a second line: the least a
//                                one-way hop costs (histogram counters)
//   floor/futex_wake_round_trip  a thread parked on a futex, woken, waking back: what a
//                                blocking wait costs when it really sleeps
//   floor/memcpy_bandwidth       bytes per second one core copies (1 MiB blocks)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "latency.hpp"
#include "registry.hpp"

namespace ringlab::bench {
namespace {

void cacheline_round_trip(benchmark::State& state) {
    alignas(false_sharing_bytes) std::atomic<std::uint64_t> line{0};
    const cpu_pair plan = pair_plan();
    std::thread partner([&] {
        (void)pin_current_thread(plan.second);
        for (std::uint64_t seen = 0;;) {
            std::uint64_t v;
            while ((v = line.load(std::memory_order_acquire)) == seen) spin_pause();
            if (v == stop_value) return;
            seen = v + 1;
            line.store(seen, std::memory_order_release);
        }
    });
    (void)pin_current_thread(plan.first);
    std::uint64_t v = 1;
    for (auto _ : state) {
        line.store(v, std::memory_order_release);
        while (line.load(std::memory_order_acquire) != v + 1) spin_pause();
        v += 2;
    }
    line.store(stop_value, std::memory_order_release);
    partner.join();
    label_plan(state, plan);
}

void two_line_round_trip(benchmark::State& state) {
    alignas(false_sharing_bytes) std::atomic<std::uint64_t> ping{0};
    alignas(false_sharing_bytes) std::atomic<std::uint64_t> pong{0};
    const cpu_pair plan = pair_plan();
    std::thread partner([&] {
        (void)pin_current_thread(plan.second);
        for (std::uint64_t seen = 0;;) {
            std::uint64_t v;
            while ((v = ping.load(std::memory_order_acquire)) == seen) spin_pause();
            if (v == stop_value) return;
            seen = v;
            pong.store(v, std::memory_order_release);
        }
    });
    (void)pin_current_thread(plan.first);
    std::uint64_t v = 0;
    for (auto _ : state) {
        ping.store(++v, std::memory_order_release);
        while (pong.load(std::memory_order_acquire) != v) spin_pause();
    }
    ping.store(stop_value, std::memory_order_release);
    partner.join();
    state.SetItemsProcessed(state.iterations());
    label_plan(state, plan);
}

void cacheline_one_way(benchmark::State& state) {
    const tsc_clock& clock = tsc_clock::get();
    alignas(false_sharing_bytes) std::atomic<std::uint64_t> stamp{0};
    alignas(false_sharing_bytes) std::atomic<std::uint64_t> ack{0};
    const cpu_pair plan = pair_plan();
    latency_histogram hist;
    std::thread partner([&] {
        (void)pin_current_thread(plan.second);
        for (std::uint64_t seen = 0;;) {
            std::uint64_t v;
            while ((v = stamp.load(std::memory_order_acquire)) == seen) spin_pause();
            const std::uint64_t now = tsc_clock::now();
            if (v == stop_value) return;
            hist.record(clock.to_ns(now > v ? now - v : 0));
            seen = v;
            ack.store(v, std::memory_order_release);
        }
    });
    (void)pin_current_thread(plan.first);
    for (auto _ : state) {
        const std::uint64_t v = tsc_clock::now();
        stamp.store(v, std::memory_order_release);
        while (ack.load(std::memory_order_acquire) != v) spin_pause();
    }
    stamp.store(stop_value, std::memory_order_release);
    partner.join();
    report_histogram(state, hist);
    label_plan(state, plan);
}

long futex(std::atomic<int>* word, int op, int value) {
    return syscall(SYS_futex, reinterpret_cast<int*>(word), op, value, nullptr, nullptr, 0);
}

void futex_wake_round_trip(benchmark::State& state) {
    alignas(false_sharing_bytes) std::atomic<int> to_partner{0};
    alignas(false_sharing_bytes) std::atomic<int> to_main{0};
    const cpu_pair plan = pair_plan();
    std::thread partner([&] {
        (void)pin_current_thread(plan.second);
        for (int seen = 0;;) {
            int v;
            while ((v = to_partner.load(std::memory_order_acquire)) == seen) {
                futex(&to_partner, FUTEX_WAIT_PRIVATE, seen);
            }
            seen = v;
            to_main.store(v, std::memory_order_release);
            futex(&to_main, FUTEX_WAKE_PRIVATE, 1);
            if (v < 0) return;
        }
    });
    (void)pin_current_thread(plan.first);
    int v = 0;
    for (auto _ : state) {
        ++v;
        to_partner.store(v, std::memory_order_release);
        futex(&to_partner, FUTEX_WAKE_PRIVATE, 1);
        while (to_main.load(std::memory_order_acquire) != v) futex(&to_main, FUTEX_WAIT_PRIVATE, v - 1);
    }
    to_partner.store(-1, std::memory_order_release);
    futex(&to_partner, FUTEX_WAKE_PRIVATE, 1);
    partner.join();
    label_plan(state, plan);
}

void memcpy_bandwidth(benchmark::State& state, std::size_t bytes) {
    std::vector<char> from(bytes, 1);
    std::vector<char> to(bytes, 0);
    for (auto _ : state) {
        std::memcpy(to.data(), from.data(), bytes);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    label_plan(state, false, 1);
}

}  // namespace

RINGLAB_BENCH_ROWS(floor_rows) {
    const auto floor = [](const char* name, int threads) {
        row_spec spec{row_kind::floor, name, "", "floor"};
        spec.threads = threads;
        return spec;
    };
    add_row(floor("cacheline_round_trip", 2), cacheline_round_trip);
    add_row(floor("two_line_round_trip", 2), two_line_round_trip);
    add_row(floor("cacheline_one_way", 2), cacheline_one_way);
    add_row(floor("futex_wake_round_trip", 2), futex_wake_round_trip);
    row_spec memcpy_spec = floor("memcpy_bandwidth", 1);
    memcpy_spec.knobs = {{"bytes", 1 << 20}};
    add_row(memcpy_spec, [](benchmark::State& s) { memcpy_bandwidth(s, 1 << 20); });
}

}  // namespace ringlab::bench
