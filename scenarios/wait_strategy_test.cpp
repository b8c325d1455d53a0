// scenarios/wait_strategy_test.cpp: each wait strategy's two operations, its alert and its
// timeout, and the promise that a publisher pays no system call when nobody sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <type_traits>

#include "ringlab/wait_strategy.hpp"

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

}  // namespace ringlab::scenarios
