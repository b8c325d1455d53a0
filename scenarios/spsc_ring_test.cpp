// scenarios/spsc_ring_test.cpp: spsc_ring's contract over every wait strategy, and what is
// particular to it (partial publish, cache-line layout, temporal slipping).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "ringlab/spsc_ring.hpp"
#include "support/ring_contract.hpp"

namespace ringlab::scenarios {

using spsc_rings = ::testing::Types<spsc_ring<int, busy_spin_wait>, spsc_ring<int, yielding_wait>,
                                    spsc_ring<int, backoff_wait>, spsc_ring<int, blocking_wait>,
                                    spsc_ring<int, timeout_blocking_wait>>;
INSTANTIATE_TYPED_TEST_SUITE_P(spsc, ring_contract, spsc_rings);

TEST(spsc_ring, publishes_part_of_a_claim_and_reclaims_the_rest) {
    spsc_ring<int> ring(4);
    auto c = ring.try_claim(4);
    ASSERT_EQ(c.size(), 4u);
    c[0] = 1;
    c[1] = 2;
    ring.publish(c, 2);
    auto rest = ring.try_claim(4);
    EXPECT_EQ(rest.size(), 2u) << "the unpublished half of the claim must be claimable again";
    int v = 0;
    EXPECT_TRUE(ring.try_pop(v));
    EXPECT_EQ(v, 1);
}

TEST(spsc_ring, keeps_each_side_on_its_own_cache_lines) {
    EXPECT_EQ(alignof(spsc_ring<int>) % false_sharing_bytes, 0u);
    EXPECT_GE(sizeof(spsc_ring<int>), 4 * false_sharing_bytes);
}

TEST(spsc_ring, size_approx_is_exact_when_idle) {
    spsc_ring<int> ring(8);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring.try_push(i));
    int v = 0;
    ASSERT_TRUE(ring.try_pop(v));
    EXPECT_EQ(ring.size_approx(), 4u);
    EXPECT_EQ(ring.stats().pushed, 5u);
}

TEST(spsc_ring, rejects_a_slip_it_cannot_reach) {
    EXPECT_THROW((spsc_ring<int>(16, {}, spsc_options{1, slip_options{16}})), config_error);
    EXPECT_THROW((spsc_ring<int>(16, {}, spsc_options{1, slip_options{4, 0}})), config_error);
    EXPECT_THROW((spsc_ring<int>(16, {}, spsc_options{1, slip_options{4, 8, 0}})), config_error);
    EXPECT_THROW((spsc_ring<int>(16, {}, spsc_options{1, slip_options{1}})), config_error);
    EXPECT_THROW((spsc_ring<int>(16, {}, spsc_options{1, slip_options{4, 8, 1}})), config_error);
    EXPECT_NO_THROW((spsc_ring<int>(16, {}, spsc_options{1, slip_options{4, 8, 16}})));  // after counts as 4
    try {
        spsc_ring<int> ring(16, {}, spsc_options{1, slip_options{32}});
        FAIL() << "a slip past the capacity was accepted";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("slip distance 32"), std::string::npos) << e.what();
    }
    spsc_ring<int> off(16, {}, spsc_options{1, slip_options{0, 0, 0}});  // off: nothing to check
    EXPECT_TRUE(off.try_push(1));
}

TEST(spsc_ring, a_streaming_pop_slips_for_a_bounded_time) {
    spsc_ring<int> ring(64, {}, spsc_options{1, slip_options{8, 4, 16}});
    int v = -1;
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(ring.try_push(i));
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(ring.pop(v), wait_result::ready);
        ASSERT_EQ(v, i);
    }
    EXPECT_EQ(ring.stats().slips, 0u) << "nothing slips while items are there";
    // Twenty pops since it last found the ring empty: it slips (at most 4 polls), then waits.
    EXPECT_EQ(ring.pop(v, 1'000'000), wait_result::timed_out);
    EXPECT_EQ(ring.stats().slips, 1u);
    // One pop since: no slip.
    ASSERT_TRUE(ring.try_push(20));
    ASSERT_EQ(ring.pop(v), wait_result::ready);
    EXPECT_EQ(v, 20);
    EXPECT_EQ(ring.pop(v, 1'000'000), wait_result::timed_out);
    EXPECT_EQ(ring.stats().slips, 1u) << "a consumer woken from idleness must not slip";
}

TEST(spsc_ring, a_consumer_woken_by_one_item_never_slips) {
    spsc_ring<int> ring(64, {}, spsc_options{1, slip_options{8, 64, 2}});
    int v = 0;
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(ring.try_push(i));
        ASSERT_EQ(ring.pop(v), wait_result::ready);
        ASSERT_EQ(v, i);
        // One pop since the ring was last found empty: the blocking pop must not slip.
        ASSERT_EQ(ring.pop(v, 100'000), wait_result::timed_out);
    }
    EXPECT_EQ(ring.stats().slips, 0u);
}

TEST(spsc_ring, a_slipping_consumer_loses_nothing_when_the_stream_pauses) {
    constexpr int runs = 200;
    constexpr int run = 1000;
    constexpr std::size_t head = 100;
    spsc_ring<int> ring(1024, {}, spsc_options{1, slip_options{512}});
    std::atomic<int> drained{-1};  // the last run after which the consumer found the ring empty
    std::thread producer([&] {
        std::vector<int> batch(head);
        for (int r = 0; r < runs; ++r) {
            // Each run opens with a batch, published at once into the empty ring: the consumer
            // takes `head` events without finding the ring empty, so the next time it finds it
            // empty (within the run, or at its end) it is streaming and slips, short of the
            // slip distance, whatever the two threads' speeds.
            std::iota(batch.begin(), batch.end(), r * run);
            if (ring.try_push_batch(batch.data(), head) != head) std::abort();
            for (int i = r * run + static_cast<int>(head); i < (r + 1) * run; ++i) {
                while (ring.push(i) != wait_result::ready) {
                }
            }
            // The pause: the next run starts once the consumer has found the ring empty.
            while (drained.load(std::memory_order_acquire) < r) std::this_thread::yield();
        }
    });
    int v = -1;
    for (int r = 0; r < runs; ++r) {
        for (int i = r * run; i < (r + 1) * run; ++i) {
            ASSERT_EQ(ring.pop(v), wait_result::ready);
            ASSERT_EQ(v, i);
        }
        EXPECT_EQ(ring.pop(v, 100'000), wait_result::timed_out) << "the producer waits: the ring is empty";
        drained.store(r, std::memory_order_release);
    }
    producer.join();
    EXPECT_GE(ring.stats().slips, static_cast<std::uint64_t>(runs)) << "every run ends in a slip at least";
    int extra = 0;
    EXPECT_FALSE(ring.try_pop(extra));
}

}  // namespace ringlab::scenarios
