// dst/faults.cpp: what goes wrong, drawn from the seed (swarm testing: each run turns on a
// random subset of fault kinds, so rare combinations get whole runs to themselves).
//
//   stalls          the running thread is descheduled for up to N steps
//   spurious wakes  a futex waiter returns without a wake
//   late wakes      a woken thread stays off the CPU a few more steps
//   weak CAS        compare_exchange_weak fails without a conflict
//   crash           a thread stops forever (only when the workload allows it)
#include "dst/scheduler_impl.hpp"

namespace ringlab::dst {

void scheduler::faults_init() {
    if (!opt_.faults) return;
    auto& f = faults_;
    if ((f.stalls = fault_rng_.chance(1, 2))) {
        f.stall_one_in = fault_rng_.between(20, 2000);
        f.stall_steps_max = fault_rng_.between(5, 500);
        result.faults.push_back("stalls(1/" + std::to_string(f.stall_one_in) + " steps, up to " +
                                std::to_string(f.stall_steps_max) + ")");
    }
    if ((f.spurious_wakes = fault_rng_.chance(1, 2))) {
        f.spurious_one_in = fault_rng_.between(50, 5000);
        result.faults.push_back("spurious_wakes(1/" + std::to_string(f.spurious_one_in) + " steps)");
    }
    if ((f.late_wakes = fault_rng_.chance(1, 2))) result.faults.push_back("late_wakes");
    if ((f.weak_cas = fault_rng_.chance(1, 2))) {
        f.weak_cas_one_in = fault_rng_.between(2, 16);
        result.faults.push_back("weak_cas(1/" + std::to_string(f.weak_cas_one_in) + ")");
    }
    if (crashes_allowed_ && (f.crash = fault_rng_.chance(1, 2))) {
        f.crash_step = fault_rng_.between(1, std::max<std::uint64_t>(horizon_, 2));
        result.faults.push_back("crash(at step >= " + std::to_string(f.crash_step) + ")");
    }
}

void scheduler::inject_faults() {
    auto& f = faults_;
    if (f.crash && step_ >= f.crash_step) {
        f.crash = false;  // one crash per run
        crash_current();
        return;
    }
    if (f.stalls && runnable_.size() > 1 && fault_rng_.chance(1, f.stall_one_in)) {
        stall(current_, fault_rng_.between(1, f.stall_steps_max));
    }
    if (f.spurious_wakes && fault_rng_.chance(1, f.spurious_one_in)) {
        for (const auto& t : threads_) {
            if (t->state == thread_state::blocked && t->futex != nullptr) {
                make_runnable(t.get(), sync::futex_status::woken);
                break;
            }
        }
    }
}

bool scheduler::weak_cas_fails() {
    return opt_.faults && faults_.weak_cas && fault_rng_.chance(1, faults_.weak_cas_one_in);
}

}  // namespace ringlab::dst
