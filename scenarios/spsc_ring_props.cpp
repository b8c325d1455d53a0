// scenarios/spsc_ring_props.cpp: RapidCheck properties of spsc_ring.
//
//   model         any single-threaded command sequence behaves like a bounded std::deque
//   stream        one producer and one consumer on real threads, generated capacity, item
//                 count, APIs, batch sizes and slipping: exactly the sent sequence arrives
//   stream_dst    the same scenario under DST with a generated seed: RapidCheck shrinks the
//                 parameters and the seed together
//   model_with_batched_release  the same with spsc_options::release_every, modelled exactly
// Canaries (each must make its property fail on the check it is meant to break, see
// support/canary.hpp): the off-by-one full check and a batched release never flushed
// (model), the weakened publication order [E1] and an unbounded slip under DST; the same
// models pass on the sim backend with no canary on.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <stdexcept>

#include "ringlab/spsc_ring.hpp"
#include "support/canary.hpp"
#include "support/concurrent.hpp"
#include "support/gen_slip.hpp"
#include "support/ring_model.hpp"

namespace ringlab::scenarios {
namespace {

enum class take_with : std::uint8_t { try_pop, consume, pop };

struct stream_params {
    std::size_t capacity;
    int items;
    std::size_t batch;
    bool producer_claims;
    take_with consumer;
    slip_options slip;  // used by pop() only; off below capacity 3
};

stream_params gen_stream(int max_items) {
    stream_params p{std::size_t{1} << *rc::gen::inRange(0, 7), *rc::gen::inRange(0, max_items),
                    *rc::gen::inRange<std::size_t>(1, 9), *rc::gen::arbitrary<bool>(),
                    static_cast<take_with>(*rc::gen::inRange(0, 3)), slip_options{}};
    if (p.capacity > 2 && *rc::gen::arbitrary<bool>()) p.slip = gen_slip(p.capacity);
    return p;
}

template <class Sync>
outcome stream(const stream_params& p, std::uint64_t seed) {
    spsc_ring<int, busy_spin_wait, Sync> ring(p.capacity, {}, spsc_options{1, p.slip});
    findings seen;
    const body producer = [&] {
        for (int next = 0; next < p.items;) {
            const std::size_t want = std::min<std::size_t>(p.batch, static_cast<std::size_t>(p.items - next));
            std::size_t n = 0;
            if (p.producer_claims) {
                auto c = ring.try_claim(want);
                for (std::size_t i = 0; i < c.size(); ++i) c[i] = next + static_cast<int>(i);
                ring.publish(c);
                n = c.size();
            } else {
                n = ring.try_push(next) ? 1 : 0;
            }
            next += static_cast<int>(n);
            if (n == 0) relax<Sync>();
        }
    };
    const body consumer = [&] {
        int expected = 0;
        while (expected < p.items) {
            std::size_t n = 0;
            auto take = [&](int v) {
                if (v != expected) seen.fail("got " + std::to_string(v) + ", expected " + std::to_string(expected));
                ++expected;
                ++n;
            };
            int v = 0;
            switch (p.consumer) {
            case take_with::consume: (void)ring.consume([&](const int& x) { take(x); }, p.batch); break;
            case take_with::try_pop:
                if (ring.try_pop(v)) take(v);
                break;
            case take_with::pop:
                if (ring.pop(v) == wait_result::ready) take(v);
                break;
            }
            if (n == 0) relax<Sync>();
        }
    };
    return run_concurrently<Sync>({producer, consumer}, seen, seed);
}

}  // namespace

template <class Sync>
auto make_spsc(std::size_t capacity, std::size_t release_every) {
    return std::make_unique<spsc_ring<int, busy_spin_wait, Sync>>(
        capacity, typename busy_spin_wait<Sync>::config{}, spsc_options{static_cast<std::uint32_t>(release_every)});
}

RC_GTEST_PROP(spsc_ring_props, model, ()) {
    check_against_model<spsc_ring<int>>(make_spsc<sync::native>);
}

RC_GTEST_PROP(spsc_ring_props, model_with_batched_release, ()) {
    check_against_model<spsc_ring<int>>(make_spsc<sync::native>, true);
}

RC_GTEST_PROP(spsc_ring_props, stream, ()) {
    const outcome o = stream<sync::native>(gen_stream(20'000), 0);
    require(o);
}

#if RINGLAB_WITH_DST
RC_GTEST_PROP(spsc_ring_props, stream_dst, ()) {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const outcome o = stream<sync::sim>(gen_stream(60), seed);
    require(o);
}

#endif

// caught() itself: a passing property, a give-up, an exception that does not name the check
// and a failure of another check are not catches; only a failure naming an expected check is.
TEST(canary_helper, counts_only_a_failure_of_the_named_check) {
    EXPECT_FALSE(caught("passes", "x == 1", [] { RC_ASSERT(true); }));
    EXPECT_FALSE(caught("gives up", "x == 1", [] { RC_PRE(false); }));
    EXPECT_FALSE(caught("throws", "x == 1", [] { throw std::runtime_error("stray"); }));
    EXPECT_FALSE(caught("fails elsewhere", "x == 1", [] { RC_FAIL("y == 2"); }));
    EXPECT_TRUE(caught("fails on x", "x == 1", [] { require({false, "x == 1 broke"}); }));
    EXPECT_TRUE(caught("fails on one of two", {"x == 1", "z == 3"}, [] { require_empty("z == 3 broke"); }));
}

TEST(spsc_ring_canaries, the_model_catches_the_off_by_one_full_check) {
    const canary_scope bug("spsc_ring.full_off_by_one");
    const catch_report report = caught("model with spsc_ring.full_off_by_one", "m.free_slots()", [] {
        check_against_model<spsc_ring<int, busy_spin_wait, sync::sim>>(make_spsc<sync::sim>);
    });
    EXPECT_TRUE(report) << "the stateful model did not notice a ring that overwrites unread data: " << report;
}

// The sequence that shows this bug (a release_every of 2 or more, pops short of it, an
// empty ring, then a producer that fills it) is rare: one search of 100 cases misses it
// about 3 times in 100; caught() searches up to canary_searches times.
TEST(spsc_ring_canaries, the_model_catches_a_release_that_is_never_flushed) {
    const canary_scope bug("spsc_ring.lazy_tail_never_flushed");
    const catch_report report = caught(
        "batched-release model with spsc_ring.lazy_tail_never_flushed", "m.free_slots()",
        [] { check_against_model<spsc_ring<int, busy_spin_wait, sync::sim>>(make_spsc<sync::sim>, true); });
    EXPECT_TRUE(report) << "the model did not notice pops left unpublished while the consumer idles: "
                        << report;
}

// The control: the canary runs above use the sim backend (canaries switch on only there), so
// the same models must pass on it with no canary on.
TEST(spsc_ring_canaries, the_sim_backend_passes_without_canaries) {
    EXPECT_TRUE(rc::check("model under sim", [] {
        check_against_model<spsc_ring<int, busy_spin_wait, sync::sim>>(make_spsc<sync::sim>);
    }));
    EXPECT_TRUE(rc::check("batched-release model under sim", [] {
        check_against_model<spsc_ring<int, busy_spin_wait, sync::sim>>(make_spsc<sync::sim>, true);
    }));
}

#if RINGLAB_WITH_DST
TEST(spsc_ring_canaries, the_dst_stream_catches_a_weakened_publication) {
    const canary_scope bug(nullptr, "spsc_ring.E1.push");
    const catch_report report =
        caught("stream_dst with spsc_ring.E1.push weakened", "DST correctness: data race", [] {
            const stream_params p = gen_stream(60);
            RC_PRE(p.items > 0 && !p.producer_claims);
            const outcome o = stream<sync::sim>(p, *rc::gen::arbitrary<std::uint64_t>());
            require(o);
        });
    EXPECT_TRUE(report) << "the DST stream did not notice a relaxed publication: " << report;
}

TEST(spsc_ring_canaries, the_dst_stream_catches_an_unbounded_slip) {
    const canary_scope bug("slip.unbounded");
    const catch_report report = caught("stream_dst with slip.unbounded", "DST liveness", [] {
        // A slipping pop() consumer (drawn directly: a precondition would discard most cases).
        stream_params p = gen_stream(60);
        p.capacity = std::max<std::size_t>(p.capacity, 4);
        p.items = std::max(p.items, 1);
        p.consumer = take_with::pop;
        p.slip = gen_slip(p.capacity);
        const outcome o = stream<sync::sim>(p, *rc::gen::arbitrary<std::uint64_t>());
        require(o);
    });
    EXPECT_TRUE(report) << "the DST stream did not notice a slipping consumer that waits for ever: "
                        << report;
}
#endif

}  // namespace ringlab::scenarios
