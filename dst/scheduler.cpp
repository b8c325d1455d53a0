// dst/scheduler.cpp: fibers, the run loop, blocking, wake-ups and virtual time.
#include "dst/scheduler_impl.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define RINGLAB_DST_ASAN 1
#else
#define RINGLAB_DST_ASAN 0
#endif

namespace ringlab::dst {

thread_local scheduler* scheduler::active = nullptr;

namespace {
// AddressSanitizer must be told when execution moves to another stack, or it reports the
// fibers' frames as overflows. `leaving` is null when the current fiber never comes back.
void asan_before_switch(logical_thread* from, const logical_thread* to, bool leaving) {
#if RINGLAB_DST_ASAN
    __sanitizer_start_switch_fiber(leaving ? nullptr : &from->asan_fake_stack, to->asan_stack_bottom,
                                   to->asan_stack_size);
#else
    (void)from;
    (void)to;
    (void)leaving;
#endif
}

void asan_after_switch(logical_thread* now_running, logical_thread* from) {
#if RINGLAB_DST_ASAN
    const void* bottom = nullptr;
    std::size_t size = 0;
    __sanitizer_finish_switch_fiber(now_running->asan_fake_stack, &bottom, &size);
    if (from != nullptr && from->asan_stack_bottom == nullptr) {
        from->asan_stack_bottom = bottom;  // learns the main stack on the first switch
        from->asan_stack_size = size;
    }
#else
    (void)now_running;
    (void)from;
#endif
}
}  // namespace

namespace {
constexpr std::size_t fiber_stack_bytes = 256 * 1024;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

std::string where(const std::source_location& loc) {
    if (loc.line() == 0) return {};
    std::string file = loc.file_name();
    const auto pos = file.rfind("/lib/include/");
    if (pos != std::string::npos) file = file.substr(pos + 1);
    return file + ":" + std::to_string(loc.line());
}
}  // namespace

const char* to_string(verdict v) noexcept {
    switch (v) {
        case verdict::pass:
            return "pass";
        case verdict::correctness:
            return "correctness";
        case verdict::liveness:
            return "liveness";
        case verdict::crash:
            return "crash";
    }
    return "?";
}

fiber_stack::fiber_stack(std::size_t bytes) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    usable_ = (bytes + page - 1) / page * page;
    mapped_ = usable_ + page;
    base_ = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base_ == MAP_FAILED) throw std::runtime_error("dst: cannot map a fiber stack");
    mprotect(base_, page, PROT_NONE);  // guard page: an overflow faults instead of corrupting
    top_ = static_cast<char*>(base_) + mapped_;
#if RINGLAB_DST_ASAN
    // A new mapping may reuse an old fiber's addresses, whose frames ASan still has poisoned.
    __asan_unpoison_memory_region(static_cast<char*>(base_) + page, usable_);
#endif
}

fiber_stack::~fiber_stack() { munmap(base_, mapped_); }

void fiber_entry(bctx::transfer_t t) {
    scheduler& s = *scheduler::active;
    auto* from = static_cast<logical_thread*>(t.data);
    from->ctx = t.fctx;
    logical_thread* me = s.current_;
    asan_after_switch(me, from);
    try {
        me->body();
    } catch (const std::exception& e) {
        s.fail(verdict::crash, "uncaught exception in thread '" + me->name + "': " + e.what(), &me->last_loc);
    } catch (...) {
        s.fail(verdict::crash, "uncaught non-standard exception in thread '" + me->name + "'", &me->last_loc);
    }
    s.finish_current();
}

scheduler::scheduler(const run_options& options)
    : opt_(options),
      knob_rng_(stream_seed(options.seed, 1)),
      sched_rng_(stream_seed(options.seed, 2)),
      fault_rng_(stream_seed(options.seed, 3)) {
    main_.id = 0;
    main_.name = "main";
    main_.clock.tick[0] = 1;
    current_ = &main_;
    active = this;
}

scheduler::~scheduler() { active = nullptr; }

std::uint64_t scheduler::draw_knob(const char* name, std::uint64_t lo, std::uint64_t hi) {
    const std::uint64_t v = knob_rng_.between(lo, hi);
    result.knobs.push_back(std::string(name) + "=" + std::to_string(v));
    return v;
}

std::uint32_t scheduler::spawn(std::string name, std::function<void()> body) {
    if (threads_.size() + 1 >= static_cast<std::size_t>(sync::sim_max_threads)) {
        fail(verdict::crash,
             "spawn: more than " + std::to_string(sync::sim_max_threads - 1) + " logical threads", nullptr);
    }
    auto t = std::make_unique<logical_thread>();
    t->id = static_cast<std::uint32_t>(threads_.size() + 1);
    t->name = std::move(name);
    t->body = std::move(body);
    t->stack = std::make_unique<fiber_stack>(fiber_stack_bytes);
    t->ctx = bctx::make_fcontext(t->stack->top(), t->stack->usable_bytes(), fiber_entry);
    t->asan_stack_bottom = static_cast<char*>(t->stack->top()) - t->stack->usable_bytes();
    t->asan_stack_size = t->stack->usable_bytes();
    t->clock = current_->clock;  // the child starts after everything its parent did
    t->clock.tick[t->id] = 1;
    tick(*current_);
    result.thread_names.push_back(t->name);
    logical_thread& ref = *t;
    threads_.push_back(std::move(t));
    runnable_.push_back(ref.id);
    ++live_;
    strategy_on_spawn(ref);
    return ref.id;
}

bool scheduler::run() {
    if (running_ || current_ != &main_) {
        fail(verdict::crash, "run_context::run() called twice or from a logical thread", nullptr);
    }
    running_ = true;
    strategy_init();
    faults_init();
    if (live_ > 0) {
        logical_thread* first = choose(sync::sim_op::yield, false);
        result.schedule.push_back({decision_, first->id});
        current_ = first;
        asan_before_switch(&main_, first, false);
        bctx::transfer_t t = bctx::jump_fcontext(first->ctx, &main_);
        static_cast<logical_thread*>(t.data)->ctx = t.fctx;
        current_ = &main_;
        asan_after_switch(&main_, nullptr);
    }
    running_ = false;
    if (result.kind == verdict::pass && !invariants_.empty()) {
        try {
            check_invariants(std::source_location::current());
        } catch (const run_aborted&) {
        }
    }
    for (const auto& t : threads_) {
        for (int i = 0; i < sync::sim_max_threads; ++i) {
            main_.clock.tick[i] = std::max(main_.clock.tick[i], t->clock.tick[i]);
        }
    }
    return result.kind == verdict::pass;
}

void scheduler::join(std::uint32_t id) {
    if (id == 0 || id > threads_.size() || current_ == &main_) {
        fail(verdict::crash, "join: bad thread id or called from the main context", nullptr);
    }
    logical_thread& target = *threads_[id - 1];
    if (target.state != thread_state::finished && target.state != thread_state::crashed) {
        current_->joining = id;
        block_current();
        current_->joining = 0;
    }
    for (int i = 0; i < sync::sim_max_threads; ++i) {
        current_->clock.tick[i] = std::max(current_->clock.tick[i], target.clock.tick[i]);
    }
}

bool scheduler::crashed(std::uint32_t id) const noexcept {
    return id != 0 && id <= threads_.size() && threads_[id - 1]->state == thread_state::crashed;
}

void scheduler::fail(verdict kind, std::string message, const std::source_location* loc) {
    if (result.kind == verdict::pass) {
        result.kind = kind;
        result.message = std::move(message);
        result.where = loc != nullptr ? where(*loc) : std::string();
        result.steps = step_;
    }
    if (running_ && current_ != &main_) leave_forever();
    throw run_aborted{};
}

void scheduler::record_step(sync::sim_op op, const char* label, const std::source_location& loc) {
    hash_ = (hash_ ^ (current_->id | (static_cast<std::uint64_t>(op) << 8) |
                      (static_cast<std::uint64_t>(loc.line()) << 16))) *
            fnv_prime;
    if (opt_.record_trace) {
        result.trace.push_back(trace_step{step_, current_->id, op, label, loc.file_name(),
                                          static_cast<std::uint32_t>(loc.line()), 0, 0});
    }
}

void scheduler::add_invariant(std::string name, std::function<bool()> holds) {
    invariants_.emplace_back(std::move(name), std::move(holds));
}

void scheduler::check_invariants(const std::source_location& loc) {
    checking_ = true;
    for (const auto& [name, holds] : invariants_) {
        if (!holds()) {
            checking_ = false;
            fail(verdict::correctness,
                 "invariant '" + name + "' broken after step " + std::to_string(step_) + " (by '" +
                     current_->name + "', now before " + current_->last_label + ")",
                 &loc);
        }
    }
    checking_ = false;
}

void scheduler::point(sync::sim_op op, const char* label, const std::source_location& loc) {
    if (checking_ || !running_ || current_ == &main_) return;  // setup and teardown run unscheduled
    if (!invariants_.empty()) check_invariants(loc);
    ++step_;
    now_ns_ += opt_.step_ns;
    current_->last_label = label;
    current_->last_loc = loc;
    if (step_ > opt_.max_steps) {
        fail(verdict::liveness,
             "step budget of " + std::to_string(opt_.max_steps) +
                 " exhausted: a workload larger than its budget",
             &loc);
    }
    if (step_ - last_write_step_ > opt_.livelock_steps && timers_.empty()) {
        fail(verdict::liveness,
             "livelock: " + std::to_string(opt_.livelock_steps) +
                 " steps without a store, a read-modify-write or a wake, and no timer pending",
             &loc);
    }
    if (!timers_.empty() && timers_.top().first <= now_ns_) fire_timers();
    if (!stalls_.empty() && stalls_.top().first <= step_) end_stalls(false);
    if (opt_.faults) inject_faults();
    if (current_->state == thread_state::crashed) reschedule_forever();
    logical_thread* next = choose(op, current_->state == thread_state::runnable);
    if (next == nullptr) {
        // Only this (stalled) thread can run: a stall never blocks the whole system.
        end_stalls(true);
        next = choose(op, current_->state == thread_state::runnable);
    }
    if (next != current_) switch_to(next);
    // The operation runs now, so the trace and the hash see operations in execution order.
    if (op == sync::sim_op::store || op == sync::sim_op::rmw || op == sync::sim_op::cell_write ||
        op == sync::sim_op::futex_wake) {
        last_write_step_ = step_;
    }
    record_step(op, label, loc);
}

void scheduler::switch_to(logical_thread* next) {
    logical_thread* prev = current_;
    result.schedule.push_back({decision_, next->id});
    current_ = next;
    const bool leaving = prev->state == thread_state::finished || prev->state == thread_state::crashed;
    asan_before_switch(prev, next, leaving);
    bctx::transfer_t t = bctx::jump_fcontext(next->ctx, prev);
    auto* from = static_cast<logical_thread*>(t.data);
    from->ctx = t.fctx;
    asan_after_switch(prev, from);
}

void scheduler::leave_forever() {
    logical_thread* prev = current_;
    current_ = &main_;
    asan_before_switch(prev, &main_, true);
    bctx::jump_fcontext(main_.ctx, prev);
    std::abort();  // a thread that left for good is never resumed
}

void scheduler::remove_runnable(std::uint32_t id) {
    const auto it = std::find(runnable_.begin(), runnable_.end(), id);
    if (it != runnable_.end()) runnable_.erase(it);
}

void scheduler::make_runnable(logical_thread* t, sync::futex_status why) {
    t->state = thread_state::runnable;
    t->futex = nullptr;
    t->timed = false;
    t->wake_status = why;
    runnable_.insert(std::lower_bound(runnable_.begin(), runnable_.end(), t->id), t->id);
}

void scheduler::stall(logical_thread* t, std::uint64_t steps) {
    t->state = thread_state::stalled;
    t->stalled_until = step_ + steps;
    remove_runnable(t->id);
    stalls_.push({t->stalled_until, t->id});
}

void scheduler::end_stalls(bool all) {
    while (!stalls_.empty() && (all || stalls_.top().first <= step_)) {
        logical_thread* t = threads_[stalls_.top().second - 1].get();
        stalls_.pop();
        if (t->state == thread_state::stalled) make_runnable(t, t->wake_status);
    }
}

void scheduler::fire_timers() {
    while (!timers_.empty() && timers_.top().first <= now_ns_) {
        const timer due = timers_.top();
        timers_.pop();
        logical_thread* t = threads_[due.second - 1].get();
        if (t->state == thread_state::blocked && t->timed && t->timer_at_ns == due.first) {
            make_runnable(t, sync::futex_status::timed_out);
        }
    }
}

void scheduler::advance_to_next_timer() {
    now_ns_ = std::max(now_ns_, timers_.top().first);
    fire_timers();
}

void scheduler::reschedule_forever() {
    for (;;) {
        if (live_ == 0) leave_forever();
        logical_thread* next = choose(sync::sim_op::yield, false);
        if (next != nullptr) {
            switch_to(next);
            std::abort();  // finished and crashed threads are never switched back to
        }
        if (!stalls_.empty()) {
            end_stalls(true);
        } else if (!timers_.empty()) {
            advance_to_next_timer();
        } else {
            fail(verdict::liveness, "deadlock: every live thread is blocked\n" + blocked_report(), nullptr);
        }
    }
}

void scheduler::block_current() {
    logical_thread* me = current_;
    me->state = thread_state::blocked;
    remove_runnable(me->id);
    for (;;) {
        logical_thread* next = choose(sync::sim_op::futex_wait, false);
        if (next != nullptr) {
            if (next != me) switch_to(next);
            return;  // someone woke us and the strategy picked us
        }
        if (!stalls_.empty()) {
            end_stalls(true);
        } else if (!timers_.empty()) {
            advance_to_next_timer();
        } else {
            fail(verdict::liveness, "deadlock: every live thread is blocked\n" + blocked_report(),
                 &me->last_loc);
        }
    }
}

void scheduler::finish_current() {
    logical_thread* me = current_;
    me->state = thread_state::finished;
    remove_runnable(me->id);
    --live_;
    for (const auto& t : threads_) {
        if (t->state == thread_state::blocked && t->joining == me->id) {
            make_runnable(t.get(), sync::futex_status::woken);
        }
    }
    reschedule_forever();
}

void scheduler::crash_current() {
    logical_thread* me = current_;
    result.faults.push_back("crashed '" + me->name + "' at step " + std::to_string(step_));
    me->state = thread_state::crashed;
    remove_runnable(me->id);
    --live_;
    for (const auto& t : threads_) {
        if (t->state == thread_state::blocked && t->joining == me->id) {
            make_runnable(t.get(), sync::futex_status::woken);
        }
    }
}

std::string scheduler::blocked_report() const {
    std::string out;
    for (const auto& t : threads_) {
        if (t->state != thread_state::blocked) continue;
        out += "  '" + t->name + "' blocked ";
        if (t->joining != 0) {
            out += "joining '" + threads_[t->joining - 1]->name + "'";
        } else {
            out += "in a futex wait";
        }
        out += " after " + std::string(t->last_label) + " at " + where(t->last_loc) + "\n";
    }
    return out;
}

sync::futex_status scheduler::futex_block(const void* word, std::uint64_t timeout_ns) {
    if (current_ == &main_) {
        fail(verdict::crash, "a futex wait in the workload's main context would never wake", nullptr);
    }
    logical_thread* me = current_;
    me->futex = word;
    me->timed = timeout_ns != sync::no_timeout;
    if (me->timed) {
        me->timer_at_ns = now_ns_ + timeout_ns;
        timers_.push({me->timer_at_ns, me->id});
    }
    block_current();
    return me->wake_status;
}

int scheduler::futex_wake(const void* word, int count) {
    int woken = 0;
    for (const auto& t : threads_) {
        if (woken >= count) break;
        if (t->state != thread_state::blocked || t->futex != word) continue;
        ++woken;
        make_runnable(t.get(), sync::futex_status::woken);
        if (faults_.late_wakes && fault_rng_.chance(1, 4)) stall(t.get(), fault_rng_.between(1, 200));
    }
    return woken;
}

void scheduler::sleep(std::uint64_t ns) {
    if (current_ == &main_) {
        now_ns_ += ns;
        return;
    }
    logical_thread* me = current_;
    me->futex = nullptr;
    me->timed = true;
    me->timer_at_ns = now_ns_ + ns;
    timers_.push({me->timer_at_ns, me->id});
    block_current();
}

}  // namespace ringlab::dst
