// dst/scheduler.hpp: the deterministic simulation scheduler.
//
// Logical threads are fibers (boost.context fcontext) on one OS thread, run one at a time.
// Every operation of the sim backend (lib/include/ringlab/sync/sim.hpp) calls point(), where
// the strategy picks who runs next from the run's seed. One u64 seed fixes everything:
// the workload's knobs, the schedule, the faults. A run ends in one verdict:
//   pass, correctness (a check or a data race), liveness (deadlock, step budget), crash.
//
// Time is virtual: each step advances the clock by `step_ns`; when every live thread is
// blocked, the clock jumps to the next timer; nothing sleeps for real.
//
// Happens-before is tracked with vector clocks (acquire/release/relaxed and fences, as
// C++ defines them), so a plain-data access that no release/acquire pair orders is a
// reported race even though the interleaving itself is sequentially consistent.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "dst/rng.hpp"
#include "ringlab/sync/sim.hpp"

namespace ringlab::dst {

enum class verdict : std::uint8_t { pass, correctness, liveness, crash };

/// Process exit codes that tell the verdicts apart (0: every run passed; 2: usage).
[[nodiscard]] constexpr int exit_code(verdict v) noexcept {
    switch (v) {
        case verdict::pass:
            return 0;
        case verdict::correctness:
            return 10;
        case verdict::liveness:
            return 11;
        case verdict::crash:
            return 12;
    }
    return 12;
}
[[nodiscard]] const char* to_string(verdict v) noexcept;

enum class strategy_kind : std::uint8_t { random_walk, pct, preemption_bound };
[[nodiscard]] const char* to_string(strategy_kind k) noexcept;
[[nodiscard]] std::optional<strategy_kind> parse_strategy(const std::string& name) noexcept;

/// A scheduling decision that differs from "keep running the current thread": at the
/// `decision`-th choice of who runs (counted from 1), thread `thread` runs. Choices, not
/// steps: one step can hold several (a thread that finishes or blocks right after it was
/// picked hands over within its step), and a replay must tell them apart.
struct schedule_entry {
    std::uint64_t decision = 0;
    std::uint32_t thread = 0;
    friend bool operator==(const schedule_entry&, const schedule_entry&) = default;
};

struct run_options {
    std::uint64_t seed = 0;
    strategy_kind strategy = strategy_kind::random_walk;
    std::uint32_t pct_depth = 3;
    std::uint32_t preemption_bound = 3;
    std::uint64_t max_steps = std::uint64_t{1} << 21;
    std::uint64_t step_ns = 10;
    /// A run with no store, read-modify-write or wake for this many steps, and no timer
    /// pending, is a livelock: everyone is polling something nobody will change.
    std::uint64_t livelock_steps = 20'000;
    bool faults = true;
    bool record_trace = false;
    /// Replays an explicit schedule instead of asking the strategy (shrunk failures).
    std::optional<std::vector<schedule_entry>> forced;
};

struct trace_step {
    std::uint64_t step;
    std::uint32_t thread;
    sync::sim_op op;
    const char* label;
    const char* file;
    std::uint32_t line;
    std::uint64_t value;
    std::uint32_t object;
};

struct run_result {
    verdict kind = verdict::pass;
    std::string message;
    std::string where;
    std::uint64_t steps = 0;
    std::uint64_t virtual_ns = 0;
    std::uint64_t trace_hash = 0;
    std::uint32_t preemptions = 0;
    std::vector<schedule_entry> schedule;  // every switch actually taken
    std::vector<std::string> knobs;        // "name=value", in draw order
    std::vector<std::string> faults;       // the faults this seed turned on
    std::vector<std::string> thread_names;
    std::vector<trace_step> trace;  // with run_options::record_trace
};

class scheduler;

/// What a workload sees: knobs, threads, checks.
class run_context {
public:
    explicit run_context(scheduler& s) noexcept : sched_(s) {}

    /// A knob drawn from the knob stream in [lo, hi], recorded and printed with the seed.
    std::uint64_t knob(const char* name, std::uint64_t lo, std::uint64_t hi);
    /// One of `choices`, drawn from the knob stream.
    std::uint64_t knob_pick(const char* name, std::initializer_list<std::uint64_t> choices);
    /// True with probability numerator/denominator.
    bool knob_flag(const char* name, std::uint64_t numerator, std::uint64_t denominator);

    /// Spawns a logical thread (before run(), or from a running thread).
    std::uint32_t spawn(std::string name, std::function<void()> body);
    /// Runs every spawned thread to completion. False when the run failed (the verdict is
    /// already recorded; the workload should return).
    bool run();
    /// Blocks the calling logical thread until thread `id` finished.
    void join(std::uint32_t id);

    /// A correctness check. In a logical thread a failure ends the run at once.
    void check(bool ok, const char* what, std::source_location loc = std::source_location::current());
    /// Same, with a message built only on failure.
    template <class Message>
    void check_that(bool ok, Message&& message, std::source_location loc = std::source_location::current()) {
        if (!ok) fail_check(std::string(message()), loc);
    }

    /// An invariant, checked between every two steps of the run (and once more at its
    /// end): `holds` reads the shared state without taking part in the schedule (its sim
    /// operations are plain reads, outside happens-before) and must not block or write.
    /// A false result ends the run as a correctness failure naming the invariant and the
    /// thread whose step broke it.
    void invariant(std::string name, std::function<bool()> holds);

    /// A PCT hint: about how many steps this run takes.
    void expect_steps(std::uint64_t steps) noexcept;
    /// Lets the fault injector crash a thread (the workload tolerates a dead participant).
    void allow_crashes() noexcept;
    /// True when thread `id` was crashed by the fault injector.
    [[nodiscard]] bool crashed(std::uint32_t id) const noexcept;
    [[nodiscard]] std::uint64_t now_ns() const noexcept;

private:
    [[noreturn]] void fail_check(std::string message, const std::source_location& loc);
    scheduler& sched_;
};

/// Runs one seed of one workload.
run_result run_once(const std::function<void(run_context&)>& workload, const run_options& options);

}  // namespace ringlab::dst
