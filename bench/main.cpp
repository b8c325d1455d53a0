// bench/main.cpp: ringlab-bench's entry point: Google Benchmark's, plus what the matrix
// runner asks of the binary before it runs rows.
//
//   --ringlab_rows       every registered row and its metadata, as JSON (registry.hpp)
//   --ringlab_topology   CPUs, cores, caches (hwloc) and the pair plan, as JSON
//   --ringlab_plan=N     the CPUs a row of N threads takes (plan_threads), as JSON: an
//                        external runner pins its threads where ours run (bench/lmax)
//   --ringlab_warmup_ms=N  before the first row, a thread pinned to each CPU the process
//                        may use spins for N ms (default 1000; 0: none). Without it, what
//                        ran in a process's first 0.7 s or so measured half the rate, or
//                        twice the round trip, of the same rows later (reports/METHODOLOGY.md,
//                        "Warm-up")
//   anything else        Google Benchmark's own flags (--benchmark_filter=..., ...)
//
// The topology is read first, before any benchmark pins the main thread (the warm-up pins
// threads of its own, never the main one).
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include "registry.hpp"
#include "ringlab/platform.hpp"
#include "topology.hpp"

namespace {

constexpr long default_warmup_ms = 1000;

/// Keeps every CPU of `topo` busy for `ms` milliseconds, one pinned spinning thread each.
void warm_up(const ringlab::bench::topology& topo, long ms) {
    if (ms <= 0) return;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::vector<std::thread> spinners;
    for (const ringlab::bench::cpu_info& cpu : topo.cpus) {
        spinners.emplace_back([until, os_index = cpu.os_index] {
            (void)ringlab::pin_current_thread(os_index);
            while (std::chrono::steady_clock::now() < until) ringlab::spin_pause();
        });
    }
    for (std::thread& t : spinners) t.join();
}

/// The number after `flag` in `arg` when it starts so and the number lies in [lo, hi];
/// -1 when `arg` is another flag; -2, after saying why on stderr, when it is this flag with
/// a bad value (`what`: what the number counts).
long numeric_flag(const char* arg, const char* flag, long lo, long hi, const char* what) {
    const std::size_t n = std::strlen(flag);
    if (std::strncmp(arg, flag, n) != 0) return -1;
    char* end = nullptr;
    const long value = std::strtol(arg + n, &end, 10);
    if (end == arg + n || *end != '\0' || value < lo || value > hi) {
        std::cerr << "ringlab-bench: " << flag << " wants " << what << " from " << lo << " to " << hi
                  << ", not '" << arg + n << "'\n";
        return -2;
    }
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    const ringlab::bench::topology& topo = ringlab::bench::host_topology();
    long warmup_ms = default_warmup_ms;
    bool listing = false;  // --benchmark_list_tests in any of its forms: nothing is measured
    int kept = 1;          // argv without the warm-up flag, for Google Benchmark
    for (int i = 1; i < argc; ++i) {
        listing = listing || std::strncmp(argv[i], "--benchmark_list_tests", 22) == 0;
        const long ms = numeric_flag(argv[i], "--ringlab_warmup_ms=", 0, 60000, "milliseconds");
        if (ms == -2) return 2;
        if (ms >= 0) {
            warmup_ms = ms;
            continue;
        }
        argv[kept++] = argv[i];
    }
    argc = kept;
    argv[argc] = nullptr;
    if (listing) warmup_ms = 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--ringlab_rows") == 0) {
            ringlab::bench::write_rows_json(std::cout);
            return 0;
        }
        if (std::strcmp(argv[i], "--ringlab_topology") == 0) {
            ringlab::bench::write_topology_json(std::cout, topo);
            return 0;
        }
        const long threads = numeric_flag(argv[i], "--ringlab_plan=", 1, 1024, "a thread count");
        if (threads == -2) return 2;
        if (threads > 0) {
            const ringlab::bench::thread_plan plan =
                ringlab::bench::plan_threads(topo, static_cast<int>(threads));
            std::cout << "{\"threads\": " << threads << ", \"cpus\": [";
            for (std::size_t c = 0; c < plan.cpus.size(); ++c) std::cout << (c ? ", " : "") << plan.cpus[c];
            std::cout << "], \"oversubscribed\": " << (plan.oversubscribed ? "true" : "false") << "}\n";
            return 0;
        }
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    warm_up(topo, warmup_ms);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
