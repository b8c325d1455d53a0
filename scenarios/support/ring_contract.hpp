// scenarios/support/ring_contract.hpp: the behaviour every ring promises, as one typed
// GoogleTest suite instantiated by each ring's test file over every wait strategy.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "ringlab/platform.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab::scenarios {

template <class Ring>
class ring_contract : public ::testing::Test {};

/// A blocking pop or push that retries timeouts (timeout_blocking_wait times out by design).
template <class Ring>
wait_result pop_waiting(Ring& ring, int& v) {
    wait_result r = wait_result::timed_out;
    while (r == wait_result::timed_out) r = ring.pop(v);
    return r;
}
template <class Ring>
wait_result push_waiting(Ring& ring, int v) {
    wait_result r = wait_result::timed_out;
    while (r == wait_result::timed_out) r = ring.push(v);
    return r;
}

TYPED_TEST_SUITE_P(ring_contract);

TYPED_TEST_P(ring_contract, rejects_a_capacity_that_is_not_a_power_of_two) {
    for (const std::size_t bad : {std::size_t{0}, std::size_t{3}, std::size_t{1000}}) {
        try {
            TypeParam ring(bad);
            ADD_FAILURE() << "capacity " << bad << " was accepted";
        } catch (const config_error& e) {
            EXPECT_NE(std::string(e.what()).find("power of two"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
        }
    }
}

TYPED_TEST_P(ring_contract, is_a_bounded_fifo) {
    TypeParam ring(4);
    EXPECT_EQ(ring.capacity(), 4u);
    int v = 0;
    EXPECT_FALSE(ring.try_pop(v));
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i));
    EXPECT_FALSE(ring.try_push(99)) << "a full ring accepted a fifth item";
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(ring.try_pop(v));
        EXPECT_EQ(v, i);
    }
    EXPECT_FALSE(ring.try_pop(v));
}

TYPED_TEST_P(ring_contract, batches_wrap_around_the_end) {
    TypeParam ring(8);
    const int first[6] = {0, 1, 2, 3, 4, 5};
    EXPECT_EQ(ring.try_push_batch(first, 6), 6u);
    int out[8] = {};
    EXPECT_EQ(ring.try_pop_batch(out, 4), 4u);
    const int second[8] = {6, 7, 8, 9, 10, 11, 12, 13};
    EXPECT_EQ(ring.try_push_batch(second, 8), 6u) << "only 6 slots were free";
    EXPECT_EQ(ring.try_pop_batch(out, 8), 8u);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], i + 4);
}

TYPED_TEST_P(ring_contract, claims_are_invisible_until_published) {
    TypeParam ring(4);
    auto c = ring.try_claim(3);
    ASSERT_EQ(c.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) c[i] = 10 + static_cast<int>(i);
    int v = 0;
    EXPECT_FALSE(ring.try_pop(v)) << "a claimed slot was visible before publish()";
    ring.publish(c);
    std::vector<int> seen;
    EXPECT_EQ(ring.consume([&](const int& x) { seen.push_back(x); }), 3u);
    EXPECT_EQ(seen, (std::vector<int>{10, 11, 12}));
}

TYPED_TEST_P(ring_contract, counts_its_traffic) {
    TypeParam ring(2);
    EXPECT_TRUE(ring.try_push(1));
    EXPECT_TRUE(ring.try_push(2));
    int v = 0;
    EXPECT_TRUE(ring.try_pop(v));
    EXPECT_TRUE(ring.try_pop(v));
    EXPECT_FALSE(ring.try_pop(v));
    const auto s = ring.stats();
    EXPECT_EQ(s.popped, 2u);
    EXPECT_EQ(s.pop_empty, 1u);
    EXPECT_GT(ring.footprint_bytes(), 2 * sizeof(int));
}

TYPED_TEST_P(ring_contract, alert_wakes_a_blocked_consumer) {
    TypeParam ring(2);
    std::atomic<int> result{-1};
    std::thread consumer([&] {
        int v = 0;
        result.store(static_cast<int>(pop_waiting(ring, v)));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ring.alert();
    consumer.join();
    EXPECT_EQ(result.load(), static_cast<int>(wait_result::alerted));
    ring.clear_alert();
    EXPECT_TRUE(ring.try_push(5));
    int v = 0;
    EXPECT_EQ(pop_waiting(ring, v), wait_result::ready);
    EXPECT_EQ(v, 5);
}

TYPED_TEST_P(ring_contract, a_bounded_wait_times_out) {
    TypeParam ring(1);
    int v = 0;
    EXPECT_EQ(ring.pop(v, 2'000'000), wait_result::timed_out);
    EXPECT_TRUE(ring.try_push(1));
    EXPECT_EQ(ring.push(2, 2'000'000), wait_result::timed_out) << "a full ring accepted a push";
}

TYPED_TEST_P(ring_contract, streams_across_threads_in_order) {
    constexpr int items = 100'000;
    TypeParam ring(64);
    std::thread producer([&] {
        int batch[7];
        for (int next = 0; next < items;) {
            if (next % 3 == 0) {
                ASSERT_EQ(push_waiting(ring, next), wait_result::ready);
                ++next;
            } else {
                const int n = std::min(7, items - next);
                for (int i = 0; i < n; ++i) batch[i] = next + i;
                const std::size_t pushed = ring.try_push_batch(batch, static_cast<std::size_t>(n));
                next += static_cast<int>(pushed);
                if (pushed == 0) std::this_thread::yield();
            }
        }
    });
    int expected = 0;
    while (expected < items) {
        int v = 0;
        ASSERT_EQ(pop_waiting(ring, v), wait_result::ready);
        ASSERT_EQ(v, expected++);
        ring.consume([&](const int& x) { EXPECT_EQ(x, expected++); }, 5);
    }
    producer.join();
    EXPECT_EQ(ring.stats().popped, static_cast<std::uint64_t>(items));
}

REGISTER_TYPED_TEST_SUITE_P(ring_contract, rejects_a_capacity_that_is_not_a_power_of_two,
                            is_a_bounded_fifo, batches_wrap_around_the_end,
                            claims_are_invisible_until_published, counts_its_traffic,
                            alert_wakes_a_blocked_consumer, a_bounded_wait_times_out,
                            streams_across_threads_in_order);

}  // namespace ringlab::scenarios
