// scenarios/router_test.cpp: the router's contract, step by step on one thread (modes,
// credits and their policies, membership), then on real threads under every wait strategy.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "ringlab/mpsc_ring.hpp"
#include "ringlab/router.hpp"
#include "ringlab/spsc_ring.hpp"

namespace ringlab::scenarios {
namespace {

using source_t = spsc_ring<int>;
using router_t = router<source_t>;

router_config config(router_mode mode, credit_policy policy) {
    router_config cfg;
    cfg.mode = mode;
    cfg.policy = policy;
    cfg.max_consumers = 4;
    cfg.lane_capacity = 8;
    cfg.batch_max = 16;
    cfg.park_wait_ns = 1000;  // a park gives up quickly: these tests run on one thread
    return cfg;
}

void push_range(source_t& source, int first, int end) {
    for (int v = first; v < end; ++v) ASSERT_TRUE(source.try_push(v));
}

std::vector<int> drain(router_t& r, router_t::consumer_id id) {
    std::vector<int> got;
    int v = 0;
    while (r.try_take(id, v) == take_status::taken) got.push_back(v);
    return got;
}

std::vector<int> iota(int first, int end) {
    std::vector<int> out;
    for (int v = first; v < end; ++v) out.push_back(v);
    return out;
}

template <class Fn>
void expect_config_error(Fn&& fn, const std::string& needle) {
    try {
        fn();
        ADD_FAILURE() << "no config_error mentioning '" << needle << "'";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(router, rejects_bad_configuration_with_a_clear_error) {
    source_t source(16);
    auto with = [&](auto change) {
        router_config cfg = config(router_mode::broadcast, credit_policy::park);
        change(cfg);
        router_t r(source, cfg);
    };
    expect_config_error([&] { with([](router_config& c) { c.max_consumers = 0; }); }, "max_consumers 0");
    expect_config_error([&] { with([](router_config& c) { c.max_consumers = 65; }); }, "max_consumers 65");
    expect_config_error([&] { with([](router_config& c) { c.lane_capacity = 3; }); }, "power of two");
    expect_config_error([&] { with([](router_config& c) { c.batch_max = 0; }); }, "batch_max 0");
    expect_config_error([&] { with([](router_config& c) { c.park_wait_ns = 0; }); }, "park_wait_ns");
    expect_config_error([&] { with([](router_config& c) { c.detach_after_ns = ~0ULL; }); },
                        "detach_after_ns");

    router_t r(source, config(router_mode::broadcast, credit_policy::park));
    expect_config_error([&] { (void)r.attach(0); }, "credit_max 0");
    expect_config_error([&] { (void)r.attach(9); }, "credit_max 9");
    int v = 0;
    expect_config_error([&] { (void)r.try_take(4, v); }, "consumer id 4");
}

TEST(router, broadcast_delivers_every_event_to_every_consumer_in_order) {
    source_t source(16);
    router_t r(source, config(router_mode::broadcast, credit_policy::park));
    const auto a = r.attach(8);
    const auto b = r.attach(8);
    EXPECT_EQ(r.status(a).state, consumer_state::joining);
    push_range(source, 0, 6);
    EXPECT_EQ(r.step(), 6u);
    EXPECT_EQ(r.status(a).state, consumer_state::attached);
    EXPECT_EQ(drain(r, a), iota(0, 6));
    EXPECT_EQ(drain(r, b), iota(0, 6));
    const auto s = r.stats();
    EXPECT_EQ(s.routed, 6u);
    EXPECT_EQ(s.delivered, 12u);
    EXPECT_EQ(s.dropped_no_credit, 0u);
}

TEST(router, batch_max_bounds_one_step) {
    source_t source(64);
    router_config cfg = config(router_mode::broadcast, credit_policy::park);
    cfg.batch_max = 3;
    router_t r(source, cfg);
    const auto a = r.attach(8);
    push_range(source, 0, 7);
    EXPECT_EQ(r.step(), 3u);
    EXPECT_EQ(r.step(), 3u);
    EXPECT_EQ(r.step(), 1u);
    EXPECT_EQ(r.step(), 0u);
    EXPECT_EQ(drain(r, a), iota(0, 7));
}

TEST(router, broadcast_drop_skips_a_consumer_without_credit_and_counts_it) {
    source_t source(16);
    router_t r(source, config(router_mode::broadcast, credit_policy::drop));
    const auto slow = r.attach(2);
    const auto fast = r.attach(8);
    push_range(source, 0, 5);
    EXPECT_EQ(r.step(), 5u);
    EXPECT_EQ(drain(r, slow), iota(0, 2));
    EXPECT_EQ(drain(r, fast), iota(0, 5));
    EXPECT_EQ(r.consumer_stats(slow).drops_no_credit, 3u);
    EXPECT_EQ(r.consumer_stats(fast).drops_no_credit, 0u);
    const auto s = r.stats();
    EXPECT_EQ(s.delivered + s.dropped_no_credit, s.routed * 2)
        << "broadcast: delivered + dropped = routed x consumers";
}

TEST(router, work_queue_round_robins_and_skips_a_consumer_without_credit) {
    source_t source(16);
    router_t r(source, config(router_mode::work_queue, credit_policy::park));
    const auto a = r.attach(1);
    const auto b = r.attach(8);
    push_range(source, 0, 5);
    EXPECT_EQ(r.step(), 5u);
    EXPECT_EQ(drain(r, a), std::vector<int>{0});
    EXPECT_EQ(drain(r, b), (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(r.stats().delivered, 5u) << "work_queue: each event exactly once";
}

TEST(router, work_queue_drop_counts_events_nobody_could_take) {
    source_t source(16);
    router_t r(source, config(router_mode::work_queue, credit_policy::drop));
    push_range(source, 0, 2);
    EXPECT_EQ(r.step(), 2u);
    EXPECT_EQ(r.stats().dropped_no_consumer, 2u);
    const auto a = r.attach(1);
    push_range(source, 2, 5);
    EXPECT_EQ(r.step(), 3u);
    EXPECT_EQ(drain(r, a), std::vector<int>{2});
    const auto s = r.stats();
    EXPECT_EQ(s.dropped_no_credit, 2u);
    EXPECT_EQ(s.routed, s.delivered + s.dropped_no_credit + s.dropped_no_consumer);
}

TEST(router, park_waits_for_credit_and_loses_nothing) {
    source_t source(16);
    router_t r(source, config(router_mode::broadcast, credit_policy::park));
    const auto a = r.attach(2);
    push_range(source, 0, 6);
    EXPECT_EQ(r.step(), 2u) << "the third event waits for credit";
    EXPECT_GE(r.stats().credit_waits, 1u);
    EXPECT_EQ(r.stats().pending, 4u);
    EXPECT_EQ(r.consumer_stats(a).lag, 2u);
    std::vector<int> got = drain(r, a);
    while (got.size() < 6) {
        (void)r.step();
        for (int v : drain(r, a)) got.push_back(v);
    }
    EXPECT_EQ(got, iota(0, 6));
    EXPECT_EQ(r.stats().dropped_no_credit, 0u);
}

TEST(router, detach_after_the_threshold_then_reattach_at_the_live_position) {
    source_t source(16);
    router_config cfg = config(router_mode::broadcast, credit_policy::detach);
    cfg.detach_after_ns = 0;
    std::vector<std::size_t> detached_ids;
    cfg.on_detach = [&](std::size_t id, std::uint64_t, std::uint64_t) { detached_ids.push_back(id); };
    router_t r(source, cfg);
    const auto a = r.attach(1);
    push_range(source, 0, 3);
    EXPECT_EQ(r.step(), 3u);
    EXPECT_EQ(detached_ids, std::vector<std::size_t>{a});
    EXPECT_EQ(r.stats().detaches, 1u);
    int v = -1;
    EXPECT_EQ(r.try_take(a, v), take_status::taken) << "what was delivered before the detach is kept";
    EXPECT_EQ(v, 0);
    EXPECT_EQ(r.try_take(a, v), take_status::detached);
    EXPECT_EQ(r.status(a).state, consumer_state::detached);

    EXPECT_TRUE(r.reattach(a));
    EXPECT_FALSE(r.reattach(a)) << "only a detached consumer re-attaches";
    push_range(source, 3, 4);
    EXPECT_EQ(r.step(), 1u);
    const auto st = r.status(a);
    EXPECT_EQ(st.state, consumer_state::attached);
    EXPECT_EQ(st.missed, 2u) << "events 1 and 2 were routed while it was detached";
    EXPECT_EQ(drain(r, a), std::vector<int>{3});
}

TEST(router, detach_waits_for_the_threshold_first) {
    source_t source(16);
    router_config cfg = config(router_mode::broadcast, credit_policy::detach);
    cfg.detach_after_ns = 3'600'000'000'000ULL;  // an hour: never within this test
    router_t r(source, cfg);
    const auto a = r.attach(1);
    push_range(source, 0, 3);
    EXPECT_EQ(r.step(), 1u);
    EXPECT_EQ(r.stats().detaches, 0u);
    EXPECT_EQ(r.status(a).state, consumer_state::attached);
}

// A batch larger than the consumer's free credit goes event by event; the credit the
// consumer returned in the meantime must end its exhaustion, so the detach threshold
// counts from the next one, not from the first.
TEST(router, returned_credit_restarts_the_detach_threshold) {
    source_t source(16);
    router_config cfg = config(router_mode::broadcast, credit_policy::detach);
    cfg.detach_after_ns = 20'000'000;
    router_t r(source, cfg);
    const auto a = r.attach(2);
    (void)r.step();
    push_range(source, 0, 4);
    EXPECT_EQ(r.step(), 2u) << "two events fit the credit; the third parks and times out";
    int v = -1;
    ASSERT_EQ(r.try_take(a, v), take_status::taken);
    EXPECT_EQ(v, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past detach_after_ns
    EXPECT_EQ(r.step(), 1u) << "the returned credit takes one more event";
    EXPECT_EQ(r.stats().detaches, 0u) << "detached on an exhaustion that credit had ended";
    EXPECT_EQ(r.status(a).state, consumer_state::attached);
}

TEST(router, consumers_join_and_leave_while_it_runs) {
    source_t source(16);
    router_t r(source, config(router_mode::broadcast, credit_policy::drop));
    const auto a = r.attach(8);
    push_range(source, 0, 2);
    (void)r.step();
    const auto b = r.attach(8);
    push_range(source, 2, 4);
    (void)r.step();
    EXPECT_EQ(drain(r, b), iota(2, 4)) << "a joiner sees events routed after it joined";
    push_range(source, 4, 6);
    (void)r.step();
    r.leave(b);
    (void)r.step();
    EXPECT_EQ(r.status(b).state, consumer_state::free);
    const auto c = r.attach(8);
    EXPECT_EQ(c, b) << "the freed lane is reused";
    push_range(source, 6, 7);
    (void)r.step();
    EXPECT_EQ(drain(r, c), std::vector<int>{6}) << "a reused lane starts empty";
    EXPECT_EQ(drain(r, a), iota(0, 7));
    EXPECT_EQ(r.consumer_stats(c).delivered, 1u);
}

TEST(router, reports_no_consumer_when_every_lane_is_taken) {
    source_t source(16);
    router_config cfg = config(router_mode::broadcast, credit_policy::drop);
    cfg.max_consumers = 2;
    router_t r(source, cfg);
    EXPECT_NE(r.attach(1), router_t::no_consumer);
    EXPECT_NE(r.attach(1), router_t::no_consumer);
    EXPECT_EQ(r.attach(1), router_t::no_consumer);
}

TEST(router, routes_from_an_mpsc_ring) {
    mpsc_ring<int> source(16);
    router<mpsc_ring<int>> r(source, config(router_mode::work_queue, credit_policy::park));
    const auto a = r.attach(8);
    for (int v = 0; v < 4; ++v) ASSERT_TRUE(source.try_push(v));
    EXPECT_EQ(r.step(), 4u);
    int v = 0;
    std::vector<int> got;
    while (r.try_take(a, v) == take_status::taken) got.push_back(v);
    EXPECT_EQ(got, iota(0, 4));
}

TEST(router, consume_returns_credit_once_per_batch) {
    source_t source(16);
    router_t r(source, config(router_mode::broadcast, credit_policy::park));
    const auto a = r.attach(4);
    push_range(source, 0, 4);
    EXPECT_EQ(r.step(), 4u);
    std::vector<int> got;
    EXPECT_EQ(r.consume(
                  a, [&](const int& v) { got.push_back(v); }, 3),
              3u);
    EXPECT_EQ(r.consumer_stats(a).lag, 1u);
    EXPECT_EQ(got, iota(0, 3));
}

// ---- real threads, every wait strategy --------------------------------------------------

template <class Wait>
class router_threads : public ::testing::Test {};

template <template <class> class W>
struct wait_of {
    template <class S>
    using type = W<S>;
};

using waits = ::testing::Types<wait_of<busy_spin_wait>, wait_of<yielding_wait>, wait_of<backoff_wait>,
                               wait_of<blocking_wait>, wait_of<timeout_blocking_wait>>;
TYPED_TEST_SUITE(router_threads, waits);

TYPED_TEST(router_threads, run_moves_everything_under_park) {
    using ring_t = spsc_ring<int, TypeParam::template type>;
    using r_t = router<ring_t, TypeParam::template type>;
    // busy_spin_wait: four spinning threads share two cores, so fewer events.
    constexpr int items = std::is_same_v<TypeParam, wait_of<busy_spin_wait>> ? 1'000 : 20'000;
    ring_t source(64);
    for (const router_mode mode : {router_mode::broadcast, router_mode::work_queue}) {
        router_config cfg = config(mode, credit_policy::park);
        cfg.idle_spin_limit = 8;
        cfg.yield_every = 4;
        cfg.park_wait_ns = 100'000;
        r_t r(source, cfg);
        const auto a = r.attach(4);
        const auto b = r.attach(8);
        (void)r.step();  // grant both before anything flows
        std::thread router_thread = r.spawn();
        std::vector<int> got[2];
        auto consumer = [&](std::size_t index, typename r_t::consumer_id id) {
            const std::size_t want = mode == router_mode::broadcast ? items : 0;
            for (;;) {
                int v = 0;
                if (r.take(id, v, 1'000'000) == take_status::taken) {
                    got[index].push_back(v);
                    if (v == items - 1 || got[index].size() == want) break;
                } else if (r.stats().routed == static_cast<std::uint64_t>(items) &&
                           r.consumer_stats(id).lag == 0) {
                    break;
                }
            }
        };
        std::thread ca(consumer, 0, a);
        std::thread cb(consumer, 1, b);
        for (int v = 0; v < items; ++v) {
            while (source.push(v) != wait_result::ready) {
            }
        }
        ca.join();
        cb.join();
        r.stop();
        router_thread.join();
        if (mode == router_mode::broadcast) {
            EXPECT_EQ(got[0], iota(0, items));
            EXPECT_EQ(got[1], iota(0, items));
        } else {
            EXPECT_EQ(got[0].size() + got[1].size(), static_cast<std::size_t>(items));
            for (const auto& g : got) {
                for (std::size_t i = 1; i < g.size(); ++i) ASSERT_LT(g[i - 1], g[i]) << "order per consumer";
            }
        }
        EXPECT_EQ(r.stats().dropped_no_credit, 0u);
    }
}

}  // namespace ringlab::scenarios
