// scenarios/mpsc_ring_test.cpp: mpsc_ring's contract over every wait strategy, plus many
// producers on real threads.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "ringlab/mpsc_ring.hpp"
#include "support/ring_contract.hpp"

namespace ringlab::scenarios {

using mpsc_rings = ::testing::Types<mpsc_ring<int, busy_spin_wait>, mpsc_ring<int, yielding_wait>,
                                    mpsc_ring<int, backoff_wait>, mpsc_ring<int, blocking_wait>,
                                    mpsc_ring<int, timeout_blocking_wait>>;
INSTANTIATE_TYPED_TEST_SUITE_P(mpsc, ring_contract, mpsc_rings);

TEST(mpsc_ring, many_producers_each_arrive_in_order_exactly_once) {
    constexpr int producers = 4;
    constexpr int per_producer = 50'000;
    mpsc_ring<std::uint64_t, yielding_wait> ring(128);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (std::uint64_t k = 0; k < per_producer; ++k) {
                ASSERT_EQ(ring.push((static_cast<std::uint64_t>(p) << 32) | k), wait_result::ready);
            }
        });
    }
    std::vector<std::uint64_t> next(producers, 0);
    for (int n = 0; n < producers * per_producer; ++n) {
        std::uint64_t v = 0;
        ASSERT_EQ(ring.pop(v), wait_result::ready);
        const auto p = static_cast<std::size_t>(v >> 32);
        ASSERT_LT(p, next.size());
        ASSERT_EQ(v & 0xffffffffu, next[p]++);
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ring.stats().claimed, static_cast<std::uint64_t>(producers * per_producer));
}

TEST(mpsc_ring, a_zero_filled_ring_is_empty) {
    mpsc_ring<int> ring(2);
    int v = 0;
    EXPECT_FALSE(ring.try_pop(v));
    EXPECT_EQ(ring.try_claim(5).size(), 2u) << "a claim larger than the ring is cut to its capacity";
}

}  // namespace ringlab::scenarios
