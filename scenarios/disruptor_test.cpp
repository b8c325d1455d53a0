// scenarios/disruptor_test.cpp: the Disruptor core (ring_buffer, sequencers, barrier,
// batch_event_processor, event_poller, disruptor) and its five classic topologies under
// every wait strategy.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "ringlab/ringlab.hpp"

namespace ringlab::scenarios {
namespace {

struct event {
    std::uint64_t value = 0;
    std::uint64_t stage_mark = 0;
};

/// Checks that positions arrive in order, each once, with the value the producer wrote.
struct checking_handler {
    std::uint64_t expected = 0;
    std::uint64_t sum = 0;
    std::uint64_t batches = 0;
    bool ordered = true;
    void operator()(const event& e, std::uint64_t position, bool end_of_batch) {
        ordered = ordered && position == expected && e.value == position * 3;
        ++expected;
        sum += e.value;
        batches += end_of_batch ? 1 : 0;
    }
};

/// Publishes until `count` events are out or the producers' wait says `alerted`; returns
/// how many it published. A wait that times out (timeout_blocking_wait) retries.
template <class D>
std::uint64_t produce_until_alerted(D& d, std::uint64_t count) {
    std::uint64_t published = 0;
    while (published < count) {
        const wait_result r = d.ring().publish_event([](event& e, std::uint64_t p) { e.value = p * 3; });
        if (r == wait_result::alerted) break;
        if (r == wait_result::ready) ++published;
    }
    return published;
}

/// Publishes `count` events.
template <class D>
void produce(D& d, std::uint64_t count) {
    ASSERT_EQ(produce_until_alerted(d, count), count) << "the producers' wait was alerted";
}

/// Polls `done()` every millisecond until it holds, for at most 10 s.
template <class Done>
void within_10s(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

/// Waits up to 10 s for a thread to park in `wait`; returns how many are parked.
template <class W>
std::uint32_t parked_in(const W& wait) {
    within_10s([&] { return wait.parked_waiters() != 0; });
    return wait.parked_waiters();
}

std::uint64_t sum_of_values(std::uint64_t count) { return 3 * count * (count - 1) / 2; }

/// The consumers' wait strategy and the producers' (by default the same).
template <template <class> class Wait, template <class> class ProducerWait = Wait>
struct with_wait {
    template <class P>
    using disruptor_t = disruptor<event, P, Wait, sync::native, ProducerWait>;
};

template <class W>
class topologies : public ::testing::Test {};
// Every strategy on both sides, then producers of another kind than their consumers:
// yielding beside busy-spinning consumers (LMAX's shape), asleep until busy-spinning
// consumers wake them, and spinning beside sleeping consumers.
using all_waits = ::testing::Types<with_wait<busy_spin_wait>, with_wait<yielding_wait>, with_wait<backoff_wait>,
                                   with_wait<blocking_wait>, with_wait<timeout_blocking_wait>,
                                   with_wait<busy_spin_wait, yielding_wait>, with_wait<busy_spin_wait, blocking_wait>,
                                   with_wait<blocking_wait, busy_spin_wait>>;
TYPED_TEST_SUITE(topologies, all_waits);

constexpr std::uint64_t events = 50'000;

// producer -> ring -> A
TYPED_TEST(topologies, one_to_one_unicast) {
    typename TypeParam::template disruptor_t<single_producer> d(1024);
    checking_handler a;
    d.handle_events_with("A", a);
    thread_executor ex;
    d.start(ex);
    produce(d, events);
    const auto report = d.shutdown(ex);
    EXPECT_TRUE(report.drained);
    EXPECT_TRUE(a.ordered);
    EXPECT_EQ(a.expected, events);
    EXPECT_EQ(a.sum, sum_of_values(events));
}

// producer -> ring -> A -> B -> C
TYPED_TEST(topologies, one_to_three_pipeline) {
    typename TypeParam::template disruptor_t<single_producer> d(256);
    checking_handler a, b, c;
    const auto sa = d.handle_events_with("A", a);
    const auto sb = d.handle_events_with("B", b, {sa});
    d.handle_events_with("C", c, {sb});
    thread_executor ex;
    d.start(ex);
    produce(d, events);
    const auto report = d.shutdown(ex);
    EXPECT_TRUE(report.drained);
    for (auto* h : {&a, &b, &c}) {
        EXPECT_TRUE(h->ordered);
        EXPECT_EQ(h->expected, events);
    }
}

// producer -> ring -> {A, B, C}
TYPED_TEST(topologies, one_to_three_multicast) {
    typename TypeParam::template disruptor_t<single_producer> d(256);
    checking_handler a, b, c;
    d.handle_events_with("A", a);
    d.handle_events_with("B", b);
    d.handle_events_with("C", c);
    thread_executor ex;
    d.start(ex);
    produce(d, events);
    EXPECT_TRUE(d.shutdown(ex).drained);
    for (auto* h : {&a, &b, &c}) EXPECT_EQ(h->sum, sum_of_values(events));
}

// producer -> ring -> {A, B} -> C
TYPED_TEST(topologies, one_to_three_diamond) {
    typename TypeParam::template disruptor_t<single_producer> d(256);
    checking_handler a, b, c;
    const auto sa = d.handle_events_with("A", a);
    const auto sb = d.handle_events_with("B", b);
    d.handle_events_with("C", c, {sa, sb});
    thread_executor ex;
    d.start(ex);
    produce(d, events);
    EXPECT_TRUE(d.shutdown(ex).drained);
    EXPECT_TRUE(c.ordered);
    EXPECT_EQ(c.expected, events);
}

// {P1, P2, P3} -> ring -> A
TYPED_TEST(topologies, three_to_one_sequencer) {
    typename TypeParam::template disruptor_t<multi_producer> d(256);
    std::uint64_t seen = 0;
    std::uint64_t sum = 0;
    auto count = [&](const event& e, std::uint64_t, bool) {
        ++seen;
        sum += e.value;
    };
    d.handle_events_with("A", count);
    thread_executor ex;
    d.start(ex);
    std::vector<std::thread> producers;
    for (std::uint64_t p = 1; p <= 3; ++p) {
        producers.emplace_back([&, p] {
            for (std::uint64_t i = 0; i < events / 3; ++i) {
                while (d.ring().publish_event([p](event& e, std::uint64_t) { e.value = p; }) == wait_result::timed_out) {
                }
            }
        });
    }
    for (auto& t : producers) t.join();
    EXPECT_TRUE(d.shutdown(ex).drained);
    EXPECT_EQ(seen, 3 * (events / 3));
    EXPECT_EQ(sum, 6 * (events / 3));
}

TEST(ring_buffer, validates_its_capacity_and_claims) {
    EXPECT_THROW((ring_buffer<event>(100)), config_error);
    ring_buffer<event> ring(4);
    EXPECT_THROW((void)ring.try_next(0), config_error);
    EXPECT_THROW((void)ring.try_next(5), config_error);
}

TEST(ring_buffer, never_laps_the_slowest_gating_consumer) {
    ring_buffer<event> ring(4);
    sequence<> slow;
    ring.gating().add(slow);
    for (int i = 0; i < 4; ++i) {
        const auto p = ring.try_next();
        ASSERT_TRUE(p);
        ring.publish(*p);
    }
    EXPECT_FALSE(ring.try_next()) << "the producer lapped a consumer that has processed nothing";
    EXPECT_EQ(ring.next(1, 1'000'000).result, wait_result::timed_out);
    slow.set(1);
    const auto p = ring.try_next();
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 4u);
}

template <class Producer>
void says_what_room_is_left() {
    ring_buffer<event, Producer> ring(8);
    sequence<> slow;
    ring.gating().add(slow);
    EXPECT_EQ(ring.remaining_capacity(), 8u);
    const auto begin = ring.try_next(3);
    ASSERT_TRUE(begin);
    EXPECT_EQ(ring.remaining_capacity(), 5u) << "a claim takes room before it is published";
    ring.publish(*begin, *begin + 3);
    EXPECT_TRUE(ring.has_available_capacity(5));
    EXPECT_FALSE(ring.has_available_capacity(6));
    slow.set(2);
    EXPECT_EQ(ring.remaining_capacity(), 7u);
    EXPECT_TRUE(ring.has_available_capacity(7));
    EXPECT_TRUE(ring.try_next(7)) << "has_available_capacity(7) said yes";
    EXPECT_EQ(ring.remaining_capacity(), 0u);
    EXPECT_FALSE(ring.has_available_capacity(1));
    EXPECT_THROW((void)ring.has_available_capacity(0), config_error);
    EXPECT_THROW((void)ring.has_available_capacity(9), config_error);
}

TEST(ring_buffer, publishes_a_batch_in_one_claim_and_tries_without_waiting) {
    ring_buffer<event> ring(4);
    sequence<> slow;
    ring.gating().add(slow);
    std::vector<std::uint64_t> filled;
    ASSERT_EQ(ring.publish_events(3,
                                  [&](event& e, std::uint64_t p) {
                                      e.value = p * 3;
                                      filled.push_back(p);
                                  }),
              wait_result::ready);
    EXPECT_EQ(filled, (std::vector<std::uint64_t>{0, 1, 2}));
    for (std::uint64_t p = 0; p < 3; ++p) {
        EXPECT_TRUE(ring.published(p));
        EXPECT_EQ(ring.read(p).value, p * 3);
    }
    EXPECT_EQ(ring.publish_events(
                  2, [](event&, std::uint64_t) {}, 1'000'000),
              wait_result::timed_out)
        << "two more would lap the consumer";
    EXPECT_TRUE(ring.try_publish_event([](event& e, std::uint64_t p) { e.value = p * 3; }));
    EXPECT_FALSE(ring.try_publish_event(
        [](event&, std::uint64_t) { ADD_FAILURE() << "filled a slot it has not got"; }));
    EXPECT_EQ(ring.claimed(), 4u) << "a refused try claims nothing";
    EXPECT_THROW((void)ring.publish_events(5, [](event&, std::uint64_t) {}), config_error);
}

TEST(ring_buffer, says_what_room_is_left_to_its_producers) {
    says_what_room_is_left<single_producer>();
    says_what_room_is_left<multi_producer>();
}

TEST(ring_buffer, a_blocked_producer_resumes_when_the_consumer_advances) {
    ring_buffer<event, single_producer, blocking_wait> ring(2);
    sequence<> consumer;
    ring.gating().add(consumer);
    for (int i = 0; i < 2; ++i) ring.publish(ring.next().begin);
    std::atomic<bool> claimed{false};
    std::thread producer([&] {
        const auto c = ring.next();
        EXPECT_TRUE(c.ok());
        claimed.store(true);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(claimed.load());
    consumer.set(1);
    ring.progress_made();
    producer.join();
    EXPECT_TRUE(claimed.load());
    EXPECT_GE(ring.stats().producer_waits, 1u);
}

TEST(ring_buffer, producers_wait_through_their_own_strategy) {
    using ring_t = ring_buffer<event, single_producer, busy_spin_wait, sync::native, timeout_blocking_wait>;
    static_assert(std::is_same_v<ring_t::wait_type, busy_spin_wait<>>);
    static_assert(std::is_same_v<decltype(std::declval<ring_t&>().producer_wait()), timeout_blocking_wait<>&>);
    ring_t::options options;
    options.producer_wait.timeout_ns = 2'000'000;
    ring_t ring(2, options);
    sequence<> consumer;
    ring.gating().add(consumer);
    for (int i = 0; i < 2; ++i) ring.publish(ring.next().begin);
    // No timeout given: a busy-spinning producer would wait for ever; this one's strategy
    // ends the wait at its own configured timeout.
    EXPECT_EQ(ring.next().result, wait_result::timed_out);
    consumer.set(1);
    EXPECT_EQ(ring.next().result, wait_result::ready);
}

TEST(ring_buffer, a_producer_asleep_beside_spinning_consumers_is_woken_by_their_progress) {
    ring_buffer<event, single_producer, busy_spin_wait, sync::native, blocking_wait> ring(2);
    sequence<> consumer;
    ring.gating().add(consumer);
    for (int i = 0; i < 2; ++i) ring.publish(ring.next().begin);
    std::atomic<bool> claimed{false};
    std::thread producer([&] {
        EXPECT_TRUE(ring.next().ok());
        claimed.store(true);
    });
    // The producer parks in its own strategy (a spinning one would never count a waiter).
    EXPECT_EQ(parked_in(ring.producer_wait()), 1u) << "the producer did not park in blocking_wait";
    EXPECT_FALSE(claimed.load());
    consumer.set(1);
    ring.progress_made();
    producer.join();
    EXPECT_TRUE(claimed.load());
    EXPECT_GE(ring.producer_wait().wakes(), 1u) << "the consumer's progress did not wake the producer";
}

TEST(ring_buffer, counts_published_events_from_the_cursor_and_the_stamps) {
    ring_buffer<event> ring(4);
    sequence<> consumer;
    ring.gating().add(consumer);
    EXPECT_EQ(ring.stats().published, 0u);
    const auto first = ring.next(3);
    EXPECT_EQ(ring.stats().published, 0u) << "claimed, not published";
    ring.publish(first.begin, first.end);
    EXPECT_EQ(ring.stats().published, 3u);
    consumer.set(3);
    const auto second = ring.next(4);  // laps the slots of the first claim
    EXPECT_EQ(ring.stats().published, 3u) << "older laps' stamps do not count";
    ring.publish(second.begin, second.begin + 2);
    EXPECT_EQ(ring.stats().published, 5u);
    ring.publish(second.begin + 2, second.end);
    EXPECT_EQ(ring.stats().published, 7u);
}

TEST(multi_producer_sequencer, try_claim_leaves_nothing_behind_when_full) {
    ring_buffer<event, multi_producer> ring(2);
    sequence<> consumer;
    ring.gating().add(consumer);
    ASSERT_TRUE(ring.try_next(2));
    EXPECT_FALSE(ring.try_next(1));
    EXPECT_EQ(ring.cursor(), 2u) << "a failed try_next must not claim";
}

TEST(multi_producer_sequencer, claims_with_fetch_add_only_while_there_is_room_to_spare) {
    multi_producer_sequencer<> seq(8);  // room to spare: more than 2 of the 8 free
    sequence<> consumer;
    seq.gating().add(consumer);
    EXPECT_EQ(seq.claim_with_room(4), std::optional<std::uint64_t>(0));
    EXPECT_EQ(seq.claim_with_room(2), std::optional<std::uint64_t>(4)) << "a claim that leaves exactly the spare room";
    EXPECT_EQ(seq.claim_with_room(3), std::nullopt) << "near full, a claim that laps the consumer";
    EXPECT_EQ(seq.claimed(), 6u) << "a refused claim must not claim";
    EXPECT_EQ(seq.claim_with_room(2), std::optional<std::uint64_t>(6));
    EXPECT_EQ(seq.claim_with_room(1), std::nullopt) << "full";
    consumer.set(5);
    EXPECT_EQ(seq.claim_with_room(5), std::optional<std::uint64_t>(8)) << "the consumer made room";
    EXPECT_EQ(seq.claimed(), 13u);
}

TEST(multi_producer_sequencer, a_producer_waiting_for_room_holds_no_claim) {
    // A claim held while waiting would stop every consumer at its slot; with more threads
    // than cores, for as long as its producer is preempted.
    ring_buffer<event, multi_producer, yielding_wait> ring(4);
    sequence<> consumer;
    ring.gating().add(consumer);
    for (int i = 0; i < 4; ++i) ring.publish(ring.next().begin);
    std::atomic<bool> claimed{false};
    std::thread producer([&] {
        const auto c = ring.next(2);
        EXPECT_TRUE(c.ok());
        EXPECT_EQ(c.begin, 4u);
        ring.publish(c.begin, c.end);
        claimed.store(true);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(claimed.load());
    EXPECT_EQ(ring.cursor(), 4u) << "the waiting producer took a claim";
    consumer.set(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(ring.cursor(), 4u) << "a claim of 2 was taken with room for 1";
    consumer.set(2);
    producer.join();
    EXPECT_TRUE(claimed.load());
    EXPECT_EQ(ring.cursor(), 6u);
}

TEST(sequence_barrier, a_stage_never_passes_its_dependents) {
    ring_buffer<event> ring(8);
    for (int i = 0; i < 6; ++i) ring.publish(*ring.try_next());
    sequence<> upstream(2);
    sequence_barrier<ring_buffer<event>> straight(ring);
    sequence_barrier<ring_buffer<event>> after(ring, {&upstream});
    EXPECT_EQ(straight.available(0, 100), 6u);
    EXPECT_EQ(after.available(0, 100), 2u);
    EXPECT_EQ(after.available(0, 1), 1u) << "the limit bounds a batch";
}

struct hooked_handler {
    int starts = 0;
    int shutdowns = 0;
    std::vector<std::pair<std::uint64_t, bool>> seen;
    void on_start() { ++starts; }
    void on_shutdown() { ++shutdowns; }
    void operator()(const event&, std::uint64_t p, bool end_of_batch) { seen.emplace_back(p, end_of_batch); }
};

TEST(batch_event_processor, marks_the_end_of_each_batch_and_honours_max_batch) {
    using ring_t = ring_buffer<event>;
    ring_t ring(16);
    for (int i = 0; i < 10; ++i) ring.publish(*ring.try_next());
    hooked_handler h;
    sequence<> progress;
    processor_options options;
    options.max_batch = 4;
    batch_event_processor<ring_t, hooked_handler> p(sequence_barrier<ring_t>(ring), h, progress, options);
    p.drain_to(10);
    p.run();
    EXPECT_EQ(h.starts, 1);
    EXPECT_EQ(h.shutdowns, 1);
    ASSERT_EQ(h.seen.size(), 10u);
    for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(h.seen[i].second, i == 3 || i == 7 || i == 9) << i;
    EXPECT_EQ(progress.get(), 10u);
    EXPECT_EQ(p.stats().batches, 3u);
}

TEST(batch_event_processor, takes_the_largest_max_batch_as_the_whole_ring) {
    using ring_t = ring_buffer<event>;
    ring_t ring(16);
    for (int i = 0; i < 10; ++i) ring.publish(*ring.try_next());
    hooked_handler h;
    sequence<> progress;
    progress.set(2);  // starts past 0, where next + max_batch would wrap without the clamp
    processor_options options;
    options.max_batch = ~std::uint64_t{0};
    batch_event_processor<ring_t, hooked_handler> p(sequence_barrier<ring_t>(ring), h, progress, options);
    p.drain_to(10);
    p.run();  // spun for ever on an empty batch
    EXPECT_EQ(progress.get(), 10u);
    EXPECT_EQ(h.seen.size(), 8u);
}

TEST(batch_event_processor, a_drain_never_undoes_a_halt) {
    using ring_t = ring_buffer<event>;
    ring_t ring(16);
    for (int i = 0; i < 10; ++i) ring.publish(*ring.try_next());
    hooked_handler h;
    sequence<> progress;
    batch_event_processor<ring_t, hooked_handler> p(sequence_barrier<ring_t>(ring), h, progress);
    p.halt();
    p.drain_to(10);
    p.run();
    EXPECT_EQ(progress.get(), 0u) << "drain_to() raised the stop position of a halted stage";
    EXPECT_TRUE(h.seen.empty());
}

TEST(batch_event_processor, rejects_a_slip_it_cannot_reach) {
    using ring_t = ring_buffer<event>;
    ring_t ring(16);
    hooked_handler h;
    sequence<> progress;
    auto make = [&](std::uint64_t max_batch, slip_options slip) {
        processor_options options;
        options.max_batch = max_batch;
        options.slip = slip;
        batch_event_processor<ring_t, hooked_handler> p(sequence_barrier<ring_t>(ring), h, progress, options);
    };
    EXPECT_THROW(make(8, slip_options{8}), config_error) << "a run is never longer than max_batch";
    EXPECT_THROW(make(4096, slip_options{16}), config_error) << "nor than the ring";
    EXPECT_THROW(make(8, slip_options{4, 0}), config_error);
    EXPECT_THROW(make(8, slip_options{1}), config_error) << "a distance of 1 is no head start";
    EXPECT_THROW(make(8, slip_options{4, 8, 1}), config_error) << "after 1 would slip on every reply";
    EXPECT_NO_THROW(make(8, slip_options{7}));  // after 16 counts as 7
    EXPECT_NO_THROW(make(8, slip_options{}));
}

TEST(sequence_barrier, slips_only_on_a_short_run_with_room_for_the_distance) {
    using ring_t = ring_buffer<event>;
    ring_t ring(64);
    sequence_barrier<ring_t> barrier(ring);
    sync::native::atomic<std::uint64_t> stop{run_forever};
    const slip_options slip{8, 4, 2};
    constexpr std::uint64_t ms = 1'000'000;
    for (int i = 0; i < 3; ++i) ring.publish(*ring.try_next());
    auto w = barrier.wait_for(0, 32, stop, ms, &slip);
    EXPECT_EQ(w.result, wait_result::ready);
    EXPECT_EQ(w.end, 3u);
    EXPECT_TRUE(w.slipped) << "a run of 3 is shorter than the distance";
    EXPECT_FALSE(w.idled);
    w = barrier.wait_for(3, 35, stop, ms, &slip);
    EXPECT_EQ(w.result, wait_result::timed_out) << "the slip ends after its polls; then the wait times out";
    EXPECT_TRUE(w.idled);
    EXPECT_TRUE(w.slipped);
    w = barrier.wait_for(0, 8, stop, ms, &slip);
    EXPECT_EQ(w.end, 3u);
    EXPECT_FALSE(w.slipped) << "no slip when the limit leaves no room past the distance";
    w = barrier.wait_for(3, 35, stop, ms, nullptr);
    EXPECT_FALSE(w.slipped) << "no slip unless the consumer asks for one";
    for (int i = 0; i < 8; ++i) ring.publish(*ring.try_next());
    w = barrier.wait_for(0, 32, stop, ms, &slip);
    EXPECT_EQ(w.end, 11u);
    EXPECT_FALSE(w.slipped) << "a run of the distance or more needs no slip";
}

/// One stage on a blocking_wait ring of 64 whose wait parks at once when it finds nothing,
/// so that parked_waiters() says it waits.
struct parking_stage {
    using ring_t = ring_buffer<event, single_producer, blocking_wait>;
    static ring_t::options parks_at_once() {
        ring_t::options o;
        o.consumer_wait.spin_limit = 0;
        o.consumer_wait.yield_ns = 0;
        return o;
    }
    ring_t ring{64, parks_at_once()};
    hooked_handler h;
    sequence<> progress;
    batch_event_processor<ring_t, hooked_handler> p;

    explicit parking_stage(processor_options options)
        : p(sequence_barrier<ring_t>(ring), h, progress, options) {
        ring.gating().add(progress);
    }
    void publish(int n) {
        for (int i = 0; i < n; ++i) ring.publish(*ring.try_next());
    }
    /// Waits until the stage processed `processed` events and parked.
    void settle(std::uint64_t processed) {
        within_10s([&] { return progress.get() >= processed && ring.consumer_wait().parked_waiters() != 0; });
        ASSERT_EQ(progress.get(), processed);
        ASSERT_EQ(ring.consumer_wait().parked_waiters(), 1u);
    }
};

TEST(batch_event_processor, slips_after_a_stream_and_never_when_woken_by_one_event) {
    processor_options options;
    options.max_batch = 32;
    options.slip = slip_options{8, 4, 2};
    parking_stage s(options);
    // One run of twenty (no slip: it is longer than the distance), then none after a
    // stream: one slip, then it parks.
    s.publish(20);
    std::thread consumer([&] { s.p.run(); });
    s.settle(20);
    // Woken by one event at a time, it has taken one event since it last found none: it
    // must not slip.
    for (std::uint64_t k = 21; k <= 70; ++k) {
        s.publish(1);
        s.settle(k);
    }
    s.p.drain_to(70);
    consumer.join();
    EXPECT_EQ(s.p.stats().slips, 1u);
    EXPECT_EQ(s.h.seen.size(), 70u);
}

TEST(batch_event_processor, slips_by_its_wait_strategys_default_unless_told_not_to) {
    static_assert(default_slip<blocking_wait<>>(65536, 4096).distance == 2048);
    static_assert(default_slip<timeout_blocking_wait<>>(65536, 4096).distance == 2048);
    static_assert(default_slip<blocking_wait<>>(64, 4096).distance == 8, "an eighth of the ring");
    static_assert(default_slip<blocking_wait<>>(65536, 100).distance == 50, "half the largest batch");
    static_assert(!default_slip<blocking_wait<>>(8, 4096).enabled(), "a ring of 8 leaves no head start");
    static_assert(!default_slip<busy_spin_wait<>>(65536, 4096).enabled());
    static_assert(!default_slip<yielding_wait<>>(65536, 4096).enabled());
    // A stream of twenty, then none: a stage that slips does so once, then parks.
    auto slips_after_a_stream = [](std::optional<slip_options> slip) -> std::uint64_t {
        processor_options options;
        options.slip = slip;
        parking_stage s(options);
        s.publish(20);
        std::thread consumer([&] { s.p.run(); });
        s.settle(20);
        s.p.drain_to(20);
        consumer.join();
        EXPECT_EQ(s.h.seen.size(), 20u);
        return s.p.stats().slips;
    };
    EXPECT_EQ(slips_after_a_stream(std::nullopt), 1u) << "blocking_wait's default on a ring of 64: slip 8";
    EXPECT_EQ(slips_after_a_stream(slip_options{}), 0u) << "slip_options{} turns it off";
}

TEST(batch_event_processor, loses_nothing_while_slipping_through_pauses) {
    using ring_t = ring_buffer<event>;
    constexpr std::uint64_t count = 200'000;
    ring_t ring(1024);
    sequence<> progress;
    ring.gating().add(progress);
    struct checker {
        std::uint64_t expected = 0;
        bool in_order = true;
        void operator()(const event& e, std::uint64_t position, bool) {
            in_order = in_order && position == expected && e.value == position;
            ++expected;
        }
    } h;
    processor_options options;
    options.slip = slip_options{512};
    batch_event_processor<ring_t, checker> p(sequence_barrier<ring_t>(ring), h, progress, options);
    auto publish = [&](std::uint64_t) {
        (void)ring.publish_event([](event& e, std::uint64_t position) { e.value = position; });
    };
    // A backlog first: the stage's first run is a stream, so it slips the first time it
    // finds a short run.
    for (std::uint64_t i = 0; i < 1000; ++i) publish(i);
    std::thread consumer([&] { p.run(); });
    for (std::uint64_t i = 1000; i < count; ++i) {
        publish(i);
        // Streams that stop short of the slip distance: the stage slips, then must go on.
        if (i % 1000 == 999) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    p.drain_to(count);
    consumer.join();
    EXPECT_TRUE(h.in_order);
    EXPECT_EQ(h.expected, count);
    EXPECT_GT(p.stats().slips, 0u) << "the stage never slipped: the test did not test it";
}

struct failing_handler {
    std::uint64_t fail_at;
    int failures_left;
    std::vector<std::uint64_t> handled;
    void operator()(const event&, std::uint64_t p, bool) {
        if (p == fail_at && failures_left > 0) {
            --failures_left;
            throw std::runtime_error("handler failure");
        }
        handled.push_back(p);
    }
};

TEST(batch_event_processor, follows_its_exception_policy) {
    using ring_t = ring_buffer<event>;
    auto run_with = [](exception_policy policy, int failures) {
        ring_t ring(16);
        for (int i = 0; i < 6; ++i) ring.publish(*ring.try_next());
        failing_handler h{3, failures, {}};
        sequence<> progress;
        processor_options options;
        options.on_exception = policy;
        options.rewind_limit = 2;
        batch_event_processor<ring_t, failing_handler> p(sequence_barrier<ring_t>(ring), h, progress, options);
        p.drain_to(6);
        p.run();
        return std::tuple{h.handled, progress.get(), p.error() != nullptr, p.stats()};
    };
    {
        const auto [handled, progress, failed, stats] = run_with(exception_policy::halt, 1);
        EXPECT_EQ(handled, (std::vector<std::uint64_t>{0, 1, 2}));
        EXPECT_EQ(progress, 3u) << "progress stops at the failing event";
        EXPECT_TRUE(failed);
    }
    {
        const auto [handled, progress, failed, stats] = run_with(exception_policy::skip, 1);
        EXPECT_EQ(handled, (std::vector<std::uint64_t>{0, 1, 2, 4, 5}));
        EXPECT_EQ(progress, 6u);
        EXPECT_FALSE(failed);
        EXPECT_EQ(stats.handler_errors, 1u);
    }
    {
        const auto [handled, progress, failed, stats] = run_with(exception_policy::rewind, 1);
        EXPECT_EQ(handled, (std::vector<std::uint64_t>{0, 1, 2, 0, 1, 2, 3, 4, 5}));
        EXPECT_EQ(progress, 6u);
        EXPECT_EQ(stats.rewinds, 1u);
    }
    {
        const auto [handled, progress, failed, stats] = run_with(exception_policy::rewind, 10);
        EXPECT_TRUE(failed) << "rewinding stops after rewind_limit attempts";
        EXPECT_EQ(progress, 3u);
    }
}

TEST(event_poller, reports_processing_gating_and_idle_and_stops_early) {
    using ring_t = ring_buffer<event>;
    ring_t ring(8);
    sequence<> progress;
    event_poller<ring_t> poller(sequence_barrier<ring_t>(ring), progress);
    auto never = [](const event&, std::uint64_t, bool) { return true; };
    EXPECT_EQ(poller.poll(never), poll_state::idle);
    const auto claim = ring.try_next(2);
    ASSERT_TRUE(claim);
    EXPECT_EQ(poller.poll(never), poll_state::idle) << "claimed but not yet published";
    ring.publish(*claim, *claim + 2);
    {
        sequence<> upstream;  // a stage the second poller comes after, still at 0
        sequence<> behind;
        event_poller<ring_t> after(sequence_barrier<ring_t>(ring, {&upstream}), behind);
        EXPECT_EQ(after.poll(never), poll_state::gating) << "published, held back by its upstream";
        upstream.set(1);
        EXPECT_EQ(after.poll(never), poll_state::processing);
        EXPECT_EQ(behind.get(), 1u);
    }
    int calls = 0;
    EXPECT_EQ(poller.poll([&](const event&, std::uint64_t, bool) { return ++calls < 1; }), poll_state::processing);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(progress.get(), 1u) << "the handler stopped after the first event";
    EXPECT_EQ(poller.poll(never), poll_state::processing);
    EXPECT_EQ(progress.get(), 2u);
}

TEST(disruptor, shutdown_reports_what_a_stuck_producer_left_unprocessed) {
    disruptor<event, single_producer, yielding_wait> d(8);
    checking_handler a;
    d.handle_events_with("A", a);
    thread_executor ex;
    d.start(ex);
    produce(d, 5);
    const auto orphan = d.ring().try_next();  // claimed, never published
    ASSERT_TRUE(orphan);
    const auto report = d.shutdown(ex, 20'000'000);
    EXPECT_FALSE(report.drained);
    EXPECT_EQ(report.final_position, 6u);
    EXPECT_EQ(report.unprocessed, 1u);
    EXPECT_EQ(a.expected, 5u);
}

TEST(disruptor, a_stage_halted_by_an_exception_halts_the_stages_after_it_and_shutdown_returns) {
    // P -> A -> B -> C, and D straight from the ring: A throws at position 3.
    disruptor<event, single_producer, yielding_wait> d(64);
    failing_handler a{3, 1, {}};
    checking_handler b;
    checking_handler c;
    checking_handler side;
    const auto ia = d.handle_events_with("A", a);
    const auto ib = d.handle_events_with("B", b, {ia});
    d.handle_events_with("C", c, {ib});
    d.handle_events_with("D", side);
    thread_executor ex;
    d.start(ex);
    produce(d, 10);
    const auto report = d.shutdown(ex);  // waited for ever while B and C waited on A
    EXPECT_FALSE(report.drained);
    EXPECT_EQ(report.final_position, 10u);
    ASSERT_EQ(report.stages.size(), 4u);
    EXPECT_NE(report.stages[0].error, nullptr) << "the report does not carry A's exception";
    EXPECT_EQ(report.stages[0].progress, 3u);
    EXPECT_LE(report.stages[1].progress, 3u);
    EXPECT_LE(report.stages[2].progress, report.stages[1].progress);
    EXPECT_EQ(report.stages[3].progress, 10u) << "a stage that does not come after A drains as usual";
    EXPECT_EQ(report.stages[3].error, nullptr);
    EXPECT_EQ(side.expected, 10u);
    EXPECT_EQ(report.unprocessed, 3 * 10 - report.stages[0].progress - report.stages[1].progress -
                                      report.stages[2].progress);
}

/// Runs the producers' `body` on a thread of its own. A body still waiting after a minute
/// is stranded: the ring is alerted to free it, and the test fails.
template <class D, class Body>
void unless_stranded(D& d, Body body) {
    std::atomic<bool> done{false};
    std::thread t([&] {
        body();
        done.store(true);
    });
    const auto limit = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (!done.load() && std::chrono::steady_clock::now() < limit) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const bool stranded = !done.load();
    if (stranded) d.ring().producer_wait().alert();
    t.join();
    EXPECT_FALSE(stranded) << "a producer waited for room behind a halted stage for a minute";
}

/// P -> A, P -> B, (A, B) -> C on a ring of 16, started; C throws at position 5, so the
/// ring never drains past it.
template <class D>
struct diamond_failing_at_5 {
    D d{16};
    checking_handler a, b;
    failing_handler c{5, 1, {}};
    thread_executor ex;
    diamond_failing_at_5() {
        const auto sa = d.handle_events_with("A", a);
        const auto sb = d.handle_events_with("B", b);
        d.handle_events_with("C", c, {sa, sb});
        d.start(ex);
    }
};

TYPED_TEST(topologies, a_failed_stage_alerts_the_producer_instead_of_stranding_it) {
    diamond_failing_at_5<typename TypeParam::template disruptor_t<single_producer>> t;
    auto& [d, a, b, c, ex] = t;
    std::uint64_t published = 0;
    unless_stranded(d, [&] { published = produce_until_alerted(d, 100'000); });
    EXPECT_GT(published, 5u);
    EXPECT_LT(published, 100'000u) << "the producer found room behind a stage that stopped at 5";
    const auto report = d.shutdown(ex);
    EXPECT_FALSE(report.drained);
    EXPECT_EQ(report.final_position, published);
    EXPECT_EQ(report.published_end, published);
    ASSERT_EQ(report.stages.size(), 3u);
    EXPECT_NE(report.stages[2].error, nullptr);
    EXPECT_EQ(c.handled.size(), 5u);
    EXPECT_TRUE(a.ordered && b.ordered);
    EXPECT_EQ(a.expected, published) << "a stage beside the failed one lost events";
    EXPECT_EQ(b.expected, published) << "a stage beside the failed one lost events";
}

// The same with three producers: one alerted after its fetch_add leaves a claim unpublished,
// and shutdown drains A and B up to the first such claim instead of waiting for it.
TYPED_TEST(topologies, a_failed_stage_alerts_every_producer_and_shutdown_stops_at_unpublished_claims) {
    diamond_failing_at_5<typename TypeParam::template disruptor_t<multi_producer>> t;
    auto& [d, a, b, c, ex] = t;
    std::atomic<std::uint64_t> published{0};
    unless_stranded(d, [&] {
        std::vector<std::thread> producers;
        for (int k = 0; k < 3; ++k)
            producers.emplace_back([&] { published += produce_until_alerted(d, 100'000); });
        for (auto& t : producers) t.join();
    });
    EXPECT_TRUE(d.producers_alerted());
    // A claim past room, as an alerted next() leaves it after its fetch_add (which the
    // producers above make only when preempted at the right moment).
    const std::uint64_t hole = d.ring().sequencer().claim(1);
    const auto report = d.shutdown(ex);  // waited for ever at the hole
    EXPECT_FALSE(report.drained);
    EXPECT_EQ(report.final_position, hole + 1);
    EXPECT_LE(report.published_end, published.load());
    EXPECT_LE(published.load(), hole) << "more was published than was claimed";
    EXPECT_LE(hole - published.load(), 3u) << "more than one abandoned claim per producer";
    EXPECT_GT(report.published_end, 5u);
    EXPECT_EQ(c.handled.size(), 5u);
    EXPECT_TRUE(a.ordered && b.ordered);
    EXPECT_EQ(a.expected, report.published_end);
    EXPECT_EQ(b.expected, report.published_end);
}

TEST(disruptor, halt_alerts_a_producer_asleep_for_room) {
    disruptor<event, single_producer, blocking_wait> d(8);
    std::atomic<bool> go{false};
    auto held = [&](const event&, std::uint64_t, bool) {
        while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    d.handle_events_with("A", held);
    thread_executor ex;
    d.start(ex);
    std::uint64_t published = 0;
    std::thread producer([&] { published = produce_until_alerted(d, 100); });
    // The stage holds the first event: the producer fills the ring and parks.
    ASSERT_EQ(parked_in(d.ring().producer_wait()), 1u) << "the producer did not park";
    std::thread halting([&] { d.halt(ex); });  // returns once the held stage lets go
    unless_stranded(d, [&] { producer.join(); });
    go.store(true);
    halting.join();
    EXPECT_TRUE(d.producers_alerted());
    EXPECT_EQ(published, 8u) << "the producer found room behind a halted stage";
}

// A consumer added at run time that fails has nothing after it: it stops gating, and the
// producer goes on past it without an alert; the report keeps where it stopped.
TEST(disruptor, a_failed_run_time_consumer_stops_gating_the_producers) {
    disruptor<event, single_producer, blocking_wait> d(16);
    checking_handler first;
    d.handle_events_with("first", first);
    thread_executor ex;
    d.start(ex);
    produce(d, 10);
    failing_handler late{20, 1, {}};
    const auto id = d.add_consumer(ex, "late", late);
    ASSERT_TRUE(id);
    unless_stranded(d, [&] { produce(d, 200); });  // 20 is the joiner's 11th event: it fails there
    EXPECT_FALSE(d.producers_alerted());
    EXPECT_EQ(d.joined_progress(*id), 20u) << "the report lost where the failed consumer stopped";
    d.remove_consumer(ex, *id);
    auto nothing = [](const event&, std::uint64_t, bool) {};
    const auto joined_again = d.add_consumer(ex, "again", nothing);
    EXPECT_TRUE(joined_again);
    d.remove_consumer(ex, *joined_again);
    produce(d, 100);
    const auto report = d.shutdown(ex);
    EXPECT_TRUE(report.drained);
    EXPECT_EQ(first.expected, 310u);
    EXPECT_EQ(late.handled.size(), 10u);
}

// shutdown() with a timeout halts what has not drained by then.
TEST(disruptor, a_shutdown_timeout_halts_a_stage_that_does_not_drain) {
    disruptor<event, single_producer, yielding_wait> d(8);
    std::atomic<bool> shutting_down{false};
    std::atomic<bool> go{false};
    std::uint64_t handled = 0;
    auto stuck = [&](const event&, std::uint64_t p, bool) {
        if (p == 2) {
            while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ++handled;
    };
    processor_options one_at_a_time;
    one_at_a_time.max_batch = 1;  // the halt lands right after the event it is stuck in
    d.handle_events_with("stuck", stuck, {}, one_at_a_time);
    thread_executor ex;
    d.start(ex);
    produce(d, 6);
    std::thread release([&] {
        while (!shutting_down.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // well past the timeout
        go.store(true);
    });
    shutting_down.store(true);
    const auto report = d.shutdown(ex, 20'000'000);
    release.join();
    EXPECT_FALSE(report.drained);
    EXPECT_EQ(report.published_end, 6u);
    EXPECT_EQ(report.stages[0].progress, 3u) << "the halt did not stop the stage after the batch it was in";
    EXPECT_EQ(report.unprocessed, 3u);
    EXPECT_EQ(handled, 3u);
}

// A stage that failed will not move again: a shutdown with a timeout returns once the others
// drained, not when the timeout ends (the DST workload checks the same in virtual time, with
// a canary).
TEST(disruptor, a_shutdown_timeout_does_not_wait_on_a_failed_stage) {
    diamond_failing_at_5<disruptor<event, single_producer, yielding_wait>> t;
    auto& [d, a, b, c, ex] = t;
    std::uint64_t published = 0;
    unless_stranded(d, [&] { published = produce_until_alerted(d, 100'000); });
    constexpr std::uint64_t minute_ns = 60'000'000'000;
    const auto began = std::chrono::steady_clock::now();
    const auto report = d.shutdown(ex, minute_ns);
    EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(30))
        << "shutdown waited out its timeout on a stage that had failed";
    EXPECT_FALSE(report.drained);
    EXPECT_EQ(report.published_end, published);
    EXPECT_EQ(a.expected, published) << "a stage beside the failed one was halted before it drained";
    EXPECT_EQ(b.expected, published) << "a stage beside the failed one was halted before it drained";
    EXPECT_EQ(c.handled.size(), 5u);
}

TEST(disruptor, a_shutdown_timeout_near_the_largest_still_drains) {
    disruptor<event, single_producer, yielding_wait> d(8);
    checking_handler a;
    d.handle_events_with("A", a);
    thread_executor ex;
    d.start(ex);
    produce(d, 20);
    const auto report = d.shutdown(ex, ~std::uint64_t{0} - 1);  // wrapped: halted at once
    EXPECT_TRUE(report.drained);
    EXPECT_EQ(a.expected, 20u);
}

TEST(ring_buffer, refuses_a_joiner_index_it_never_handed_out_and_a_ring_larger_than_memory) {
    ring_buffer<event> ring(8);
    EXPECT_THROW(ring.joiners().leave(99), config_error);
    EXPECT_THROW((void)ring.joiners().at_index(99), config_error);
    struct huge_event {
        char bytes[std::size_t{1} << 25];
    };
    // 2^40 slots of 32 MiB: the byte count wrapped and the ring was built on a tiny block.
    EXPECT_THROW((ring_buffer<huge_event>(std::size_t{1} << 40)), config_error);
}

TEST(disruptor, a_consumer_joins_at_the_cursor_and_leaves_cleanly) {
    disruptor<event, single_producer, yielding_wait> d(64);
    checking_handler first;
    d.handle_events_with("first", first);
    thread_executor ex;
    d.start(ex);
    produce(d, 1000);
    std::uint64_t joined_first = 0;
    std::uint64_t joined_count = 0;
    bool joined_ordered = true;
    auto late = [&](const event& e, std::uint64_t p, bool) {
        if (joined_count == 0) joined_first = p;
        joined_ordered = joined_ordered && p == joined_first + joined_count && e.value == p * 3;
        ++joined_count;
    };
    const auto id = d.add_consumer(ex, "late", late);
    ASSERT_TRUE(id);
    produce(d, 1000);
    const std::uint64_t end = d.ring().cursor();
    while (d.joined_progress(*id) < end) std::this_thread::yield();
    d.remove_consumer(ex, *id);
    produce(d, 1000);  // must not wait for the consumer that left
    EXPECT_TRUE(d.shutdown(ex).drained);
    EXPECT_TRUE(joined_ordered);
    EXPECT_EQ(joined_first, 1000u) << "a joiner starts at the cursor";
    EXPECT_EQ(joined_count, 1000u);
    EXPECT_EQ(d.joined_stats(*id).processed, 1000u);
    EXPECT_EQ(first.expected, 3000u);
}

TEST(disruptor, reports_what_each_stage_processed_in_how_many_batches_and_its_errors) {
    disruptor<event, single_producer, yielding_wait> d(64);
    checking_handler a;
    auto flaky = [](const event&, std::uint64_t p, bool) {
        if (p % 100 == 7) throw std::runtime_error("flaky at " + std::to_string(p));
    };
    processor_options skipping;
    skipping.on_exception = exception_policy::skip;
    const auto sa = d.handle_events_with("A", a);
    const auto sb = d.handle_events_with("B", flaky, {sa}, skipping);
    thread_executor ex;
    d.start(ex);
    produce(d, 1000);
    // Readable while the stages run.
    within_10s([&] { return d.stage_stats(sb).processed == 1000; });
    EXPECT_EQ(d.stage_stats(sb).processed, 1000u);
    const auto report = d.shutdown(ex);
    ASSERT_TRUE(report.drained);
    const processor_counters& in_a = report.stages[sa].stats;
    EXPECT_EQ(in_a.processed, 1000u);
    EXPECT_EQ(in_a.batches, a.batches) << "one progress publication per batch the handler saw end";
    EXPECT_EQ(in_a.handler_errors, 0u);
    EXPECT_EQ(in_a.slips, 0u) << "yielding_wait declares no streaming slip";
    const processor_counters& in_b = report.stages[sb].stats;
    EXPECT_EQ(in_b.processed, 1000u) << "skipped events are passed too";
    EXPECT_EQ(in_b.handler_errors, 10u);
    EXPECT_EQ(in_b.rewinds, 0u);
    EXPECT_GE(in_b.batches, 1u);
    EXPECT_LE(in_b.batches, 1000u);
    EXPECT_EQ(d.stage_stats(sa).batches, in_a.batches);
}

TEST(disruptor, rejects_a_description_that_names_an_unknown_stage) {
    disruptor<event> d(8);
    checking_handler handlers[2];
    EXPECT_THROW(d.wire({{"A", {}}, {"B", {"Z"}}}, handlers), config_error);
}

}  // namespace
}  // namespace ringlab::scenarios
