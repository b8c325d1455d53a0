// scenarios/wait_strategy_test.cpp: each wait strategy's two operations, its alert and its
// timeout, and the promise that a publisher pays no system call when nobody sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <type_traits>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "ringlab/wait_strategy.hpp"
#include "support/native_canaries.hpp"

namespace ringlab::scenarios {

template <class Wait>
class wait_contract : public ::testing::Test {};

using all_waits = ::testing::Types<busy_spin_wait<>, yielding_wait<>, backoff_wait<>, blocking_wait<>,
                                   timeout_blocking_wait<>>;
TYPED_TEST_SUITE(wait_contract, all_waits);

TYPED_TEST(wait_contract, returns_ready_at_once_when_ready) {
    TypeParam w;
    EXPECT_EQ(w.wait_until([] { return true; }), wait_result::ready);
}

/// A thread that, 5 ms from now, raises `flag` and signals `w`.
template <class Wait>
std::thread publish_later(Wait& w, std::atomic<bool>& flag) {
    return std::thread([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        flag.store(true, std::memory_order_release);
        w.signal();
    });
}

TYPED_TEST(wait_contract, wakes_when_another_thread_makes_it_ready) {
    TypeParam w;
    std::atomic<bool> flag{false};
    std::thread publisher = publish_later(w, flag);
    wait_result r = wait_result::timed_out;
    while (r == wait_result::timed_out) {  // timeout_blocking_wait may time out first
        r = w.wait_until([&] { return flag.load(std::memory_order_acquire); });
    }
    EXPECT_EQ(r, wait_result::ready);
    publisher.join();
}

TYPED_TEST(wait_contract, an_alert_ends_the_wait_until_cleared) {
    TypeParam w;
    std::thread alerter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        w.alert();
    });
    wait_result r = wait_result::timed_out;
    while (r == wait_result::timed_out) r = w.wait_until([] { return false; });
    EXPECT_EQ(r, wait_result::alerted);
    alerter.join();
    EXPECT_TRUE(w.is_alerted());
    w.clear_alert();
    EXPECT_FALSE(w.is_alerted());
}

TYPED_TEST(wait_contract, a_timeout_ends_a_wait_that_never_becomes_ready) {
    TypeParam w;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(w.wait_until([] { return false; }, 3'000'000), wait_result::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(3));
}

TYPED_TEST(wait_contract, a_timeout_near_the_largest_waits_like_none) {
    TypeParam w;
    std::atomic<bool> flag{false};
    std::thread publisher = publish_later(w, flag);
    // now + timeout wrapped: the wait timed out at once.
    EXPECT_EQ(w.wait_until([&] { return flag.load(std::memory_order_acquire); }, ~std::uint64_t{0} - 1),
              wait_result::ready);
    publisher.join();
}

/// The strategies that park: a waiter that parks after `yield_ns` of yielding (no spin); 0
/// parks at once, for the wake tests.
template <class Wait>
Wait parks_after(std::uint64_t yield_ns) {
    if constexpr (std::is_same_v<Wait, blocking_wait<>>) {
        return Wait({0, yield_ns});
    } else {
        return Wait({{0, yield_ns}, 60'000'000'000});
    }
}

template <class Wait>
class parking_wait : public ::testing::Test {};

using parking_waits = ::testing::Types<blocking_wait<>, timeout_blocking_wait<>>;
TYPED_TEST_SUITE(parking_wait, parking_waits);

TYPED_TEST(parking_wait, a_publisher_makes_no_wake_call_while_nobody_sleeps) {
    TypeParam w;
    for (int i = 0; i < 100'000; ++i) w.signal();
    EXPECT_EQ(w.wakes(), 0u) << "signal() woke a futex with no waiter parked";
}

TYPED_TEST(parking_wait, a_parked_waiter_announces_itself_and_is_woken) {
    TypeParam w = parks_after<TypeParam>(0);
    std::atomic<bool> flag{false};
    std::thread waiter([&] { EXPECT_EQ(w.wait_until([&] { return flag.load(); }), wait_result::ready); });
    while (w.parked_waiters() == 0) std::this_thread::yield();
    flag.store(true);
    w.signal();
    waiter.join();
    EXPECT_GE(w.wakes(), 1u);
    EXPECT_EQ(w.parked_waiters(), 0u);
}

// The signals that come between a wake and the woken waiter's return to its CPU (several
// microseconds on a virtual machine) make no wake call: the first took the request.
TYPED_TEST(parking_wait, a_request_for_a_wake_costs_one_wake_however_many_signals_follow) {
    TypeParam w = parks_after<TypeParam>(0);
    std::atomic<bool> flag{false};
    std::thread waiter([&] { EXPECT_EQ(w.wait_until([&] { return flag.load(); }), wait_result::ready); });
    while (w.parked_waiters() == 0) std::this_thread::yield();
    flag.store(true);
    for (int i = 0; i < 10'000; ++i) w.signal();
    waiter.join();
    EXPECT_GE(w.requests(), 1u);
    EXPECT_GE(w.wakes(), 1u) << "the waiter left without a wake (the check below would pass vacuously)";
    EXPECT_LE(w.wakes(), w.requests()) << "signals woke the waiter more than once for one request";
}

// A waiter woken while its condition is still false leaves the parked count and yields for
// its window again before it parks again, so the signals meanwhile make no wake call. (A
// waiter that went straight back to sleep would ask again at once, and the next signal
// would take the request and wake it: with several publishers and one lagging claim, a
// wake per event.)
TYPED_TEST(parking_wait, a_waiter_woken_too_early_yields_again_before_it_parks_again) {
    constexpr std::uint64_t window_ns = 2'000'000'000;  // long enough for the signals below
    TypeParam w = parks_after<TypeParam>(window_ns);
    std::atomic<bool> flag{false};
    std::thread waiter([&] { EXPECT_EQ(w.wait_until([&] { return flag.load(); }), wait_result::ready); });
    while (w.parked_waiters() == 0) std::this_thread::yield();
    // Signals with the condition still false until the waiter leaves the count. The first
    // takes its request; if that comes before it sleeps, its sleep returns at once.
    // A hang guard, not a timing check: a woken waiter leaves the count within microseconds.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (w.parked_waiters() != 0 && std::chrono::steady_clock::now() < give_up) {
        w.signal();
        std::this_thread::yield();
    }
    EXPECT_EQ(w.parked_waiters(), 0u) << "a waiter woken with its condition false went back to sleep";
    EXPECT_GE(w.wakes(), 1u);
    const std::uint64_t wakes = w.wakes();
    for (int i = 0; i < 1000; ++i) w.signal();
    EXPECT_EQ(w.wakes(), wakes) << "signals woke a waiter that was yielding, not parked";
    flag.store(true);
    w.signal();
    waiter.join();
}

TEST(timeout_blocking_wait, uses_its_default_timeout_and_rejects_an_infinite_one) {
    timeout_blocking_wait<> w({{0, 0}, 2'000'000});
    EXPECT_EQ(w.wait_until([] { return false; }), wait_result::timed_out);
    EXPECT_THROW(timeout_blocking_wait<>({{}, 0}), config_error);
}

TEST(backoff_wait, rejects_inverted_sleep_bounds) {
    backoff_wait<>::config cfg;
    cfg.sleep_ns_min = 10'000;
    cfg.sleep_ns_max = 10;
    EXPECT_THROW(backoff_wait<> w(cfg), config_error);
}

// busy_spin_wait on a shared CPU (wait_strategy.hpp). The logic runs against a scripted CPU:
// native, with its clock, switch count and idle calls scripted. Each clock read advances it
// 1 us, or `jump_ns` at the read numbered `jump_at` (the thread was off its CPU); the OS
// says it switched the thread out for another when `switched` is set; a yield takes
// `yield_ns` more.
struct scripted_cpu : native_canaries {
    enum class idle : std::uint8_t { none, pause, yield };
    static inline std::uint64_t clock = 0, reads = 0, jump_at = 0, jump_ns = 0, yield_ns = 0;
    static inline std::uint64_t pauses = 0, yields = 0, pauses_before_yield = 0;
    static inline bool switched = false;
    static inline idle last = idle::none;

    static void reset() {
        clock = 1'000'000;
        reads = jump_at = jump_ns = yield_ns = pauses = yields = pauses_before_yield = 0;
        switched = false;
        last = idle::none;
    }
    static std::uint64_t now_ns() {
        ++reads;
        clock += reads == jump_at ? jump_ns : 1'000;
        return clock;
    }
    static void pause() {
        ++pauses;
        last = idle::pause;
    }
    static void yield() {
        if (yields++ == 0) pauses_before_yield = pauses;
        clock += yield_ns;
        last = idle::yield;
    }
    static bool switched_out_since_asked() { return switched; }
};

using scripted_spin = busy_spin_wait<scripted_cpu>;

/// Waits through `polls` polls that find nothing.
void spin_polls(scripted_spin& w, std::uint64_t polls) {
    std::uint64_t n = 0;
    EXPECT_EQ(w.wait_until([&] { return n++ == polls; }), wait_result::ready);
}

/// The thread is switched out for another at its 5th clock read of the wait, for 1 ms:
/// the waiter yields from there on until the window (100 us) after it ends, then pauses
/// again. Returns what broke; empty when nothing did.
std::string a_switch_makes_the_waiter_yield_until_its_window_ends() {
    scripted_cpu::reset();
    scripted_cpu::switched = true;
    scripted_cpu::jump_at = 5;
    scripted_cpu::jump_ns = 1'000'000;
    scripted_spin w({50'000, 100'000});
    spin_polls(w, 20'000);
    if (scripted_cpu::yields == 0) return "the waiter never yielded on a CPU it shared";
    if (scripted_cpu::pauses_before_yield != 5 * scripted_spin::clock_every - 1)
        return "the first yield came after " + std::to_string(scripted_cpu::pauses_before_yield) +
               " pauses, not at the clock read that saw the switch";
    if (scripted_cpu::yields > 60)
        return "the waiter yielded past its window: " + std::to_string(scripted_cpu::yields);
    if (scripted_cpu::last != scripted_cpu::idle::pause)
        return "the waiter did not pause again after its window";
    return "";
}

TEST(busy_spin_wait, a_waiter_switched_out_for_another_thread_yields_until_its_window_ends) {
    const std::string broken = a_switch_makes_the_waiter_yield_until_its_window_ends();
    EXPECT_EQ(broken, "");
    EXPECT_GT(scripted_cpu::pauses, 19'000u);
}

// The planted bug: the waiter ignores the switch, so it never yields.
TEST(busy_spin_wait, canary_ignores_a_shared_cpu_is_caught) {
    sync::model_control::set_canary("busy_spin_wait.ignores_a_shared_cpu");
    const std::string broken = a_switch_makes_the_waiter_yield_until_its_window_ends();
    const std::uint64_t hits = sync::model_control::canary_hits();
    sync::model_control::set_canary(nullptr);
    EXPECT_GT(hits, 0u) << "the canary's site never ran";
    EXPECT_EQ(broken, "the waiter never yielded on a CPU it shared");
}

TEST(busy_spin_wait, a_gap_without_a_switch_is_no_shared_cpu) {
    // An interrupt, or the hypervisor running another guest: the thread was off its CPU,
    // but no thread of this machine took it.
    scripted_cpu::reset();
    scripted_cpu::jump_at = 5;
    scripted_cpu::jump_ns = 1'000'000;
    scripted_spin w;
    spin_polls(w, 20'000);
    EXPECT_EQ(scripted_cpu::yields, 0u);
    EXPECT_EQ(w.shared_until_ns(), 0u);
    EXPECT_EQ(scripted_cpu::reads, 20'000u / scripted_spin::clock_every) << "one clock read every 64 polls";
}

TEST(busy_spin_wait, a_yield_that_gave_the_cpu_away_renews_the_window) {
    scripted_cpu::reset();
    scripted_cpu::switched = true;
    scripted_cpu::jump_at = 5;
    scripted_cpu::jump_ns = 1'000'000;
    scripted_cpu::yield_ns = 60'000;  // each yield ran another thread for longer than the gap
    scripted_spin w({50'000, 100'000});
    spin_polls(w, 20'000);
    EXPECT_EQ(scripted_cpu::pauses + scripted_cpu::yields, 20'000u);
    EXPECT_EQ(scripted_cpu::yields, 20'000u - scripted_cpu::pauses);
    EXPECT_GT(scripted_cpu::yields, 19'000u) << "the window ended while the CPU was still shared";
    EXPECT_EQ(scripted_cpu::last, scripted_cpu::idle::yield);
    EXPECT_GT(w.shared_until_ns(), scripted_cpu::clock);
}

TEST(busy_spin_wait, the_window_is_shared_by_the_strategys_waiters_and_a_pure_spin_reads_no_clock) {
    scripted_cpu::reset();
    scripted_cpu::switched = true;
    scripted_cpu::jump_at = 5;
    scripted_cpu::jump_ns = 1'000'000;
    scripted_spin w({50'000, 20'000'000, 0});  // a 20 ms window, no spin before yielding
    spin_polls(w, 1'000);
    const std::uint64_t yields = scripted_cpu::yields;
    ASSERT_GT(yields, 0u);
    // The next wait (another stage of the same ring, or the same one) yields from its first
    // clock read on: the window is the strategy's.
    scripted_cpu::switched = false;
    spin_polls(w, 1'000);
    EXPECT_EQ(scripted_cpu::yields - yields, 1'000u - (scripted_spin::clock_every - 1));

    scripted_cpu::reset();
    scripted_cpu::switched = true;
    scripted_cpu::jump_at = 1;
    scripted_cpu::jump_ns = 1'000'000;
    scripted_spin pure({0, 100'000});
    spin_polls(pure, 20'000);
    EXPECT_EQ(scripted_cpu::reads, 0u);
    EXPECT_EQ(scripted_cpu::yields, 0u);
}

TEST(busy_spin_wait, a_wait_on_a_shared_cpu_spins_before_it_yields) {
    scripted_cpu::reset();
    scripted_cpu::switched = true;
    scripted_cpu::jump_at = 5;
    scripted_cpu::jump_ns = 1'000'000;
    scripted_spin w({50'000, 20'000'000, 10'000});
    spin_polls(w, 1'000);
    ASSERT_GT(scripted_cpu::yields, 0u);
    // The next wait spins 10 us first: its clock reads, 64 polls apart, are 1 us apart, so
    // the one that finds 10 us gone is its 11th.
    scripted_cpu::switched = false;
    const std::uint64_t pauses = scripted_cpu::pauses;
    const std::uint64_t yields = scripted_cpu::yields;
    spin_polls(w, 2'000);
    EXPECT_EQ(scripted_cpu::pauses - pauses, 11 * scripted_spin::clock_every - 1);
    EXPECT_EQ(scripted_cpu::yields - yields, 2'000 - (11 * scripted_spin::clock_every - 1));
}

#if defined(__linux__)
// On a real CPU: a busy-spinning waiter and the thread it waits for, both pinned to one CPU.
// The waiter sees the kernel switch it out and gives the CPU to the worker, which makes the
// waiter ready once it sees that. (Only liveness is timed: 60 s is a hang, not a threshold.)
TEST(busy_spin_wait, a_waiter_sharing_its_cpu_with_the_thread_it_waits_for_finds_out) {
    cpu_set_t one;
    CPU_ZERO(&one);
    if (sched_getaffinity(0, sizeof one, &one) != 0) GTEST_SKIP() << "no affinity";
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &one)) ++cpu;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    busy_spin_wait<> w;
    std::atomic<bool> ready{false};
    std::atomic<bool> pinned{true};
    auto pin = [&] {
        if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0) pinned = false;
    };
    std::thread waiter([&] {
        pin();
        while (w.wait_until([&] { return ready.load(std::memory_order_acquire); }) != wait_result::ready) {
        }
    });
    std::thread worker([&] {
        pin();
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (w.shared_until_ns() == 0 && pinned && std::chrono::steady_clock::now() < give_up) {
        }
        ready.store(true, std::memory_order_release);
    });
    waiter.join();
    worker.join();
    if (!pinned) GTEST_SKIP() << "could not pin two threads to one CPU";
    EXPECT_NE(w.shared_until_ns(), 0u) << "the waiter spun through its time slices on a CPU it shared";
}
#endif

}  // namespace ringlab::scenarios
