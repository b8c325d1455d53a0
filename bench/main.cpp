// bench/main.cpp: ringlab-bench's entry point: Google Benchmark's, plus what the matrix
// runner asks of the binary before it runs rows.
//
//   --ringlab_rows       every registered row and its metadata, as JSON (registry.hpp)
//   --ringlab_topology   CPUs, cores, caches (hwloc) and the pair plan, as JSON
//   anything else        Google Benchmark's own flags (--benchmark_filter=..., ...)
//
// The topology is read first, before any benchmark pins the main thread.
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
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
