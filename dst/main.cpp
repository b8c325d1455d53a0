// dst/main.cpp: the DST command line (scripts/ringlab dst ... runs this).
//
//   list
//   run --workload W [--seeds N] [--start S] [--strategy random|pct[d]|pb[k]|portfolio]
//       [--canary NAME] [--mutant LABEL[:release]] [--no-shrink]
//   replay TOKEN [--trace FILE]
//   sweep [--time-budget SECONDS] [--workload W] [--canaries [--windows N] [--report MD] [--json FILE]]
//   bench [--workload W] [--seeds N]
//
// Exit codes: 0 all passed, 10 correctness, 11 liveness, 12 crash, 2 usage, 3 a canary
// that the sweep did not catch.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "dst/runner.hpp"

using namespace ringlab::dst;

namespace {

constexpr int usage_error = 2;
constexpr int canary_missed = 3;

struct args {
    std::string command;
    std::vector<std::string> positional;
    std::map<std::string, std::string> flags;

    [[nodiscard]] bool has(const std::string& k) const { return flags.count(k) != 0; }
    [[nodiscard]] std::string get(const std::string& k, const std::string& d = {}) const {
        const auto it = flags.find(k);
        return it == flags.end() ? d : it->second;
    }
};

const char* const boolean_flags[] = {"--canaries", "--no-shrink", "--help"};

args parse(int argc, char** argv) {
    args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (s.rfind("--", 0) == 0) {
            bool boolean = false;
            for (const char* b : boolean_flags) boolean = boolean || s == b;
            if (boolean || i + 1 >= argc) {
                a.flags[s] = "1";
            } else {
                a.flags[s] = argv[++i];
            }
        } else if (a.command.empty()) {
            a.command = s;
        } else {
            a.positional.push_back(s);
        }
    }
    return a;
}

int usage() {
    std::fprintf(stderr,
                 "usage: ringlab-dst list\n"
                 "       ringlab-dst run --workload W [--seeds N] [--start S] [--strategy X]\n"
                 "                       [--canary NAME] [--mutant LABEL[:release]] [--no-shrink]\n"
                 "       ringlab-dst replay TOKEN [--trace FILE]\n"
                 "       ringlab-dst sweep [--time-budget S] [--workload W] [--canaries [--windows N] "
                 "[--report MD] [--json FILE]]\n"
                 "       ringlab-dst bench [--workload W] [--seeds N]\n"
                 "strategies: random, pct<d>, pb<k>, portfolio (default)\n");
    return usage_error;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::uint64_t number(const args& a, const std::string& flag, std::uint64_t fallback) {
    if (!a.has(flag)) return fallback;
    const auto v = parse_seed(a.get(flag));
    if (!v) {
        std::fprintf(stderr, "%s: not a number: %s\n", flag.c_str(), a.get(flag).c_str());
        std::exit(usage_error);
    }
    return *v;
}

int cmd_list() {
    for (const auto& w : workloads()) {
        std::printf("%-18s %s\n", w.name, w.summary);
        for (const auto& c : w.canaries) {
            std::printf("    %-7s %-42s %s\n", c.type == canary_spec::kind::planted ? "canary" : "mutant",
                        c.name, c.bug);
        }
    }
    return 0;
}

/// Runs seeds [start, start+count); on the first failure prints the report and returns it.
int run_seeds(const workload_spec& w, std::uint64_t start, std::uint64_t count, const strategy_choice& choice,
              const std::string& canary, const std::string& mutant, bool shrink, bool verbose) {
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t steps = 0;
    for (std::uint64_t s = start; s < start + count; ++s) {
        run_request r;
        r.workload = &w;
        r.seed = s;
        assign_strategy(r, choice);
        r.canary = canary;
        r.mutant = mutant;
        const auto colon = r.mutant.find(':');
        if (colon != std::string::npos) {
            r.side = r.mutant.substr(colon + 1) == "release" ? ringlab::sync::weaken_side::keep_release
                                                             : ringlab::sync::weaken_side::keep_acquire;
            r.mutant.resize(colon);
        }
        if (verbose && count == 1) print_seed_header(r);
        run_result result = execute(r);
        steps += result.steps;
        if (result.kind != verdict::pass) {
            const failure_report rep = investigate(r, std::move(result), shrink);
            print_failure(rep);
            return rep.replay_matches ? exit_code(rep.result.kind) : exit_code(verdict::crash);
        }
        if (verbose && count == 1) print_knobs(result);
    }
    const double secs = seconds_since(t0);
    std::printf("%s: %llu seeds passed (%llu steps, %.0f steps/s, %.0f seeds/s)\n", w.name,
                static_cast<unsigned long long>(count), static_cast<unsigned long long>(steps), steps / secs,
                count / secs);
    return 0;
}

int cmd_run(const args& a) {
    const workload_spec* w = find_workload(a.get("--workload"));
    if (w == nullptr) {
        std::fprintf(stderr, "run: unknown or missing --workload '%s' (see: list)\n",
                     a.get("--workload").c_str());
        return usage_error;
    }
    const auto choice = parse_strategy_choice(a.get("--strategy", "portfolio"));
    if (!choice) return usage();
    return run_seeds(*w, number(a, "--start", 1), number(a, "--seeds", 1), *choice, a.get("--canary"),
                     a.get("--mutant"), !a.has("--no-shrink"), true);
}

int cmd_replay(const args& a) {
    if (a.positional.empty()) return usage();
    std::string error;
    const auto token = decode(a.positional[0], error);
    if (!token) {
        std::fprintf(stderr, "replay: bad token: %s\n", error.c_str());
        return usage_error;
    }
    run_request r = request_of(*token, error);
    if (r.workload == nullptr) {
        std::fprintf(stderr, "replay: %s\n", error.c_str());
        return usage_error;
    }
    r.record_trace = a.has("--trace");
    print_seed_header(r);
    const run_result result = execute(r);
    print_knobs(result);
    std::printf("verdict: %s after %llu steps, trace hash %016llx\n", to_string(result.kind),
                static_cast<unsigned long long>(result.steps),
                static_cast<unsigned long long>(result.trace_hash));
    if (result.kind != verdict::pass) {
        std::printf("  %s\n", result.message.c_str());
        if (!result.where.empty()) std::printf("  at %s\n", result.where.c_str());
    }
    if (r.record_trace && !write_trace(result, a.get("--trace"))) {
        std::fprintf(stderr, "replay: cannot write %s\n", a.get("--trace").c_str());
    } else if (r.record_trace) {
        std::printf("trace: %zu steps written to %s\n", result.trace.size(), a.get("--trace").c_str());
    }
    if (token->trace_hash && *token->trace_hash != result.trace_hash) {
        std::printf("REPLAY MISMATCH: the token recorded trace hash %016llx; this run gave %016llx\n",
                    static_cast<unsigned long long>(*token->trace_hash),
                    static_cast<unsigned long long>(result.trace_hash));
        return exit_code(verdict::crash);
    }
    if (token->trace_hash) std::printf("replay matches the recorded trace hash\n");
    return exit_code(result.kind);
}

constexpr const char* canary_strategies[] = {"random", "pct2", "pct3", "pb2"};
constexpr int canary_strategy_count = 4;

struct canary_row {
    std::string workload;
    std::string canary;
    std::string kind;
    std::string bug;
    // Per strategy, per window: the seeds it took to find the canary (0: not within the bound).
    std::vector<std::uint64_t> found[canary_strategy_count];
    std::string verdict[canary_strategy_count];
    double seconds = 0;
};

/// The median over windows; windows that did not find the canary count as "above the bound".
std::string median_text(std::vector<std::uint64_t> v, std::uint64_t bound) {
    for (auto& x : v) x = x == 0 ? bound + 1 : x;
    std::sort(v.begin(), v.end());
    const std::uint64_t m = v[v.size() / 2];
    return m > bound ? ">" + std::to_string(bound) : std::to_string(m);
}

std::size_t hits(const std::vector<std::uint64_t>& v) {
    return static_cast<std::size_t>(
        std::count_if(v.begin(), v.end(), [](std::uint64_t x) { return x != 0; }));
}

std::string json_escape(const std::string& s) {
    std::string out;
    for (const char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

struct speed_row {
    std::string workload;
    std::string strategy;
    std::uint64_t seeds = 0;
    std::uint64_t steps = 0;
    double seconds = 0;
};

speed_row measure_speed(const workload_spec& w, const char* strategy, std::uint64_t seeds) {
    speed_row row{w.name, strategy, seeds, 0, 0};
    const auto choice = *parse_strategy_choice(strategy);
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t s = 1; s <= seeds; ++s) {
        run_request r;
        r.workload = &w;
        r.seed = s;
        assign_strategy(r, choice);
        row.steps += execute(r).steps;
    }
    row.seconds = seconds_since(t0);
    return row;
}

/// Every canary of every listed workload, under each strategy, in `windows` disjoint seed
/// windows (window k starts at seed 1 + k * 2^32): the seeds each took to find it.
int sweep_canaries(const std::vector<const workload_spec*>& list, const std::string& report,
                   const std::string& json, std::uint64_t windows) {
    std::vector<canary_row> rows;
    int status = 0;
    for (const workload_spec* w : list) {
        for (const auto& c : w->canaries) {
            canary_row row;
            row.workload = w->name;
            row.canary = c.name;
            row.kind = c.type == canary_spec::kind::planted ? "planted" : "mutant";
            row.bug = c.bug;
            const auto t0 = std::chrono::steady_clock::now();
            for (int k = 0; k < canary_strategy_count; ++k) {
                const auto choice = *parse_strategy_choice(canary_strategies[k]);
                for (std::uint64_t win = 0; win < windows; ++win) {
                    const std::uint64_t first = 1 + (win << 32);
                    std::uint64_t found = 0;
                    for (std::uint64_t s = 0; s < w->canary_seed_bound && found == 0; ++s) {
                        run_request r;
                        r.workload = w;
                        r.seed = first + s;
                        assign_strategy(r, choice);
                        (c.type == canary_spec::kind::planted ? r.canary : r.mutant) = c.name;
                        r.side = c.side;
                        const run_result result = execute(r);
                        if (result.kind != verdict::pass) {
                            found = s + 1;
                            if (row.verdict[k].find(to_string(result.kind)) == std::string::npos) {
                                row.verdict[k] +=
                                    std::string(row.verdict[k].empty() ? "" : ", ") + to_string(result.kind);
                            }
                        }
                    }
                    row.found[k].push_back(found);
                }
            }
            row.seconds = seconds_since(t0);
            std::size_t caught_windows = 0;
            for (int k = 0; k < canary_strategy_count; ++k) caught_windows += hits(row.found[k]);
            const bool caught = caught_windows != 0;
            std::printf("%-13s %-38s", row.workload.c_str(), row.canary.c_str());
            for (int k = 0; k < canary_strategy_count; ++k) {
                std::printf(" %s:%-6s", canary_strategies[k],
                            median_text(row.found[k], w->canary_seed_bound).c_str());
            }
            std::printf(" %s\n", caught ? "caught" : "MISSED");
            std::fflush(stdout);
            if (!caught) status = canary_missed;
            rows.push_back(row);
        }
    }
    if (!report.empty() || !json.empty()) {
        std::vector<speed_row> speeds;
        for (const workload_spec* w : list) {
            for (const char* st : {"random", "pct3", "pb2"}) speeds.push_back(measure_speed(*w, st, 3000));
        }
        if (!report.empty()) {
            std::ofstream out(report);
            out << "# DST: bug-finding power and speed\n\n"
                << "Generated by `scripts/ringlab dst report` (`ringlab-dst sweep --canaries --windows "
                << windows
                << " --report ... --json ...`); the raw numbers are in `dst.json` beside this file.\n\n"
                << "## Seeds to find each canary\n\n"
                << "For every canary (a planted bug, or a memory-order site weakened one step) and every "
                   "strategy, "
                << "the number of seeds a sweep ran before the first failure, in " << windows
                << " disjoint seed windows (window k starts at seed 1 + k * 2^32); the table shows the "
                   "median "
                << "and, in brackets, in how many windows the canary was found within the workload's seed "
                   "bound. "
                << "`random` is the uniform random walk, `pct<d>` PCT with depth d, `pb2` random preemptions "
                << "bounded at 2 per run. A weakened order is usually caught by the first seed: the "
                   "happens-before "
                << "tracker reports the unordered plain-data access in any interleaving that reaches it. "
                << "Lost wake-ups need one preemption at one step, and are where the strategies differ. "
                << "Interleavings here are sequentially consistent, so a bug that needs a weak-memory "
                << "effect (a store buffer hiding a joiner from the producer's scan, as "
                << "`sequence_group.join_without_handshake` plants) is no DST canary: the Relacy suites "
                << "catch those (`model-checks.md`).\n\n"
                << "| workload | canary | kind | what it breaks | bound |";
            for (const char* st : canary_strategies) out << " " << st << " |";
            out << " verdicts |\n|---|---|---|---|---|";
            for (int k = 0; k < canary_strategy_count; ++k) out << "---|";
            out << "---|\n";
            for (const auto& r : rows) {
                const workload_spec* w = find_workload(r.workload);
                out << "| " << r.workload << " | `" << r.canary << "` | " << r.kind << " | " << r.bug << " | "
                    << w->canary_seed_bound << " |";
                std::string verdicts;
                for (int k = 0; k < canary_strategy_count; ++k) {
                    out << " " << median_text(r.found[k], w->canary_seed_bound) << " (" << hits(r.found[k])
                        << "/" << windows << ") |";
                    for (const char* v : {"correctness", "liveness", "crash"}) {
                        if (r.verdict[k].find(v) != std::string::npos &&
                            verdicts.find(v) == std::string::npos) {
                            verdicts += std::string(verdicts.empty() ? "" : ", ") + v;
                        }
                    }
                }
                out << " " << verdicts << " |\n";
            }
            out << "\n## Speed\n\n"
                << "3000 seeds per workload and strategy, one core, this build (Release-with-debug-info).\n\n"
                << "| workload | strategy | seeds | steps | M steps/s | seeds/s "
                   "|\n|---|---|---|---|---|---|\n";
            for (const auto& sp : speeds) {
                char line[256];
                std::snprintf(line, sizeof line, "| %s | %s | %llu | %llu | %.2f | %.0f |\n",
                              sp.workload.c_str(), sp.strategy.c_str(),
                              static_cast<unsigned long long>(sp.seeds),
                              static_cast<unsigned long long>(sp.steps), sp.steps / sp.seconds / 1e6,
                              sp.seeds / sp.seconds);
                out << line;
            }
        }
        if (!json.empty()) {
            std::ofstream out(json);
            out << "{\n  \"windows\": " << windows << ",\n  \"canaries\": [\n";
            for (std::size_t i = 0; i < rows.size(); ++i) {
                const auto& r = rows[i];
                out << "    {\"workload\": \"" << r.workload << "\", \"canary\": \"" << r.canary
                    << "\", \"kind\": \"" << r.kind << "\", \"bug\": \"" << json_escape(r.bug)
                    << "\", \"bound\": " << find_workload(r.workload)->canary_seed_bound
                    << ", \"seeds_to_find\": {";
                for (int k = 0; k < canary_strategy_count; ++k) {
                    out << (k ? ", " : "") << "\"" << canary_strategies[k] << "\": [";
                    for (std::size_t j = 0; j < r.found[k].size(); ++j)
                        out << (j ? ", " : "") << r.found[k][j];
                    out << "]";
                }
                out << "}, \"seconds\": " << r.seconds << "}" << (i + 1 < rows.size() ? "," : "") << "\n";
            }
            out << "  ],\n  \"speed\": [\n";
            for (std::size_t i = 0; i < speeds.size(); ++i) {
                const auto& sp = speeds[i];
                out << "    {\"workload\": \"" << sp.workload << "\", \"strategy\": \"" << sp.strategy
                    << "\", \"seeds\": " << sp.seeds << ", \"steps\": " << sp.steps
                    << ", \"seconds\": " << sp.seconds << "}" << (i + 1 < speeds.size() ? "," : "") << "\n";
            }
            out << "  ]\n}\n";
        }
    }
    std::printf("canaries: %s\n", status == 0 ? "every canary caught" : "SOME CANARY MISSED");
    return status;
}

int cmd_sweep(const args& a) {
    std::vector<const workload_spec*> list;
    for (const auto& w : workloads()) {
        if (!a.has("--workload") || a.get("--workload") == w.name) list.push_back(&w);
    }
    if (list.empty()) return usage();
    if (a.has("--canaries")) {
        return sweep_canaries(list, a.get("--report"), a.get("--json"),
                              std::max<std::uint64_t>(1, number(a, "--windows", 1)));
    }
    const double budget = static_cast<double>(number(a, "--time-budget", 60));
    const double per_workload = budget / static_cast<double>(list.size());
    const auto portfolio = *parse_strategy_choice("portfolio");
    std::printf("%-14s %10s %9s %12s %10s\n", "workload", "seeds", "failures", "steps/s", "seeds/s");
    for (const workload_spec* w : list) {
        const auto t0 = std::chrono::steady_clock::now();
        std::uint64_t seeds = 0;
        std::uint64_t steps = 0;
        const std::uint64_t start = number(a, "--start", 1);
        double next_progress = 5;
        const bool tty = isatty(fileno(stderr)) != 0;
        while (seconds_since(t0) < per_workload) {
            if (seconds_since(t0) >= next_progress) {
                // Progress on stderr: over a line of its own on a terminal, one line per 5 s in a log.
                std::fprintf(stderr, "%s  %-14s %llu seeds, %.0f s of %.0f s%s", tty ? "\r" : "", w->name,
                             static_cast<unsigned long long>(seeds), seconds_since(t0), per_workload,
                             tty ? "" : "\n");
                next_progress += 5;
            }
            for (int i = 0; i < 64; ++i) {
                run_request r;
                r.workload = w;
                r.seed = start + seeds;
                assign_strategy(r, portfolio);
                run_result result = execute(r);
                ++seeds;
                steps += result.steps;
                if (result.kind != verdict::pass) {
                    const failure_report rep = investigate(r, std::move(result), true);
                    print_failure(rep);
                    return exit_code(rep.result.kind);
                }
            }
        }
        const double secs = seconds_since(t0);
        if (tty) std::fprintf(stderr, "\r%60s\r", "");
        std::printf("%-14s %10llu %9d %12.0f %10.0f\n", w->name, static_cast<unsigned long long>(seeds), 0,
                    steps / secs, seeds / secs);
        std::fflush(stdout);
    }
    return 0;
}

int cmd_bench(const args& a) {
    const workload_spec* w = find_workload(a.get("--workload", "spsc_ring"));
    if (w == nullptr) return usage();
    const std::uint64_t seeds = number(a, "--seeds", 2000);
    for (const char* name : {"random", "pct3", "pb2"}) {
        const auto choice = *parse_strategy_choice(name);
        const auto t0 = std::chrono::steady_clock::now();
        std::uint64_t steps = 0;
        for (std::uint64_t s = 1; s <= seeds; ++s) {
            run_request r;
            r.workload = w;
            r.seed = s;
            assign_strategy(r, choice);
            steps += execute(r).steps;
        }
        const double secs = seconds_since(t0);
        std::printf("%-12s %-7s %8llu seeds %11llu steps %7.2f M steps/s %9.0f seeds/s\n", w->name, name,
                    static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(steps),
                    steps / secs / 1e6, seeds / secs);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const args a = parse(argc, argv);
    install_crash_handler();
    if (a.command.empty() || a.has("--help") || a.command == "help") return usage();
    if (a.command == "list") return cmd_list();
    if (a.command == "run") return cmd_run(a);
    if (a.command == "replay") return cmd_replay(a);
    if (a.command == "sweep") return cmd_sweep(a);
    if (a.command == "bench") return cmd_bench(a);
    std::fprintf(stderr, "unknown command '%s'\n", a.command.c_str());
    return usage();
}
