// bench/topology.hpp: the machine's CPUs and caches (from hwloc), and which CPU each thread
// of a benchmark runs on.
//
// A plan gives a row's threads distinct physical cores first, in package / L3 / core order
// (so a pair shares the nearest cache both can reach), then the second hardware thread of
// each core, and only then wraps around: a row with more threads than CPUs still runs, and
// says so (`oversubscribed`). Plans are pure functions of a topology, so any core count can
// be tested without owning such a machine.
//
// Threading contract: host_topology() is read once, before the first pin (main() calls it
// first), because pinning narrows the calling thread's affinity.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace ringlab::bench {

/// One CPU (hwloc's PU) this process may run on.
struct cpu_info {
    int os_index = 0;  // what sched_setaffinity calls it
    int core = 0;      // physical core (logical index); SMT siblings share it
    int package = 0;
    int l3 = -1;       // logical index of the L3 it shares (-1: none known)
    int smt_rank = 0;  // 0 for the first hardware thread of its core, 1 for the second, ...
};

struct cache_info {
    int level = 0;
    std::string type;  // data, instruction, unified
    std::uint64_t size_bytes = 0;
    int line_bytes = 0;
    int shared_by_cpus = 0;
};

struct topology {
    std::vector<cpu_info> cpus;     // allowed CPUs only
    std::vector<cache_info> caches; // one entry per distinct (level, type, size, sharing)
    int cores = 0;
    int packages = 0;
    std::string source;             // "hwloc <version>" or "sched_getaffinity" when hwloc failed
};

/// Which CPU each of a row's threads runs on.
struct thread_plan {
    std::vector<int> cpus;        // os indices, one per thread
    bool oversubscribed = false;  // more threads than CPUs: some share one
    bool smt_shared = false;      // two threads on hardware threads of one core
};

/// The plan for `threads` threads on `topo` (pure: tested on made-up machines).
[[nodiscard]] thread_plan plan_threads(const topology& topo, int threads);

/// This machine, read once (before any pin).
[[nodiscard]] const topology& host_topology();

/// The plan for `threads` threads on this machine.
[[nodiscard]] inline thread_plan plan_threads(int threads) { return plan_threads(host_topology(), threads); }

void write_topology_json(std::ostream& out, const topology& topo);

}  // namespace ringlab::bench
