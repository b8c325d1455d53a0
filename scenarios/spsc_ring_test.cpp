// scenarios/spsc_ring_test.cpp: spsc_ring's contract over every wait strategy, and what is
// particular to it (partial publish, cache-line layout).
#include <gtest/gtest.h>

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

}  // namespace ringlab::scenarios
