// dst/strategy.cpp: who runs next.
//
//   random_walk       a uniformly random runnable thread at every scheduling point.
//   pct               probabilistic concurrency testing (Burckhardt et al., ASPLOS'10): random
//                     distinct priorities, the highest runnable thread runs, and at d-1
//                     random steps the running thread drops below everyone. A thread that
//                     spins (pause, yield, a clock read) also drops, so spin-waits cannot
//                     starve the run.
//   preemption_bound  runs the current thread until it blocks, spins or reads the clock,
//                     preempting it at random steps at most `preemption_bound` times per run.
//   forced            (replay) the recorded switches (counted in decisions, schedule_entry),
//                     else the current thread (also one that blocked and was woken again),
//                     else the lowest-numbered runnable one.
#include <algorithm>

#include "dst/scheduler_impl.hpp"

namespace ringlab::dst {

const char* to_string(strategy_kind k) noexcept {
    switch (k) {
        case strategy_kind::random_walk:
            return "random";
        case strategy_kind::pct:
            return "pct";
        case strategy_kind::preemption_bound:
            return "pb";
    }
    return "?";
}

std::optional<strategy_kind> parse_strategy(const std::string& name) noexcept {
    if (name == "random") return strategy_kind::random_walk;
    if (name == "pct") return strategy_kind::pct;
    if (name == "pb") return strategy_kind::preemption_bound;
    return std::nullopt;
}

void scheduler::strategy_init() {
    if (opt_.strategy != strategy_kind::pct) return;
    const std::uint64_t horizon = std::max<std::uint64_t>(horizon_, 2);
    for (std::uint32_t i = 1; i < opt_.pct_depth; ++i) {
        pct_change_steps_.push_back(sched_rng_.between(1, horizon));
    }
    std::sort(pct_change_steps_.begin(), pct_change_steps_.end());
    pct_lowest_ = static_cast<std::int64_t>(opt_.pct_depth);
}

void scheduler::strategy_on_spawn(logical_thread& t) {
    // Distinct with overwhelming probability; ties go to the lower id.
    t.priority = static_cast<std::int64_t>(opt_.pct_depth) + 1 +
                 static_cast<std::int64_t>(sched_rng_.below(std::uint64_t{1} << 40));
}

logical_thread* scheduler::lowest_runnable() const {
    return runnable_.empty() ? nullptr : threads_[runnable_.front() - 1].get();
}

logical_thread* scheduler::choose(sync::sim_op op, bool current_can_run) {
    ++decision_;
    if (runnable_.empty()) return nullptr;
    if (opt_.forced) return choose_forced(current_can_run);
    switch (opt_.strategy) {
        case strategy_kind::random_walk:
            return threads_[runnable_[sched_rng_.below(runnable_.size())] - 1].get();
        case strategy_kind::pct:
            return choose_pct(op, current_can_run);
        case strategy_kind::preemption_bound:
            return choose_bounded(op, current_can_run);
    }
    return lowest_runnable();
}

logical_thread* scheduler::choose_forced(bool current_can_run) {
    const auto& forced = *opt_.forced;
    while (forced_next_ < forced.size() && forced[forced_next_].decision < decision_) ++forced_next_;
    if (forced_next_ < forced.size() && forced[forced_next_].decision == decision_) {
        const std::uint32_t id = forced[forced_next_++].thread;
        if (id >= 1 && id <= threads_.size() && threads_[id - 1]->state == thread_state::runnable) {
            return threads_[id - 1].get();
        }
    }
    // No recorded switch: the thread that ran on. That is the current thread also when it
    // blocked and was woken again before anyone else ran (timers that fired together, the
    // end of a stall): the recorded run picked it without a switch to record.
    if (current_can_run || (current_ != &main_ && current_->state == thread_state::runnable)) return current_;
    return lowest_runnable();
}

logical_thread* scheduler::choose_pct(sync::sim_op op, bool current_can_run) {
    if (current_ != &main_) {
        // A clock read is a waiting loop too (a timed wait that timed out and goes round).
        bool demote = op == sync::sim_op::pause || op == sync::sim_op::yield || op == sync::sim_op::now ||
                      op == sync::sim_op::sleep;
        while (pct_next_change_ < pct_change_steps_.size() && pct_change_steps_[pct_next_change_] <= step_) {
            ++pct_next_change_;
            demote = true;
        }
        if (demote) current_->priority = --pct_lowest_;
    }
    (void)current_can_run;  // the running thread competes on priority like everyone else
    logical_thread* best = nullptr;
    for (const std::uint32_t id : runnable_) {
        logical_thread* t = threads_[id - 1].get();
        if (best == nullptr || t->priority > best->priority) best = t;
    }
    return best;
}

logical_thread* scheduler::choose_bounded(sync::sim_op op, bool current_can_run) {
    // A clock read is a waiting loop's step too (a timed wait going round), as in PCT.
    const bool voluntary = op == sync::sim_op::pause || op == sync::sim_op::yield ||
                           op == sync::sim_op::now || op == sync::sim_op::sleep;
    if (!current_can_run || voluntary) {
        return threads_[runnable_[sched_rng_.below(runnable_.size())] - 1].get();
    }
    if (runnable_.size() > 1 && preemptions_ < opt_.preemption_bound &&
        sched_rng_.chance(opt_.preemption_bound, std::max<std::uint64_t>(horizon_, 2))) {
        ++preemptions_;
        result.preemptions = preemptions_;
        // A uniformly random runnable thread other than the current one.
        const auto self = static_cast<std::size_t>(
            std::find(runnable_.begin(), runnable_.end(), current_->id) - runnable_.begin());
        std::size_t index = sched_rng_.below(runnable_.size() - 1);
        if (index >= self) ++index;
        const std::uint32_t pick = runnable_[index];
        return threads_[pick - 1].get();
    }
    return current_;
}

}  // namespace ringlab::dst
