// dst/scheduler_impl.hpp: the scheduler's state, shared by its translation units
// (scheduler.cpp: fibers, blocking and time; happens_before.cpp: vector clocks;
// strategy.cpp: who runs next; faults.cpp: what goes wrong).
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "dst/scheduler.hpp"

namespace ringlab::dst {

namespace bctx = boost::context::detail;

/// Thrown only in the workload's own (main) context to unwind out of a failed run.
struct run_aborted {};

enum class thread_state : std::uint8_t { runnable, stalled, blocked, finished, crashed };

/// A fiber stack with a guard page below it, so an overflow is a crash, not corruption.
class fiber_stack {
public:
    explicit fiber_stack(std::size_t bytes);
    ~fiber_stack();
    fiber_stack(const fiber_stack&) = delete;
    fiber_stack& operator=(const fiber_stack&) = delete;
    [[nodiscard]] void* top() const noexcept { return top_; }
    [[nodiscard]] std::size_t usable_bytes() const noexcept { return usable_; }

private:
    void* base_ = nullptr;
    std::size_t mapped_ = 0;
    std::size_t usable_ = 0;
    void* top_ = nullptr;
};

struct logical_thread {
    std::uint32_t id = 0;  // also its vector-clock index; 0 is the workload's main context
    std::string name;
    std::function<void()> body;
    thread_state state = thread_state::runnable;
    bctx::fcontext_t ctx = nullptr;
    std::unique_ptr<fiber_stack> stack;

    sync::sim_vclock clock;            // happens-before
    sync::sim_vclock fence_release;    // clock at the last release fence
    sync::sim_vclock pending_acquire;  // clocks read by relaxed loads, for acquire fences

    const void* futex = nullptr;  // the futex word it sleeps on
    std::uint32_t joining = 0;    // the thread it waits for in join(), 0: none
    bool timed = false;
    std::uint64_t timer_at_ns = 0;
    sync::futex_status wake_status = sync::futex_status::woken;
    std::uint64_t stalled_until = 0;  // fault: not scheduled before this step

    std::int64_t priority = 0;  // PCT

    // AddressSanitizer's view of this fiber (unused without ASan).
    void* asan_fake_stack = nullptr;
    const void* asan_stack_bottom = nullptr;
    std::size_t asan_stack_size = 0;
    const char* last_label = "";
    std::source_location last_loc{};
};

struct fault_plan {
    bool stalls = false;
    std::uint64_t stall_one_in = 0;  // per step
    std::uint64_t stall_steps_max = 0;
    bool spurious_wakes = false;  // a timed or untimed futex wait returns early
    std::uint64_t spurious_one_in = 0;
    bool late_wakes = false;  // a woken thread stays parked a few more steps
    bool weak_cas = false;
    std::uint64_t weak_cas_one_in = 0;
    bool crash = false;  // only for workloads that allow_crashes()
    std::uint64_t crash_step = 0;
};

class scheduler {
public:
    explicit scheduler(const run_options& options);
    ~scheduler();
    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    static thread_local scheduler* active;

    run_result result;

    // Workload surface (through run_context).
    std::uint64_t draw_knob(const char* name, std::uint64_t lo, std::uint64_t hi);
    std::uint32_t spawn(std::string name, std::function<void()> body);
    bool run();
    void join(std::uint32_t id);
    void add_invariant(std::string name, std::function<bool()> holds);
    void expect_steps(std::uint64_t steps) noexcept { horizon_ = steps; }
    void allow_crashes() noexcept { crashes_allowed_ = true; }
    [[nodiscard]] bool crashed(std::uint32_t id) const noexcept;
    [[nodiscard]] std::uint64_t now() const noexcept { return now_ns_; }
    [[noreturn]] void fail(verdict kind, std::string message, const std::source_location* loc);
    /// Copies the run's totals into `result` (after the workload returned).
    void finalize() noexcept {
        result.steps = step_;
        result.virtual_ns = now_ns_;
        result.trace_hash = hash_;
        result.preemptions = preemptions_;
    }

    // Sim hooks.
    void point(sync::sim_op op, const char* label, const std::source_location& loc);
    void atomic_done(sync::sim_atomic_meta& meta, sync::sim_op op, std::memory_order order,
                     std::uint64_t value);
    void fence_done(std::memory_order order);
    void heavy_fence_done();
    void cell_access(sync::sim_cell_meta& meta, bool is_write, const std::source_location& loc);
    sync::futex_status futex_block(const void* word, std::uint64_t timeout_ns);
    int futex_wake(const void* word, int count);
    void sleep(std::uint64_t ns);
    bool weak_cas_fails();

private:
    friend void fiber_entry(bctx::transfer_t t);

    // scheduler.cpp
    void switch_to(logical_thread* next);
    [[noreturn]] void leave_forever();
    void block_current();
    void make_runnable(logical_thread* t, sync::futex_status why);
    void fire_timers();
    void advance_to_next_timer();
    void remove_runnable(std::uint32_t id);
    void finish_current();
    void crash_current();
    void end_stalls(bool all);
    void stall(logical_thread* t, std::uint64_t steps);
    [[noreturn]] void reschedule_forever();
    [[nodiscard]] std::string blocked_report() const;
    void record_step(sync::sim_op op, const char* label, const std::source_location& loc);

    void check_invariants(const std::source_location& loc);

    // strategy.cpp
    void strategy_init();
    void strategy_on_spawn(logical_thread& t);
    logical_thread* choose(sync::sim_op op, bool current_can_run);
    logical_thread* choose_forced(bool current_can_run);
    logical_thread* choose_pct(sync::sim_op op, bool current_can_run);
    logical_thread* choose_bounded(sync::sim_op op, bool current_can_run);
    logical_thread* lowest_runnable() const;

    // faults.cpp
    void faults_init();
    void inject_faults();

    // happens_before.cpp
    void tick(logical_thread& t) noexcept;
    std::uint32_t object_id(std::uint32_t& slot) noexcept;

    run_options opt_;
    rng knob_rng_;
    rng sched_rng_;
    rng fault_rng_;
    fault_plan faults_;

    logical_thread main_;
    std::vector<std::unique_ptr<logical_thread>> threads_;  // index = id - 1
    std::vector<std::uint32_t> runnable_;                   // ids, in id order
    logical_thread* current_ = nullptr;
    std::uint32_t live_ = 0;
    bool running_ = false;
    bool crashes_allowed_ = false;
    // Invariants, checked between every two steps; while one runs, the sim backend's
    // operations are plain reads (no scheduling point, no happens-before, no hash).
    std::vector<std::pair<std::string, std::function<bool()>>> invariants_;
    bool checking_ = false;

    std::uint64_t step_ = 0;
    std::uint64_t last_write_step_ = 0;
    std::uint64_t now_ns_ = 0;
    std::uint64_t horizon_ = 20'000;
    std::uint64_t hash_ = 0xcbf29ce484222325ULL;
    std::uint32_t next_object_id_ = 1;

    using timer = std::pair<std::uint64_t, std::uint32_t>;                   // (deadline or step, thread id)
    std::priority_queue<timer, std::vector<timer>, std::greater<>> timers_;  // virtual ns
    std::priority_queue<timer, std::vector<timer>, std::greater<>> stalls_;  // steps

    // strategy state
    std::vector<std::uint64_t> pct_change_steps_;
    std::size_t pct_next_change_ = 0;
    std::int64_t pct_lowest_ = 0;
    std::uint32_t preemptions_ = 0;
    std::size_t forced_next_ = 0;
    std::uint64_t decision_ = 0;  // choose() calls so far: what schedule entries count
};

void fiber_entry(bctx::transfer_t t);

}  // namespace ringlab::dst
