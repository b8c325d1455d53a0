// model-checks/wait_strategy.cpp: the wait strategies through the relacy backend.
//
// wake          [W1-W5]   one waiter parks on blocking_wait, one publisher sets a flag and
//                         signals: the waiter must wake and see the flag (no lost wake-up)
// wake_two      [W1-W5]   two waiters, one signal: both must wake (random search only:
//                         three threads make the context-bound search take minutes)
// alert         [A1]      a waiter on a never-ready condition returns `alerted`, and sees
//                         what the alerting thread wrote before alert()
// timeout       [W1-W5]   timeout_blocking_wait returns timed_out, never hangs
#include "harness.hpp"

#include "ringlab/wait_strategy.hpp"

namespace {

using ringlab::model::expect;
using ringlab::sync::at;
using relacy = ringlab::sync::relacy;
namespace mo = ringlab::sync::mo;

using blocking = ringlab::blocking_wait<relacy>;
constexpr blocking::config eager{1, 0};  // park after one spin, no yield phase

struct wake : rl::test_suite<wake, 2> {
    blocking wait{eager};
    relacy::cell<int> payload;
    relacy::atomic<int> ready{0};

    void thread(unsigned index) {
        if (index == 0) {
            payload.store(42);
            ready.store(1, at("model.wake.publish", mo::release));
            wait.signal();
        } else {
            const auto r = wait.wait_until([&] { return ready.load(at("model.wake.poll", mo::acquire)) == 1; });
            expect(r == ringlab::wait_result::ready, "wait_until returned without the flag");
            expect(payload.load() == 42, "the waiter woke without seeing the payload");
        }
    }
};

struct wake_two : rl::test_suite<wake_two, 3> {
    blocking wait{eager};
    relacy::atomic<int> ready{0};

    void thread(unsigned index) {
        if (index == 0) {
            ready.store(1, at("model.wake_two.publish", mo::release));
            wait.signal();
        } else {
            const auto r = wait.wait_until([&] { return ready.load(at("model.wake_two.poll", mo::acquire)) == 1; });
            expect(r == ringlab::wait_result::ready, "a waiter was not woken");
        }
    }
};

template <template <class> class Wait>
struct alert : rl::test_suite<alert<Wait>, 2> {
    Wait<relacy> wait{};
    relacy::cell<int> before_alert;

    void thread(unsigned index) {
        if (index == 0) {
            before_alert.store(7);
            wait.alert();
        } else {
            const auto r = wait.wait_until([] { return false; });
            expect(r == ringlab::wait_result::alerted, "an alerted wait did not return alerted");
            expect(before_alert.load() == 7, "alert() did not publish what came before it");
        }
    }
};

struct timeout : rl::test_suite<timeout, 1> {
    ringlab::timeout_blocking_wait<relacy> wait{{eager, 5'000}};

    void thread(unsigned) {
        const auto r = wait.wait_until([] { return false; });
        expect(r == ringlab::wait_result::timed_out, "a wait on a never-ready condition did not time out");
    }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(
        argc, argv,
        {make_suite<wake>("wake", "W1-W5"), make_suite<wake_two>("wake_two", "W1-W5", false),
         make_suite<alert<ringlab::busy_spin_wait>>("alert_busy_spin", "A1"),
         make_suite<alert<ringlab::blocking_wait>>("alert_blocking", "A1 W5"),
         make_suite<timeout>("timeout", "W1-W5")});
}
