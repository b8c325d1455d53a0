// model-checks/wait_strategy.cpp: the wait strategies through the relacy backend.
//
// Edges (lib/include/ringlab/wait_strategy.hpp): [A1]/[A1a] the alert flag, [A2] clearing
// it, [W1]..[W5] of blocking_wait (one futex word: the request bit and the epoch).
//
// wake             [W1-W4a]     one waiter parks on blocking_wait after one spin and one
//                               yield, one publisher sets a flag and signals: the waiter
//                               must wake and see the payload (no lost wake-up)
// wake_at_once     [W1-W4a]     the same, but the waiter parks straight after its first
//                               poll, with no yield in between. Spin-free: full search too
//                               (canary blocking_wait.sleep_without_recheck: sleeping on a
//                               word read after the re-check loses the wake)
// wake_two         [W1-W4a]     two waiters, one signal: both must wake (three threads: the
//                               context-bound search with bound 2 takes minutes, so bound 1)
// wake_again       [W1-W4a]     the waiter needs two publications, each signalled: a wake
//                               for the first takes its request [W4a], so it must ask again
//                               before it sleeps again (canary blocking_wait.asks_once)
// wake_once        [W1-W4a]     one publication, two signals: each request for a wake costs
//                               its signallers at most one wake, not one per signal until
//                               the waiter runs (canary blocking_wait.every_signal_wakes)
// alert_<strategy> [A1 A1a]     a waiter on a never-ready condition returns `alerted`, and
//                               sees what the alerting thread wrote before alert(); for
//                               blocking_wait the alert also wakes the parked waiter [W5]
// alert_at_once    [A1 A1a W1 W2 W5]  alert_blocking with a waiter that parks straight after
//                               its first poll: the execution where its request reads the
//                               bump but a stale alert flag, and sleeps after the only wake
// alert_clear      [A1 A1a A2 W1-W4a]  alert, clear, then publish and signal: a waiter
//                               that saw the alert waits again, and ends with the payload
// timeout          [W1 W2]      timeout_blocking_wait returns timed_out, never hangs (its
//                               canary, timeout_blocking_wait.forgets_its_timeout, loses the
//                               configured default)

#include "harness.hpp"

#include "ringlab/wait_strategy.hpp"

namespace {

using ringlab::model::expect;
using ringlab::sync::at;
using relacy = ringlab::sync::relacy;
namespace mo = ringlab::sync::mo;

using blocking = ringlab::blocking_wait<relacy>;
constexpr blocking::config eager{1, 0};    // park after one spin, no yield phase
constexpr blocking::config at_once{0, 0};  // park straight after the first poll

/// One publisher (thread 0) writes a payload, raises a flag and signals; every other
/// thread waits for the flag and must see the payload.
template <int Waiters, blocking::config Config>
struct wake_suite : rl::test_suite<wake_suite<Waiters, Config>, Waiters + 1> {
    blocking wait{Config};
    relacy::cell<int> payload;
    relacy::atomic<int> ready{0};

    void thread(unsigned index) {
        if (index == 0) {
            payload.store(42);
            ready.store(1, at("model.wake.publish", mo::release));
            wait.signal();
        } else {
            const auto r =
                wait.wait_until([&] { return ready.load(at("model.wake.poll", mo::acquire)) == 1; });
            expect(r == ringlab::wait_result::ready, "wait_until returned without the flag");
            expect(payload.load() == 42, "the waiter woke without seeing the payload");
        }
    }
};

using wake = wake_suite<1, eager>;
using wake_at_once = wake_suite<1, at_once>;
using wake_two = wake_suite<2, eager>;

/// The publisher makes the value 1, signals, makes it 2, signals; the waiter waits for 2.
struct wake_again : rl::test_suite<wake_again, 2> {
    blocking wait{eager};
    relacy::atomic<int> value{0};

    void thread(unsigned index) {
        if (index == 0) {
            value.store(1, at("model.wake_again.first", mo::release));
            wait.signal();
            value.store(2, at("model.wake_again.second", mo::release));
            wait.signal();
        } else {
            const auto r =
                wait.wait_until([&] { return value.load(at("model.wake_again.poll", mo::acquire)) == 2; });
            expect(r == ringlab::wait_result::ready, "wait_until returned without the second value");
        }
    }
};

/// One publication and two signals: however they interleave with the waiter's parks (a
/// spurious wake-up may make it ask twice), no request costs two wakes (system calls).
struct wake_once : rl::test_suite<wake_once, 2> {
    blocking wait{at_once};
    relacy::atomic<int> ready{0};

    void thread(unsigned index) {
        if (index == 0) {
            ready.store(1, at("model.wake_once.publish", mo::release));
            wait.signal();
            wait.signal();
        } else {
            (void)wait.wait_until([&] { return ready.load(at("model.wake_once.poll", mo::acquire)) == 1; });
        }
    }

    void after() { expect(wait.wakes() <= wait.requests(), "two signals woke the waiter for one request"); }
};

template <template <class> class Wait, bool AtOnce = false>
struct alert : rl::test_suite<alert<Wait, AtOnce>, 2> {
    Wait<relacy> wait{config()};
    relacy::cell<int> before_alert;

    static typename Wait<relacy>::config config() {
        if constexpr (std::is_same_v<Wait<relacy>, blocking>) {
            return AtOnce ? at_once : eager;
        } else if constexpr (std::is_same_v<Wait<relacy>, ringlab::backoff_wait<relacy>>) {
            return {2, 2, 1'000, 4'000};  // reach the sleeping phase within a few polls
        } else if constexpr (std::is_same_v<Wait<relacy>, ringlab::yielding_wait<relacy>>) {
            return {2};
        } else {
            return {};
        }
    }

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

struct alert_clear : rl::test_suite<alert_clear, 2> {
    blocking wait{eager};
    relacy::cell<int> payload;
    relacy::atomic<int> ready{0};

    void thread(unsigned index) {
        if (index == 0) {
            wait.alert();
            wait.clear_alert();
            payload.store(42);
            ready.store(1, at("model.alert_clear.publish", mo::release));
            wait.signal();
        } else {
            int alerted = 0;
            for (;;) {
                const auto r = wait.wait_until(
                    [&] { return ready.load(at("model.alert_clear.poll", mo::acquire)) == 1; });
                if (r == ringlab::wait_result::ready) break;
                expect(r == ringlab::wait_result::alerted, "a wait returned neither ready nor alerted");
                expect(++alerted < 64, "the cleared alert never went away");
                relacy::yield();
            }
            expect(payload.load() == 42, "the waiter returned ready without seeing the payload");
            expect(!wait.is_alerted(), "the alert is still raised after the clear");
        }
    }
};

struct timeout : rl::test_suite<timeout, 1> {
    ringlab::timeout_blocking_wait<relacy> wait{{eager, 5'000}};

    void thread(unsigned) {
        // Its canary (timeout_blocking_wait.forgets_its_timeout) loses the default timeout:
        // this wait then hangs, which the checker reports.
        const auto r = wait.wait_until([] { return false; });
        expect(r == ringlab::wait_result::timed_out, "a wait on a never-ready condition did not time out");
    }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(
        argc, argv,
        {make_suite<wake>("wake", "W1-W4a"),
         make_suite<wake_at_once>("wake_at_once", "W1-W4a", 3, true),
         make_suite<wake_two>("wake_two", "W1-W4a", 1),
         make_suite<wake_again>("wake_again", "W1-W4a"),
         make_suite<wake_once>("wake_once", "W1-W4a", 3, true),
         make_suite<alert<ringlab::busy_spin_wait>>("alert_busy_spin", "A1 A1a"),
         make_suite<alert<ringlab::yielding_wait>>("alert_yielding", "A1 A1a"),
         make_suite<alert<ringlab::backoff_wait>>("alert_backoff", "A1 A1a"),
         make_suite<alert<ringlab::blocking_wait>>("alert_blocking", "A1 A1a W5"),
         make_suite<alert<ringlab::blocking_wait, true>>("alert_at_once", "A1 A1a W1 W2 W5", 3, true),
         make_suite<alert_clear>("alert_clear", "A1 A1a A2 W1-W4a"),
         make_suite<timeout>("timeout", "W1 W2")});
}
