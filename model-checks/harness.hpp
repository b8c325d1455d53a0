// model-checks/harness.hpp: runs a file's Relacy suites under the random scheduler (many
// iterations; the iteration is the seed), the context-bound scheduler and, for spin-free
// suites, the full-search scheduler, with an optional mutant (one labelled memory-order
// site weakened) or canary (a planted bug) switched on.
//
//   <binary> [--suite NAME] [--search random|bound|full] [--iterations N] [--bound K]
//            [--mutant LABEL[:release]] [--canary NAME] [--expect-fail]
//            [--initial-state STATE --search random|bound|full] [--report FILE] [--list]
//
// Exit 0 when every suite passed (with --expect-fail: when some suite failed, that is, the
// mutant or canary was caught; the run stops at that failure), 1 otherwise, 2 on a usage
// error. A failure prints Relacy's history, which names the production lines, and the
// command that replays it. --report appends one JSON object per pass to FILE (what the
// mutation runner, model-checks/mutants.py, reads). A suite that shows a known bug of lib/
// runs only when named with --suite.
#pragma once

#include "ringlab/sync/relacy.hpp"  // first: it orders the standard headers and Relacy

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace ringlab::model {

/// Which schedulers a suite runs under (a bit set: `search::random | search::bound`).
enum class search : unsigned {
    random = 1U << 0,  // rl::sched_random, --iterations executions (the iteration is the seed)
    bound = 1U << 1,   // rl::sched_bound, every execution with at most --bound preemptions
    full = 1U << 2,    // rl::sched_full, every execution: only for spin-free suites
};
constexpr search operator|(search a, search b) noexcept {
    return static_cast<search>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(search set, search one) noexcept {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(one)) != 0;
}

struct suite {
    const char* name;
    const char* edges;  // the synchronisation edges (header labels) this suite exercises
    bool (*simulate)(rl::test_params&);
    search searches;
    unsigned bound;  // the context bound of its bound search (--bound overrides it)
    /// Not null: the suite shows a known bug of lib/ (this text says which). It runs only
    /// when named with --suite, so the other suites and the mutation runner's baseline stay
    /// meaningful; ctest runs it with --expect-fail until the bug is fixed.
    const char* known_bug = nullptr;
};

/// Runs `Test` with the relacy backend's per-execution state reset at the start of every
/// iteration, so that any iteration replays alone from its initial_state.
template <class Test>
struct each_iteration_fresh : Test {
    void before() {
        sync::relacy::iteration_begin();
        Test::before();
    }
};

/// A suite of a binary, run under the random and the context-bound search (`bound`: the
/// largest context bound that finishes in seconds), plus the full search for a spin-free
/// suite (`full_search`).
template <class Test>
suite make_suite(const char* name, const char* edges, unsigned bound = 3, bool full_search = false) {
    const search searches =
        full_search ? search::random | search::bound | search::full : search::random | search::bound;
    return suite{name, edges, &rl::simulate<each_iteration_fresh<Test>>, searches, bound};
}

/// A suite that shows a known bug of lib/ (see suite::known_bug).
template <class Test>
suite make_known_bug(const char* name, const char* edges, const char* bug) {
    suite s = make_suite<Test>(name, edges);
    s.searches = search::random;
    s.known_bug = bug;
    return s;
}

/// A check inside a suite: a Relacy assertion that names what broke.
inline void expect(bool ok, const char* what, std::source_location loc = std::source_location::current()) {
    sync::relacy::check(ok, what, loc);
}

/// A consumer's check of what two producers sent: value = producer * 10 + k, with k
/// counting from 1 for each producer (per-producer FIFO, nothing lost or duplicated).
struct fifo_check {
    int next[2] = {1, 1};
    void take(int v) {
        const int p = v / 10;
        expect(p >= 0 && p < 2, "a value from no producer");
        expect(v % 10 == next[p], "a producer's values arrived out of order, twice, or not at all");
        ++next[p];
    }
};

/// Spin-wait inside a model: Relacy needs a yield in every loop.
template <class Pred>
void spin_until(Pred&& pred) {
    while (!pred()) sync::relacy::pause();
}

namespace detail {

struct options {
    std::string only;
    std::string only_search;
    std::string mutant;
    std::string canary;
    std::string initial_state;
    std::string report;
    unsigned long iterations = 200'000;
    unsigned bound = 0;  // 0: each suite's own
    bool expect_fail = false;
    bool list = false;
};

inline std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

inline std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

/// Parses the command line; returns 0 to go on, or the exit code to stop with.
inline int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--suite")
            o.only = value();
        else if (a == "--iterations")
            o.iterations = std::stoul(value());
        else if (a == "--bound")
            o.bound = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--mutant")
            o.mutant = value();
        else if (a == "--canary")
            o.canary = value();
        else if (a == "--expect-fail")
            o.expect_fail = true;
        else if (a == "--initial-state")
            o.initial_state = value();
        else if (a == "--search")
            o.only_search = value();
        else if (a == "--report")
            o.report = value();
        else if (a == "--list")
            o.list = true;
        else {
            std::cerr << "unknown argument " << a << "\n";
            return 2;
        }
    }
    if (!o.only_search.empty() && o.only_search != "random" && o.only_search != "bound" &&
        o.only_search != "full") {
        std::cerr << "--search must be random, bound or full\n";
        return 2;
    }
    if (!o.initial_state.empty() && o.only_search.empty()) o.only_search = "random";
    return 0;
}

struct pass {
    const char* name;
    rl::scheduler_type_e type;
};

inline std::vector<pass> passes_of(const suite& s, const options& o) {
    struct kind {
        pass p;
        search bit;
    };
    const kind all[] = {{{"random", rl::sched_random}, search::random},
                        {{"bound", rl::sched_bound}, search::bound},
                        {{"full", rl::sched_full}, search::full}};
    std::vector<pass> out;
    for (const kind& k : all) {
        if (!o.only_search.empty()) {
            // An explicit --search runs that scheduler even where the suite does not list it
            // (a replay, or a deeper look); without it, the suite's own list.
            if (o.only_search == k.p.name) out.push_back(k.p);
        } else if (has(s.searches, k.bit)) {
            out.push_back(k.p);
        }
    }
    return out;
}

}  // namespace detail

namespace detail {

inline void list(const std::vector<suite>& suites) {
    for (const auto& s : suites) {
        std::cout << s.name << "  [" << s.edges << "] ";
        if (has(s.searches, search::random)) std::cout << " random";
        if (has(s.searches, search::bound)) std::cout << " bound=" << s.bound;
        if (has(s.searches, search::full)) std::cout << " full";
        if (s.known_bug != nullptr) std::cout << "  KNOWN BUG: " << s.known_bug;
        std::cout << "\n";
    }
}

/// Switches on the mutant (`LABEL` or `LABEL:release`) and the canary of this run.
inline void arm(const options& o, std::string& label) {
    label = o.mutant;
    sync::weaken_side side = sync::weaken_side::keep_acquire;
    if (const auto colon = label.find(':'); colon != std::string::npos) {
        side = label.substr(colon + 1) == "release" ? sync::weaken_side::keep_release
                                                    : sync::weaken_side::keep_acquire;
        label.resize(colon);
    }
    sync::model_control::set_mutant(label.empty() ? nullptr : label.c_str(), side);
    sync::model_control::set_canary(o.canary.empty() ? nullptr : o.canary.c_str());
}

struct outcome {
    bool ok;
    const char* failure;  // Relacy's name of the failure, "" when ok
    unsigned long iteration;
    std::uint64_t mutant_hits;  // executions of the mutated site in this pass
    double seconds;
    std::string replay;  // the command that replays the failure, "" when ok
};

/// Runs one suite under one scheduler and prints its verdict (and, on failure, Relacy's
/// history and the replay command).
inline outcome run_pass(const suite& s, const pass& p, unsigned bound, const options& o, const char* argv0) {
    rl::test_params params;
    params.search_type = p.type;
    params.iteration_count = o.iterations;
    params.context_bound = bound;
    params.output_stream = &std::cout;
    static std::ofstream no_progress("/dev/null");
    params.progress_stream = &no_progress;
    params.progress_output_period = 1'000'000;
    params.initial_state = o.initial_state;
    const std::string bound_text = p.type == rl::sched_bound ? std::to_string(bound) : "";
    std::cout << "== " << s.name << " [" << s.edges << "] search=" << p.name
              << (bound_text.empty() ? "" : " bound=" + bound_text)
              << (o.mutant.empty() ? "" : " mutant=" + o.mutant)
              << (o.canary.empty() ? "" : " canary=" + o.canary) << std::endl;
    const std::uint64_t hits_before = sync::model_control::mutant_hits();
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = s.simulate(params);
    outcome out{ok,
                ok ? "" : rl::test_result_str(params.test_result),
                params.stop_iteration,
                sync::model_control::mutant_hits() - hits_before,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                ""};
    if (!ok) {
        std::ostringstream cmd;
        cmd << argv0 << " --suite " << s.name << " --search " << p.name
            << (bound_text.empty() ? "" : " --bound " + bound_text) << " --initial-state "
            << shell_quote(std::string(params.final_state.c_str()))
            << (o.mutant.empty() ? "" : " --mutant " + o.mutant)
            << (o.canary.empty() ? "" : " --canary " + o.canary);
        out.replay = cmd.str();
        std::cout << "FAILED: " << out.failure << " at iteration " << out.iteration
                  << "\n  replay: " << out.replay << std::endl;
    }
    return out;
}

inline void report_line(std::ofstream& report, const suite& s, const pass& p, unsigned bound,
                        const outcome& r) {
    report << "{\"suite\":" << json_string(s.name) << ",\"edges\":" << json_string(s.edges)
           << ",\"search\":" << json_string(p.name)
           << ",\"bound\":" << (p.type == rl::sched_bound ? bound : 0)
           << ",\"passed\":" << (r.ok ? "true" : "false") << ",\"failure\":" << json_string(r.failure)
           << ",\"iteration\":" << r.iteration << ",\"mutant_hits\":" << r.mutant_hits
           << ",\"seconds\":" << r.seconds << ",\"replay\":" << json_string(r.replay) << "}\n";
    report.flush();
}

}  // namespace detail

inline int run_suites(int argc, char** argv, const std::vector<suite>& suites) {
    detail::options o;
    if (const int rc = detail::parse(argc, argv, o); rc != 0) return rc;
    if (o.list) {
        detail::list(suites);
        return 0;
    }
    std::string mutant;
    detail::arm(o, mutant);
    std::ofstream report;
    if (!o.report.empty()) {
        report.open(o.report, std::ios::app);
        if (!report) {
            std::cerr << "cannot write " << o.report << "\n";
            return 2;
        }
    }

    int failed = 0;
    int ran = 0;
    for (const auto& s : suites) {
        if (!o.only.empty() && o.only != s.name) continue;
        if (s.known_bug != nullptr && o.only != s.name) {
            std::cout << "-- " << s.name << " skipped: it shows a known bug (" << s.known_bug
                      << "); run it with --suite " << s.name << std::endl;
            continue;
        }
        const unsigned bound = o.bound != 0 ? o.bound : s.bound;
        for (const auto& p : detail::passes_of(s, o)) {
            ++ran;
            const detail::outcome r = detail::run_pass(s, p, bound, o, argv[0]);
            if (report.is_open()) detail::report_line(report, s, p, bound, r);
            if (!r.ok) {
                ++failed;
                break;  // one failing pass of a suite is enough
            }
        }
        if (o.expect_fail && failed > 0) break;  // caught: the rest cannot change the verdict
    }
    if (ran == 0) {
        std::cerr << "no suite named '" << o.only << "'\n";
        return 2;
    }
    if (!mutant.empty() && sync::model_control::mutant_hits() == 0) {
        std::cout << "NOTE: the mutated site " << mutant << " never executed in these suites\n";
    }
    if (o.expect_fail) {
        std::cout << (failed > 0 ? "caught: a suite failed as expected\n"
                                 : "NOT CAUGHT: every suite passed with the bug in place\n");
        return failed > 0 ? 0 : 1;
    }
    std::cout << (failed == 0 ? "all suites passed\n" : "SOME SUITES FAILED\n");
    return failed == 0 ? 0 : 1;
}

}  // namespace ringlab::model
