// model-checks/harness.hpp: runs a file's Relacy suites under the random scheduler (many
// iterations; the iteration is the seed) and the context-bound scheduler, with an optional
// mutant (one labelled memory-order site weakened) or canary (a planted bug) switched on.
//
//   <binary> [--suite NAME] [--iterations N] [--bound K] [--mutant LABEL[:release]]
//            [--canary NAME] [--expect-fail] [--initial-state STATE --search random|bound]
//            [--list]
//
// Exit 0 when every suite passed (with --expect-fail: when some suite failed, that is, the
// mutant or canary was caught), 1 otherwise, 2 on a usage error. A failure prints Relacy's
// history, which names the production lines, and the command that replays it.
#pragma once

#include "ringlab/sync/relacy.hpp"  // first: it orders the standard headers and Relacy

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace ringlab::model {

struct suite {
    const char* name;
    const char* edges;  // the synchronisation edges (header labels) this suite exercises
    bool (*simulate)(rl::test_params&);
    bool context_bound;  // whether the context-bound search finishes in seconds
};

template <class Test>
suite make_suite(const char* name, const char* edges, bool context_bound = true) {
    return suite{name, edges, &rl::simulate<Test>, context_bound};
}

/// A check inside a suite: a Relacy assertion that names what broke.
inline void expect(bool ok, const char* what,
                   std::source_location loc = std::source_location::current()) {
    sync::relacy::check(ok, what, loc);
}

/// Spin-wait inside a model: Relacy needs a yield in every loop.
template <class Pred>
void spin_until(Pred&& pred) {
    while (!pred()) sync::relacy::pause();
}

inline int run_suites(int argc, char** argv, const std::vector<suite>& suites) {
    std::string only;
    std::string mutant;
    std::string canary;
    std::string initial_state;
    std::string search = "random";
    unsigned long iterations = 200'000;
    unsigned bound = 2;
    bool expect_fail = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--suite") only = value();
        else if (a == "--iterations") iterations = std::stoul(value());
        else if (a == "--bound") bound = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--mutant") mutant = value();
        else if (a == "--canary") canary = value();
        else if (a == "--expect-fail") expect_fail = true;
        else if (a == "--initial-state") initial_state = value();
        else if (a == "--search") search = value();
        else if (a == "--list") {
            for (const auto& s : suites) std::cout << s.name << "  [" << s.edges << "]\n";
            return 0;
        } else {
            std::cerr << "unknown argument " << a << "\n";
            return 2;
        }
    }
    sync::weaken_side side = sync::weaken_side::keep_acquire;
    if (const auto colon = mutant.find(':'); colon != std::string::npos) {
        side = mutant.substr(colon + 1) == "release" ? sync::weaken_side::keep_release
                                                     : sync::weaken_side::keep_acquire;
        mutant.resize(colon);
    }
    sync::model_control::set_mutant(mutant.empty() ? nullptr : mutant.c_str(), side);
    sync::model_control::set_canary(canary.empty() ? nullptr : canary.c_str());

    int failed = 0;
    int ran = 0;
    for (const auto& s : suites) {
        if (!only.empty() && only != s.name) continue;
        struct pass {
            const char* name;
            rl::scheduler_type_e type;
        };
        std::vector<pass> passes;
        if (!initial_state.empty()) {
            passes.push_back({search.c_str(), search == "bound" ? rl::sched_bound : rl::sched_random});
        } else {
            passes.push_back({"random", rl::sched_random});
            if (s.context_bound && bound > 0) passes.push_back({"bound", rl::sched_bound});
        }
        for (const auto& p : passes) {
            ++ran;
            rl::test_params params;
            params.search_type = p.type;
            params.iteration_count = iterations;
            params.context_bound = bound;
            params.output_stream = &std::cout;
            static std::ofstream no_progress("/dev/null");
            params.progress_stream = &no_progress;
            params.progress_output_period = 1'000'000;
            params.initial_state = initial_state;
            std::cout << "== " << s.name << " [" << s.edges << "] search=" << p.name
                      << (p.type == rl::sched_bound ? " bound=" + std::to_string(bound) : "")
                      << (mutant.empty() ? "" : " mutant=" + mutant)
                      << (canary.empty() ? "" : " canary=" + canary) << std::endl;
            const bool ok = s.simulate(params);
            if (!ok) {
                ++failed;
                std::cout << "FAILED: " << rl::test_result_str(params.test_result) << " at iteration "
                          << params.stop_iteration << "\n  replay: " << argv[0] << " --suite " << s.name
                          << " --search " << p.name << " --initial-state '" << params.final_state << "'"
                          << (mutant.empty() ? "" : " --mutant " + mutant)
                          << (canary.empty() ? "" : " --canary " + canary) << std::endl;
                break;  // one failing pass of a suite is enough
            }
        }
    }
    if (ran == 0) {
        std::cerr << "no suite named '" << only << "'\n";
        return 2;
    }
    if (!mutant.empty() && sync::model_control::mutant_hits() == 0) {
        std::cout << "NOTE: the mutated site " << mutant << " never executed in these suites\n";
    }
    if (expect_fail) {
        std::cout << (failed > 0 ? "caught: a suite failed as expected\n"
                                 : "NOT CAUGHT: every suite passed with the bug in place\n");
        return failed > 0 ? 0 : 1;
    }
    std::cout << (failed == 0 ? "all suites passed\n" : "SOME SUITES FAILED\n");
    return failed == 0 ? 0 : 1;
}

}  // namespace ringlab::model
