// dst/hooks.cpp: the sim backend's hooks (declared in ringlab/sync/sim.hpp) and the
// workload-facing run_context. Outside a DST run the hooks do nothing, so sim-backend
// objects can be built and inspected from ordinary code.
#include <stdexcept>

#include "dst/scheduler_impl.hpp"

namespace ringlab::sync::sim_hooks {

using ringlab::dst::scheduler;

void point(sim_op op, const char* label, const std::source_location& loc) {
    if (scheduler* s = scheduler::active) s->point(op, label, loc);
}
void atomic_done(sim_atomic_meta& meta, sim_op op, std::memory_order order, std::uint64_t value) {
    if (scheduler* s = scheduler::active) s->atomic_done(meta, op, order, value);
}
void fence_done(std::memory_order order) {
    if (scheduler* s = scheduler::active) s->fence_done(order);
}
void heavy_fence_done() {
    if (scheduler* s = scheduler::active) s->heavy_fence_done();
}
void cell_access(sim_cell_meta& meta, bool is_write, const std::source_location& loc) {
    if (scheduler* s = scheduler::active) s->cell_access(meta, is_write, loc);
}
futex_status futex_block(const void* word, std::uint64_t timeout_ns) {
    if (scheduler* s = scheduler::active) return s->futex_block(word, timeout_ns);
    return futex_status::value_changed;
}
int futex_wake(const void* word, int count) {
    if (scheduler* s = scheduler::active) return s->futex_wake(word, count);
    return 0;
}
std::uint64_t now_ns() {
    if (scheduler* s = scheduler::active) return s->now();
    return 0;
}
void sleep_ns(std::uint64_t ns) {
    if (scheduler* s = scheduler::active) s->sleep(ns);
}
bool weak_cas_fails() {
    if (scheduler* s = scheduler::active) return s->weak_cas_fails();
    return false;
}
void check_failed(const char* what, const std::source_location& loc) {
    if (scheduler* s = scheduler::active) {
        s->fail(ringlab::dst::verdict::correctness, std::string("invariant: ") + what, &loc);
    }
    throw std::logic_error(std::string("ringlab sim invariant broken outside DST: ") + what);
}

}  // namespace ringlab::sync::sim_hooks

namespace ringlab::dst {

std::uint64_t run_context::knob(const char* name, std::uint64_t lo, std::uint64_t hi) {
    return sched_.draw_knob(name, lo, hi);
}

std::uint64_t run_context::knob_pick(const char* name, std::initializer_list<std::uint64_t> choices) {
    const std::uint64_t index = sched_.draw_knob(name, 0, choices.size() - 1);
    const std::uint64_t v = *(choices.begin() + index);
    sched_.result.knobs.back() = std::string(name) + "=" + std::to_string(v);
    return v;
}

bool run_context::knob_flag(const char* name, std::uint64_t numerator, std::uint64_t denominator) {
    const bool v = sched_.draw_knob(name, 0, denominator - 1) < numerator;
    sched_.result.knobs.back() = std::string(name) + "=" + (v ? "1" : "0");
    return v;
}

std::uint32_t run_context::spawn(std::string name, std::function<void()> body) {
    return sched_.spawn(std::move(name), std::move(body));
}

bool run_context::run() { return sched_.run(); }
void run_context::join(std::uint32_t id) { sched_.join(id); }
void run_context::invariant(std::string name, std::function<bool()> holds) {
    sched_.add_invariant(std::move(name), std::move(holds));
}

void run_context::check(bool ok, const char* what, std::source_location loc) {
    if (!ok) fail_check(what, loc);
}

void run_context::fail_check(std::string message, const std::source_location& loc) {
    sched_.fail(verdict::correctness, std::move(message), &loc);
}

void run_context::expect_steps(std::uint64_t steps) noexcept { sched_.expect_steps(steps); }
void run_context::allow_crashes() noexcept { sched_.allow_crashes(); }
bool run_context::crashed(std::uint32_t id) const noexcept { return sched_.crashed(id); }
std::uint64_t run_context::now_ns() const noexcept { return sched_.now(); }

run_result run_once(const std::function<void(run_context&)>& workload, const run_options& options) {
    scheduler s(options);
    run_context ctx(s);
    try {
        workload(ctx);
    } catch (const run_aborted&) {
        // the verdict is recorded
    } catch (const std::exception& e) {
        if (s.result.kind == verdict::pass) {
            s.result.kind = verdict::crash;
            s.result.message = std::string("uncaught exception in the workload: ") + e.what();
        }
    }
    s.finalize();
    return std::move(s.result);
}

}  // namespace ringlab::dst
