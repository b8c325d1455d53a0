// dst/main.cpp: the DST command line (scripts/ringlab dst ... runs this).
//
//   list
//   run --workload W [--seeds N] [--start S] [--strategy random|pct[d]|pb[k]|portfolio]
//       [--canary NAME] [--mutant LABEL[:release]] [--no-shrink]
//   replay TOKEN [--trace FILE]
//   sweep [--time-budget SECONDS] [--workload W] [--canaries] [--report FILE]
//   bench [--workload W] [--seeds N]
//
// Exit codes: 0 all passed, 10 correctness, 11 liveness, 12 crash, 2 usage, 3 a canary
// that the sweep did not catch.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

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
                 "       ringlab-dst sweep [--time-budget S] [--workload W] [--canaries] [--report FILE]\n"
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
int run_seeds(const workload_spec& w, std::uint64_t start, std::uint64_t count,
              const strategy_choice& choice, const std::string& canary, const std::string& mutant,
              bool shrink, bool verbose) {
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
                static_cast<unsigned long long>(count), static_cast<unsigned long long>(steps),
                steps / secs, count / secs);
    return 0;
}

int cmd_run(const args& a) {
    const workload_spec* w = find_workload(a.get("--workload"));
    if (w == nullptr) {
        std::fprintf(stderr, "run: unknown or missing --workload '%s' (see: list)\n", a.get("--workload").c_str());
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

struct canary_row {
    std::string workload;
    std::string canary;
    std::string kind;
    std::string bug;
    std::uint64_t found_at[3] = {0, 0, 0};  // per strategy; 0: not found within the bound
    std::string verdict[3];
    double seconds = 0;
};

int sweep_canaries(const std::vector<const workload_spec*>& list, const std::string& report) {
    const strategy_choice strategies[3] = {*parse_strategy_choice("random"), *parse_strategy_choice("pct3"),
                                           *parse_strategy_choice("pb2")};
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
            for (int k = 0; k < 3; ++k) {
                for (std::uint64_t s = 1; s <= w->canary_seed_bound; ++s) {
                    run_request r;
                    r.workload = w;
                    r.seed = s;
                    assign_strategy(r, strategies[k]);
                    (c.type == canary_spec::kind::planted ? r.canary : r.mutant) = c.name;
                    r.side = c.side;
                    const run_result result = execute(r);
                    if (result.kind != verdict::pass) {
                        row.found_at[k] = s;
                        row.verdict[k] = to_string(result.kind);
                        break;
                    }
                }
            }
            row.seconds = seconds_since(t0);
            const bool caught = row.found_at[0] + row.found_at[1] + row.found_at[2] != 0;
            std::printf("%-12s %-38s random:%-6s pct3:%-6s pb2:%-6s %s\n", row.workload.c_str(), row.canary.c_str(),
                        row.found_at[0] ? std::to_string(row.found_at[0]).c_str() : "-",
                        row.found_at[1] ? std::to_string(row.found_at[1]).c_str() : "-",
                        row.found_at[2] ? std::to_string(row.found_at[2]).c_str() : "-",
                        caught ? "caught" : "MISSED");
            std::fflush(stdout);
            if (!caught) status = canary_missed;
            rows.push_back(row);
        }
    }
    if (!report.empty()) {
        std::ofstream out(report);
        out << "| workload | canary | kind | what it breaks | random | pct3 | pb2 | verdict |\n";
        out << "|---|---|---|---|---|---|---|---|\n";
        for (const auto& r : rows) {
            std::string verdicts;
            for (int k = 0; k < 3; ++k) {
                if (!r.verdict[k].empty() && verdicts.find(r.verdict[k]) == std::string::npos) {
                    verdicts += (verdicts.empty() ? "" : ", ") + r.verdict[k];
                }
            }
            out << "| " << r.workload << " | `" << r.canary << "` | " << r.kind << " | " << r.bug;
            for (int k = 0; k < 3; ++k) out << " | " << (r.found_at[k] ? std::to_string(r.found_at[k]) : "not found");
            out << " | " << verdicts << " |\n";
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
    if (a.has("--canaries")) return sweep_canaries(list, a.get("--report"));
    const double budget = static_cast<double>(number(a, "--time-budget", 60));
    const double per_workload = budget / static_cast<double>(list.size());
    const auto portfolio = *parse_strategy_choice("portfolio");
    std::printf("%-14s %10s %9s %12s %10s\n", "workload", "seeds", "failures", "steps/s", "seeds/s");
    for (const workload_spec* w : list) {
        const auto t0 = std::chrono::steady_clock::now();
        std::uint64_t seeds = 0;
        std::uint64_t steps = 0;
        const std::uint64_t start = number(a, "--start", 1);
        while (seconds_since(t0) < per_workload) {
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
