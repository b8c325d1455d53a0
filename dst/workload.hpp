// dst/workload.hpp: the registry of DST workloads and their canaries.
//
// A workload is a function of a run_context: it draws its knobs, builds a real lib/
// primitive with the sim backend, spawns logical threads and checks what they saw. Each
// workload lists canaries, planted bugs (a name its primitive tests with Sync::canary) or
// mutants (a memory-order site weakened one step), that a sweep must catch within
// `canary_seed_bound` seeds: that is how we know the workload can fail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dst/scheduler.hpp"
#include "ringlab/sync/site.hpp"

namespace ringlab::dst {

struct canary_spec {
    enum class kind : std::uint8_t { planted, mutant };
    kind type = kind::planted;
    const char* name = "";  // the canary name, or the site label of a mutant
    const char* bug = "";   // what the planted bug or the weakened order breaks
    sync::weaken_side side = sync::weaken_side::keep_acquire;
};

struct workload_spec {
    const char* name = "";
    const char* summary = "";
    void (*body)(run_context&) = nullptr;
    std::vector<canary_spec> canaries;
    std::uint64_t canary_seed_bound = 2000;
    std::uint64_t max_steps = std::uint64_t{1} << 20;
};

[[nodiscard]] const std::vector<workload_spec>& workloads();
[[nodiscard]] const workload_spec* find_workload(const std::string& name);

/// Registers a workload at static-initialisation time (workloads are linked as objects).
struct register_workload {
    explicit register_workload(workload_spec spec);
};

}  // namespace ringlab::dst
