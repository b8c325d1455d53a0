// scenarios/batch_event_processor_test.cpp: the handler's hooks beyond the events
// themselves: on_batch_start, on_timeout (processor_options::timeout_ns) and early_release;
// and prefetching (processor_options::prefetch, ring_buffer's producer_prefetch), which
// must change nothing a handler sees.
// The processors run on the test's own thread unless a test says otherwise; a hook that
// halts its processor ends run().
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include "ringlab/ringlab.hpp"

namespace ringlab::scenarios {
namespace {

struct event {
    std::uint64_t value = 0;
};

template <class Ring>
void publish(Ring& ring, int count) {
    for (int i = 0; i < count; ++i) ring.publish(*ring.try_next());
}

/// Runs a processor of `h` on this thread until it has processed [0, end) or stopped;
/// returns it for its counters and error.
template <class Ring, class Handler>
auto run_to(std::uint64_t end, Ring& ring, Handler& h, sequence<>& progress, processor_options options = {}) {
    auto p = std::make_unique<batch_event_processor<Ring, Handler>>(sequence_barrier<Ring>(ring), h, progress,
                                                                    options);
    p->drain_to(end);
    p->run();
    return p;
}

// ---- on_batch_start ---------------------------------------------------------------------

/// Records each batch's size and the events handed; its sixth call throws.
struct sizing_handler {
    std::vector<std::uint64_t> sizes;
    std::vector<std::uint64_t> handled;

    void on_batch_start(std::uint64_t batch_size) { sizes.push_back(batch_size); }
    void operator()(const event&, std::uint64_t p, bool) {
        handled.push_back(p);
        if (handled.size() == 6) throw std::runtime_error("the sixth call fails");
    }
};

TEST(batch_event_processor, tells_the_handler_each_batch_size_first_and_again_after_a_rewind) {
    using ring_t = ring_buffer<event>;
    ring_t ring(16);
    publish(ring, 10);
    sizing_handler h;
    sequence<> progress;
    processor_options options;
    options.max_batch = 4;
    options.on_exception = exception_policy::rewind;
    (void)run_to(10, ring, h, progress, options);
    EXPECT_EQ(h.sizes, (std::vector<std::uint64_t>{4, 4, 4, 2})) << "batches [0,4) [4,8) (rewound) [8,10)";
    EXPECT_EQ(h.handled, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(progress.get(), 10u);
}

// ---- on_timeout -------------------------------------------------------------------------

/// Records the positions its waits timed out at; halts its processor after `halt_after`
/// timeouts, throwing from the first `throws` of them.
template <class Processor>
struct timing_handler {
    Processor* processor = nullptr;
    std::vector<std::uint64_t> timed_out_at;
    std::vector<std::uint64_t> handled;
    std::size_t halt_after = 3;
    std::size_t throws = 0;

    void on_timeout(std::uint64_t position) {
        timed_out_at.push_back(position);
        if (timed_out_at.size() >= halt_after) processor->halt();
        if (timed_out_at.size() <= throws) throw std::runtime_error("on_timeout failure");
    }
    void operator()(const event&, std::uint64_t p, bool) { handled.push_back(p); }
};

template <template <class> class Wait>
using timing_ring = ring_buffer<event, single_producer, Wait>;

template <template <class> class Wait>
struct timed_stage {
    struct handler;
    using processor_t = batch_event_processor<timing_ring<Wait>, handler>;
    struct handler : timing_handler<processor_t> {};
};

TEST(batch_event_processor, calls_on_timeout_with_the_position_it_waits_for) {
    using stage = timed_stage<busy_spin_wait>;
    timing_ring<busy_spin_wait> ring(16);
    publish(ring, 3);
    stage::handler h;
    sequence<> progress;
    processor_options options;
    options.timeout_ns = 10'000;
    stage::processor_t p(sequence_barrier<timing_ring<busy_spin_wait>>(ring), h, progress, options);
    h.processor = &p;
    p.run();
    EXPECT_EQ(h.handled, (std::vector<std::uint64_t>{0, 1, 2}));
    EXPECT_EQ(h.timed_out_at, (std::vector<std::uint64_t>{3, 3, 3})) << "it waits for position 3";
    EXPECT_EQ(p.stats().timeouts, 3u);
    EXPECT_EQ(p.error(), nullptr);
}

TEST(batch_event_processor, times_out_by_the_wait_strategys_own_timeout) {
    using stage = timed_stage<timeout_blocking_wait>;
    typename timing_ring<timeout_blocking_wait>::options ring_options;
    ring_options.consumer_wait.timeout_ns = 20'000;
    timing_ring<timeout_blocking_wait> ring(16, ring_options);
    stage::handler h;
    h.halt_after = 2;
    sequence<> progress;
    stage::processor_t p(sequence_barrier<timing_ring<timeout_blocking_wait>>(ring), h, progress);
    h.processor = &p;
    p.run();  // waits for ever unless the strategy's timeout reaches the handler
    EXPECT_EQ(h.timed_out_at, (std::vector<std::uint64_t>{0, 0}));
}

TEST(batch_event_processor, an_on_timeout_that_throws_follows_the_exception_policy) {
    using stage = timed_stage<yielding_wait>;
    auto run_with = [](exception_policy policy) {
        timing_ring<yielding_wait> ring(16);
        stage::handler h;
        h.throws = 2;
        sequence<> progress;
        processor_options options;
        options.timeout_ns = 10'000;
        options.on_exception = policy;
        stage::processor_t p(sequence_barrier<timing_ring<yielding_wait>>(ring), h, progress, options);
        h.processor = &p;
        p.run();
        return std::tuple{h.timed_out_at.size(), p.error() != nullptr, p.stats()};
    };
    {
        const auto [timeouts, failed, stats] = run_with(exception_policy::halt);
        EXPECT_EQ(timeouts, 1u) << "the first exception halts the stage";
        EXPECT_TRUE(failed);
    }
    {
        const auto [timeouts, failed, stats] = run_with(exception_policy::skip);
        EXPECT_EQ(timeouts, 3u) << "it goes on to its own halt";
        EXPECT_FALSE(failed);
        EXPECT_EQ(stats.handler_errors, 2u);
    }
}

/// A processor built with `options` on a ring of 16 throws config_error.
template <class Handler>
void expect_rejected(const processor_options& options) {
    using ring_t = ring_buffer<event>;
    ring_t ring(16);
    Handler h;
    sequence<> progress;
    EXPECT_THROW(
        (batch_event_processor<ring_t, Handler>(sequence_barrier<ring_t>(ring), h, progress, options)),
        config_error);
}

TEST(batch_event_processor, rejects_a_timeout_of_zero) {
    processor_options options;
    options.timeout_ns = 0;
    expect_rejected<sizing_handler>(options);
}

// ---- early_release ----------------------------------------------------------------------

/// Releases through `release_at[i]` while handling position i (when given), and records
/// what the ring and the progress said right after.
struct releasing_handler {
    using ring_t = ring_buffer<event>;
    sequence<>* progress = nullptr;
    std::vector<std::int64_t> release_at;  // per position: -1, or the position to release through
    std::uint64_t fail_at = ~std::uint64_t{0};
    int failures_left = 0;
    std::vector<std::uint64_t> handled;
    std::vector<std::uint64_t> progress_after;

    void operator()(const event&, std::uint64_t p, bool, early_release<ring_t>& release) {
        EXPECT_EQ(release.handling(), p);
        handled.push_back(p);
        if (p < release_at.size() && release_at[p] >= 0) {
            release.through(static_cast<std::uint64_t>(release_at[p]));
            progress_after.push_back(progress->get());
        }
        if (p == fail_at && failures_left > 0) {
            --failures_left;
            throw std::runtime_error("handler failure");
        }
    }
};

struct release_setup {
    using ring_t = releasing_handler::ring_t;
    ring_t ring;
    sequence<> progress;
    releasing_handler h;
    processor_options options;

    explicit release_setup(std::size_t capacity) : ring(capacity) {
        ring.gating().add(progress);
        h.progress = &progress;
    }
    auto run_to(std::uint64_t end) { return scenarios::run_to(end, ring, h, progress, options); }
};

TEST(batch_event_processor, an_early_release_publishes_progress_and_frees_slots_before_the_batch_ends) {
    release_setup s(4);
    publish(s.ring, 4);
    ASSERT_FALSE(s.ring.try_next()) << "the ring is full";
    s.h.release_at = {-1, 1, -1, 1};  // through 1 at position 1; again at 3 (nothing new)
    std::optional<std::uint64_t> claimed_mid_batch;
    struct claim_after_release {
        release_setup& s;
        std::optional<std::uint64_t>& claimed;
        void operator()(const event& e, std::uint64_t pos, bool eob,
                        early_release<release_setup::ring_t>& r) {
            s.h(e, pos, eob, r);
            if (pos == 2) claimed = s.ring.try_next(2);
        }
    } claiming{s, claimed_mid_batch};
    const auto q = run_to(4, s.ring, claiming, s.progress, s.options);
    EXPECT_EQ(s.h.handled, (std::vector<std::uint64_t>{0, 1, 2, 3}));
    EXPECT_EQ(s.h.progress_after, (std::vector<std::uint64_t>{2, 2}))
        << "through 1: progress 2, then unchanged";
    ASSERT_TRUE(claimed_mid_batch) << "the released slots were not free before the batch ended";
    EXPECT_EQ(*claimed_mid_batch, 4u);
    EXPECT_EQ(s.progress.get(), 4u);
    const processor_counters stats = q->stats();
    EXPECT_EQ(stats.releases, 1u) << "a release that moves nothing is not counted";
    EXPECT_EQ(stats.processed, 4u) << "released events count once, at their release";
    EXPECT_EQ(stats.batches, 1u) << "a release is not a batch";
}

TEST(batch_event_processor, a_release_past_the_event_being_handled_is_the_handlers_failure) {
    release_setup s(16);
    publish(s.ring, 6);
    s.h.release_at = {-1, -1, 3};  // at position 2, through 3: not handled yet
    const auto p = s.run_to(6);
    ASSERT_NE(p->error(), nullptr);
    EXPECT_THROW(std::rethrow_exception(p->error()), std::out_of_range);
    EXPECT_EQ(s.progress.get(), 2u) << "the stage halts at the event whose handler failed";
    EXPECT_EQ(p->stats().processed, 2u);
}

TEST(batch_event_processor, released_events_are_never_handed_again) {
    {
        // Rewind: the batch is handed again from the first event not released.
        release_setup s(16);
        publish(s.ring, 6);
        s.h.release_at = {-1, 1};
        s.h.fail_at = 3;
        s.h.failures_left = 1;
        s.options.on_exception = exception_policy::rewind;
        const auto p = s.run_to(6);
        EXPECT_EQ(s.h.handled, (std::vector<std::uint64_t>{0, 1, 2, 3, 2, 3, 4, 5}));
        EXPECT_EQ(s.progress.get(), 6u);
        EXPECT_EQ(p->stats().processed, 6u);
        EXPECT_EQ(p->stats().rewinds, 1u);
    }
    {
        // Halt after releasing the failing event itself: the progress stays past it.
        release_setup s(16);
        publish(s.ring, 6);
        s.h.release_at = {-1, -1, 2};
        s.h.fail_at = 2;
        s.h.failures_left = 1;
        const auto p = s.run_to(6);
        EXPECT_NE(p->error(), nullptr);
        EXPECT_EQ(s.progress.get(), 3u) << "the progress went back from a release";
        EXPECT_EQ(p->stats().processed, 3u);
        EXPECT_EQ(p->stats().batches, 1u);
    }
}

TEST(batch_event_processor, an_early_release_lets_a_later_stage_read_before_the_batch_ends) {
    // A releases every event; right after each release, mid-batch, B (after A) may read it,
    // and once the last event is released the batch is counted before the progress shows it.
    using ring_t = ring_buffer<event>;
    struct stage_a {
        ring_t* ring;
        sequence<>* progress;
        const batch_event_processor<ring_t, stage_a>* self = nullptr;
        std::vector<std::uint64_t> b_could_read;  // per event: the end of what B could read
        std::vector<std::uint64_t> batches_seen;
        void operator()(const event&, std::uint64_t p, bool, early_release<ring_t>& release) {
            release.through(p);
            b_could_read.push_back(sequence_barrier<ring_t>(*ring, {progress}).available(p, 8));
            batches_seen.push_back(self->stats().batches);
        }
    };
    ring_t ring(64);
    sequence<> a_progress;
    publish(ring, 8);
    stage_a a{&ring, &a_progress, nullptr, {}, {}};
    batch_event_processor<ring_t, stage_a> pa(sequence_barrier<ring_t>(ring), a, a_progress);
    a.self = &pa;
    pa.drain_to(8);
    pa.run();
    EXPECT_EQ(a.b_could_read, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(a.batches_seen, (std::vector<std::uint64_t>{0, 0, 0, 0, 0, 0, 0, 1}))
        << "the batch is counted by the release that ends it";
    const processor_counters stats = pa.stats();
    EXPECT_EQ(stats.batches, 1u) << "and not again when the handler returns";
    EXPECT_EQ(stats.processed, 8u);
    EXPECT_EQ(stats.releases, 8u);
}

TEST(batch_event_processor, a_release_outside_the_handler_moves_nothing) {
    // The handler keeps its early_release and calls it from on_batch_start of the next
    // batch: the events are already counted and published by the batch's end.
    using ring_t = ring_buffer<event>;
    struct keeper {
        early_release<ring_t>* kept = nullptr;
        void on_batch_start(std::uint64_t) {
            if (kept != nullptr) kept->through(kept->handling());
        }
        void operator()(const event&, std::uint64_t, bool, early_release<ring_t>& release) {
            kept = &release;
        }
    };
    ring_t ring(16);
    publish(ring, 6);
    keeper h;
    sequence<> progress;
    processor_options options;
    options.max_batch = 3;
    const processor_counters stats = run_to(6, ring, h, progress, options)->stats();
    EXPECT_EQ(stats.processed, 6u);
    EXPECT_EQ(stats.releases, 0u);
    EXPECT_EQ(progress.get(), 6u);
}

TEST(batch_event_processor, an_on_batch_start_that_throws_fails_at_the_batchs_first_event) {
    using ring_t = ring_buffer<event>;
    struct throwing_start {
        int failures_left = 1;
        std::vector<std::uint64_t> handled;
        void on_batch_start(std::uint64_t) {
            if (failures_left-- > 0) throw std::runtime_error("on_batch_start failure");
        }
        void operator()(const event&, std::uint64_t p, bool) { handled.push_back(p); }
    };
    auto run_with = [](exception_policy policy) {
        ring_t ring(16);
        publish(ring, 4);
        throwing_start h;
        sequence<> progress;
        processor_options options;
        options.on_exception = policy;
        const auto p = run_to(4, ring, h, progress, options);
        return std::tuple{h.handled, progress.get(), p->error() != nullptr, p->stats().handler_errors};
    };
    {
        const auto [handled, progress, failed, errors] = run_with(exception_policy::halt);
        EXPECT_TRUE(handled.empty());
        EXPECT_EQ(progress, 0u);
        EXPECT_TRUE(failed);
    }
    {
        const auto [handled, progress, failed, errors] = run_with(exception_policy::skip);
        EXPECT_EQ(handled, (std::vector<std::uint64_t>{0, 1, 2, 3})) << "no event is skipped";
        EXPECT_EQ(progress, 4u);
        EXPECT_FALSE(failed);
        EXPECT_EQ(errors, 1u);
    }
    {
        const auto [handled, progress, failed, errors] = run_with(exception_policy::rewind);
        EXPECT_EQ(handled, (std::vector<std::uint64_t>{0, 1, 2, 3}));
        EXPECT_EQ(progress, 4u);
        EXPECT_EQ(errors, 1u);
    }
}

// ---- prefetch ---------------------------------------------------------------------------

/// Records each event it is handed with its end-of-batch flag; its calls listed in
/// `throw_on` (counted from 1) throw.
struct recording_handler {
    std::vector<std::uint64_t> throw_on;
    std::vector<std::pair<std::uint64_t, bool>> handled;

    void operator()(const event& e, std::uint64_t p, bool end_of_batch) {
        EXPECT_EQ(e.value, p * 3 + 1) << "the event at " << p;
        handled.emplace_back(p, end_of_batch);
        if (std::find(throw_on.begin(), throw_on.end(), handled.size()) != throw_on.end())
            throw std::runtime_error("a planned failure");
    }
};

/// What a stage hands over, and where it ends, with `prefetch` on both sides (unset: the
/// defaults): `events` published into a ring of `capacity`, failures at the handled counts
/// in `throw_on`.
auto handed_with(exception_policy policy, std::optional<std::uint32_t> prefetch, std::size_t capacity,
                 std::uint64_t events, std::uint64_t max_batch, std::vector<std::uint64_t> throw_on) {
    using ring_t = ring_buffer<event>;
    ring_t::options ring_options;
    ring_options.producer_prefetch = prefetch;
    ring_t ring(capacity, ring_options);
    for (std::uint64_t p = 0; p < events; ++p) {
        EXPECT_EQ(ring.publish_event([](event& e, std::uint64_t q) { e.value = q * 3 + 1; }),
                  wait_result::ready);
    }
    recording_handler h;
    h.throw_on = std::move(throw_on);
    sequence<> progress;
    processor_options options;
    options.max_batch = max_batch;
    options.on_exception = policy;
    options.prefetch = prefetch;
    const auto processor = run_to(events, ring, h, progress, options);
    return std::tuple{h.handled, progress.get(), processor->stats().processed, processor->stats().batches};
}

TEST(batch_event_processor, prefetching_changes_nothing_its_handler_sees) {
    // Runs longer and shorter than the distance, failures before and within its distance of
    // a run's end, under each exception policy: prefetching stages and a prefetching
    // producer hand over what the same stage without prefetching does.
    for (const exception_policy policy :
         {exception_policy::halt, exception_policy::skip, exception_policy::rewind}) {
        const auto plain = handed_with(policy, 0, 16, 14, 8, {3, 7, 12});
        const auto plain_long = handed_with(policy, 0, 16, 14, 16, {3, 7, 12});
        for (const std::uint32_t prefetch : {1u, 3u, 7u, 8u, 15u}) {
            // Batches of 8 leave runs too short to prefetch from 5 positions ahead (a line's
            // reach) on; batches of 16 do not.
            EXPECT_EQ(handed_with(policy, prefetch, 16, 14, 16, {3, 7, 12}), plain_long)
                << "policy " << static_cast<int>(policy) << ", prefetch " << prefetch;
            EXPECT_EQ(handed_with(policy, prefetch, 16, 14, 8, {3, 7, 12}), plain)
                << "policy " << static_cast<int>(policy) << ", prefetch " << prefetch;
        }
    }
}

TEST(batch_event_processor, prefetching_by_default_changes_nothing_its_handler_sees) {
    // The defaults (32 positions ahead, blocks of 16 lines) over runs of hundreds of events:
    // failures inside a block, at a block's edge and in the run's tail past the last block.
    for (const exception_policy policy :
         {exception_policy::halt, exception_policy::skip, exception_policy::rewind}) {
        const std::vector<std::uint64_t> failures{40, 64, 65, 300, 990};
        const auto plain = handed_with(policy, 0, 1024, 1000, 512, failures);
        EXPECT_EQ(handed_with(policy, std::nullopt, 1024, 1000, 512, failures), plain)
            << "policy " << static_cast<int>(policy);
        EXPECT_EQ(handed_with(policy, 32, 1024, 1000, 512, failures), plain)
            << "policy " << static_cast<int>(policy);
    }
}

TEST(ring_buffer, prefetches_by_default_within_its_capacity) {
    EXPECT_EQ(default_prefetch(65536), 32u);
    EXPECT_EQ(default_prefetch(256), 32u);
    EXPECT_EQ(default_prefetch(128), 0u) << "off below 256 slots";
    EXPECT_EQ(default_prefetch(1), 0u);
    // Every capacity takes the defaults; several producers do not prefetch by default.
    for (const std::size_t capacity : {1u, 2u, 4u, 8u, 16u, 1024u}) {
        EXPECT_NO_THROW((ring_buffer<event>(capacity))) << capacity;
        EXPECT_NO_THROW((ring_buffer<event, multi_producer>(capacity))) << capacity;
        ring_buffer<event> ring(capacity);
        recording_handler h;
        sequence<> progress;
        EXPECT_NO_THROW((batch_event_processor<ring_buffer<event>, recording_handler>(
            sequence_barrier<ring_buffer<event>>(ring), h, progress)))
            << capacity;
    }
}

TEST(batch_event_processor, rejects_a_prefetch_past_the_ring) {
    using ring_t = ring_buffer<event>;
    processor_options options;
    options.prefetch = 16;
    expect_rejected<recording_handler>(options);
    ring_t::options ring_options;
    ring_options.producer_prefetch = 16;
    EXPECT_THROW(ring_t(16, ring_options), config_error);
    // Several producers claim by fetch_add: only stages prefetch.
    using multi_t = ring_buffer<event, multi_producer>;
    multi_t::options multi_options;
    multi_options.producer_prefetch = 1;
    EXPECT_THROW(multi_t(16, multi_options), config_error);
}

TEST(single_producer_sequencer, knows_its_room_from_the_cached_gating_minimum_alone) {
    // What a prefetching producer asks before it prefetches: room_known reads only the
    // cached minimum, which a claim refreshes once it would lap.
    single_producer_sequencer<> s(16);
    sequence<> consumer;
    s.gating().add(consumer);
    EXPECT_TRUE(s.room_known(16));
    EXPECT_FALSE(s.room_known(17)) << "a lap past the slowest consumer";
    ASSERT_TRUE(s.try_claim(16).has_value());
    consumer.set(4);
    EXPECT_FALSE(s.room_known(20)) << "the cache says 0 until a claim refreshes it";
    ASSERT_TRUE(s.try_claim(4).has_value());
    EXPECT_TRUE(s.room_known(20));
    EXPECT_FALSE(s.room_known(21));
}

TEST(ring_buffer, a_prefetching_producer_claims_as_any_other) {
    using ring_t = ring_buffer<event>;
    ring_t::options ring_options;
    ring_options.producer_prefetch = 15;
    ring_t ring(16, ring_options);
    sequence<> consumer;
    ring.gating().add(consumer);
    for (int i = 0; i < 16; ++i) ring.publish(*ring.try_next());
    EXPECT_FALSE(ring.try_next().has_value()) << "a full ring";
    consumer.set(5);
    for (int i = 0; i < 5; ++i) ring.publish(*ring.try_next());
    EXPECT_FALSE(ring.try_next().has_value());
    EXPECT_EQ(ring.remaining_capacity(), 0u);
}

}  // namespace
}  // namespace ringlab::scenarios
