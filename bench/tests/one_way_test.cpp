// bench/tests/one_way_test.cpp: the coordinated-omission correction of the paced one-way
// measurement, on real threads, with planted stalls.
//
//   producer (paced, 100k events/s) ──spsc_ring──▶ consumer ──▶ histogram
//                 ▲ stall here (test 2)                ▲ stall here (test 1)
//
// No wall-clock threshold: the assertions follow from causality alone. A stall of D seconds
// starting at S means no event due in [S, S + D) is received before S + D, so every event
// due in [S, S + D/2] has a latency of at least D/2, measured from its intended time, and
// at 100k events/s there are D/2 * 100k of them, however fast or slow the machine.
// The producer stall is the one that needs the correction: stamped with the actual send
// time (coordinated omission) its events look fast and that test fails, as checked by
// planting exactly that change in latency.hpp; a consumer stall shows either way.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "latency.hpp"
#include "ringlab/spsc_ring.hpp"

namespace ringlab::bench {
namespace {

constexpr double rate = 100'000;               // events per second: one every 10 us
constexpr std::uint64_t ticks = 20'000;        // 200 ms of offered load
constexpr std::uint64_t stall_at = 1'000;      // 10 ms in
constexpr auto stall = std::chrono::milliseconds(20);
constexpr std::uint64_t stall_ns = 20'000'000;
constexpr std::uint64_t events_in_half_stall = 1'000;  // rate * stall / 2

struct consumer_stall {
    void before_send(std::uint64_t) noexcept {}
    void after_receive(std::uint64_t index) {
        if (index == stall_at) std::this_thread::sleep_for(stall);
    }
};

struct producer_stall {
    void before_send(std::uint64_t tick) {
        if (tick == stall_at) std::this_thread::sleep_for(stall);
    }
    void after_receive(std::uint64_t) noexcept {}
};

template <class Hooks>
latency_histogram run_with(Hooks hooks) {
    spsc_ring<std::uint64_t> ring(65536);
    latency_histogram hist;
    std::uint64_t sent = 0;
    const one_way_result r =
        measure_one_way(ring, pair_plan(), rate, hist, [&] { return sent++ < ticks; }, hooks);
    EXPECT_EQ(r.ticks, ticks);
    EXPECT_EQ(hist.count(), ticks) << "every event is recorded exactly once";
    return hist;
}

/// The share of samples that must lie at or above stall/2, as a percentile whose value
/// must then be at least stall/2 (with room for the TSC calibration's error).
void expect_stall_in_tail(const latency_histogram& hist) {
    const double tail_percentile = 100.0 * (1.0 - 0.9 * events_in_half_stall / static_cast<double>(ticks));
    EXPECT_GE(hist.value_at_percentile(tail_percentile), stall_ns * 45 / 100)
        << "p" << tail_percentile << " must show the planted stall";
    EXPECT_GE(hist.max(), stall_ns * 9 / 10) << "the first event behind the stall waited for all of it";
}

TEST(OneWayCoordinatedOmission, AConsumerStallShowsUpInTheTail) { expect_stall_in_tail(run_with(consumer_stall{})); }

TEST(OneWayCoordinatedOmission, AProducerStallShowsUpInTheTail) {
    // The producer, not the queue, stalls: only a latency counted from the intended send
    // time sees it at all.
    expect_stall_in_tail(run_with(producer_stall{}));
}

TEST(OneWayCoordinatedOmission, WithoutAStallEveryEventIsCounted) {
    const latency_histogram hist = run_with(no_hooks{});
    EXPECT_LE(hist.min(), hist.value_at_percentile(50));
}

}  // namespace
}  // namespace ringlab::bench
