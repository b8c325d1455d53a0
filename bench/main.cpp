// bench/main.cpp: ringlab-bench's entry point: Google Benchmark's, plus what the matrix
// runner asks of the binary before it runs rows.
//
//   --ringlab_rows       every registered row and its metadata, as JSON (registry.hpp)
//   --ringlab_topology   CPUs, cores, caches (hwloc) and the pair plan, as JSON
//   --ringlab_plan=N     the CPUs a row of N threads takes (plan_threads), as JSON: an
//                        external runner pins its threads where ours run (bench/lmax)
//   anything else        Google Benchmark's own flags (--benchmark_filter=..., ...)
//
// The topology is read first, before any benchmark pins the main thread.
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "registry.hpp"
#include "topology.hpp"

int main(int argc, char** argv) {
    const ringlab::bench::topology& topo = ringlab::bench::host_topology();
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--ringlab_rows") == 0) {
            ringlab::bench::write_rows_json(std::cout);
            return 0;
        }
        if (std::strcmp(argv[i], "--ringlab_topology") == 0) {
            ringlab::bench::write_topology_json(std::cout, topo);
            return 0;
        }
        constexpr const char plan_flag[] = "--ringlab_plan=";
        if (std::strncmp(argv[i], plan_flag, sizeof plan_flag - 1) == 0) {
            const char* n = argv[i] + sizeof plan_flag - 1;
            char* end = nullptr;
            const long threads = std::strtol(n, &end, 10);
            if (end == n || *end != '\0' || threads < 1 || threads > 1024) {
                std::cerr << "ringlab-bench: --ringlab_plan= wants a thread count from 1 to 1024, not '" << n
                          << "'\n";
                return 2;
            }
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
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
