// dst/runner.hpp: running seeds, reporting failures, shrinking them, checking replays.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dst/token.hpp"
#include "dst/workload.hpp"

namespace ringlab::dst {

/// Which strategy a seed runs under.
struct strategy_choice {
    bool portfolio = true;  // rotate random, pct3, pb2, pct2 across seeds
    strategy_kind kind = strategy_kind::random_walk;
    std::uint32_t param = 0;
};

[[nodiscard]] std::optional<strategy_choice> parse_strategy_choice(const std::string& text);

struct run_request {
    const workload_spec* workload = nullptr;
    std::uint64_t seed = 0;
    strategy_kind strategy = strategy_kind::random_walk;
    std::uint32_t param = 0;
    std::string canary;  // a planted-bug name, or empty
    std::string mutant;  // a site label, or empty
    sync::weaken_side side = sync::weaken_side::keep_acquire;
    std::optional<std::vector<schedule_entry>> forced;
    bool record_trace = false;
};

/// Fills in the strategy of `seed` for a choice.
void assign_strategy(run_request& request, const strategy_choice& choice);
[[nodiscard]] replay_token token_of(const run_request& request);
[[nodiscard]] run_request request_of(const replay_token& token, std::string& error);

/// Runs one seed, with the canary or mutant switched on for this run only.
[[nodiscard]] run_result execute(const run_request& request);

struct failure_report {
    run_request request;
    run_result result;
    std::string token;         // replays the failing seed
    std::string shrunk_token;  // replays the shrunk schedule
    std::size_t switches_before = 0;
    std::size_t switches_after = 0;
    bool replay_matches = false;
};

/// Shrinks a failure and replays both tokens to check determinism.
[[nodiscard]] failure_report investigate(const run_request& request, run_result result,
                                         bool shrink = true);
void print_failure(const failure_report& report);
void print_seed_header(const run_request& request);
void print_knobs(const run_result& result);
/// Writes one line per step to `path` (the `--trace` file of replay).
bool write_trace(const run_result& result, const std::string& path);

/// Installs handlers that turn a crash inside a run into exit code 12 with its replay token.
void install_crash_handler();
void set_crash_token(const std::string& token);

}  // namespace ringlab::dst
