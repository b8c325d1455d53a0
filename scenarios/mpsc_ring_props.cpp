// scenarios/mpsc_ring_props.cpp: RapidCheck properties of mpsc_ring.
//
//   model         any single-threaded command sequence behaves like a bounded std::deque
//   producers     N producers (random batches and claims) on real threads, one consumer:
//                 no loss, no duplicate, FIFO per producer
//   producers_dst the same under DST, with a generated seed
// Canaries (each must make its property fail on the check its bug breaks, support/canary.hpp):
// a producer that claims a still-full slot (model), a weakened free order [E2] (DST); the
// model passes on the sim backend with no canary on.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "ringlab/mpsc_ring.hpp"
#include "support/canary.hpp"
#include "support/concurrent.hpp"
#include "support/ring_model.hpp"

namespace ringlab::scenarios {
namespace {

struct producers_params {
    std::size_t capacity;
    int producers;
    int per_producer;
    std::vector<std::size_t> batch;  // per producer; 0 means single pushes
};

producers_params gen_producers(int max_producers, int max_items) {
    producers_params p{std::size_t{1} << *rc::gen::inRange(0, 6), *rc::gen::inRange(1, max_producers + 1),
                       *rc::gen::inRange(0, max_items), {}};
    for (int i = 0; i < p.producers; ++i) p.batch.push_back(*rc::gen::inRange<std::size_t>(0, 6));
    return p;
}

template <class Sync>
outcome producers(const producers_params& p, std::uint64_t seed) {
    mpsc_ring<std::uint64_t, busy_spin_wait, Sync> ring(p.capacity);
    findings seen;
    std::vector<body> bodies;
    for (int id = 0; id < p.producers; ++id) {
        bodies.push_back([&, id] {
            const std::uint64_t base = static_cast<std::uint64_t>(id) << 32;
            const std::size_t batch = p.batch[static_cast<std::size_t>(id)];
            for (int next = 0; next < p.per_producer;) {
                std::size_t n = 0;
                if (batch == 0) {
                    n = ring.try_push(base | static_cast<std::uint64_t>(next)) ? 1 : 0;
                } else {
                    auto c = ring.try_claim(std::min<std::size_t>(batch, static_cast<std::size_t>(p.per_producer - next)));
                    for (std::size_t i = 0; i < c.size(); ++i) c[i] = base | (static_cast<std::uint64_t>(next) + i);
                    ring.publish(c);
                    n = c.size();
                }
                next += static_cast<int>(n);
                if (n == 0) relax<Sync>();
            }
        });
    }
    bodies.push_back([&] {
        std::vector<std::uint64_t> next(static_cast<std::size_t>(p.producers), 0);
        const int total = p.producers * p.per_producer;
        for (int got = 0; got < total;) {
            const std::size_t n = ring.consume([&](const std::uint64_t& v) {
                const auto id = static_cast<std::size_t>(v >> 32);
                if (id >= next.size() || (v & 0xffffffffu) != next[id]) {
                    seen.fail("unexpected value " + std::to_string(v));
                    return;
                }
                ++next[id];
            });
            got += static_cast<int>(n);
            if (n == 0) relax<Sync>();
        }
    });
    return run_concurrently<Sync>(bodies, seen, seed);
}

}  // namespace

template <class Sync>
auto make_mpsc(std::size_t capacity, std::size_t /*release_every: always 1*/) {
    return std::make_unique<mpsc_ring<int, busy_spin_wait, Sync>>(capacity);
}

RC_GTEST_PROP(mpsc_ring_props, model, ()) {
    check_against_model<mpsc_ring<int>>(make_mpsc<sync::native>);
}

RC_GTEST_PROP(mpsc_ring_props, producers, ()) {
    const outcome o = producers<sync::native>(gen_producers(4, 5'000), 0);
    require(o);
}

#if RINGLAB_WITH_DST
RC_GTEST_PROP(mpsc_ring_props, producers_dst, ()) {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const outcome o = producers<sync::sim>(gen_producers(3, 12), seed);
    require(o);
}

#endif

TEST(mpsc_ring_canaries, the_model_catches_a_claim_of_a_full_slot) {
    const canary_scope bug("mpsc_ring.claim_full_slot");
    const catch_report report = caught("model with mpsc_ring.claim_full_slot", "m.free_slots()", [] {
        check_against_model<mpsc_ring<int, busy_spin_wait, sync::sim>>(make_mpsc<sync::sim>);
    });
    EXPECT_TRUE(report) << "the stateful model did not notice a producer overwriting unread data: " << report;
}

// The control: the same model on the sim backend, with no canary on.
TEST(mpsc_ring_canaries, the_sim_backend_passes_without_canaries) {
    EXPECT_TRUE(rc::check("model under sim", [] {
        check_against_model<mpsc_ring<int, busy_spin_wait, sync::sim>>(make_mpsc<sync::sim>);
    }));
}

#if RINGLAB_WITH_DST
TEST(mpsc_ring_canaries, the_dst_producers_catch_a_weakened_free) {
    const canary_scope bug(nullptr, "mpsc_ring.E2.free");
    const catch_report report =
        caught("producers_dst with mpsc_ring.E2.free weakened", "DST correctness: data race", [] {
            const producers_params p = gen_producers(3, 12);
            RC_PRE(static_cast<std::size_t>(p.per_producer * p.producers) > p.capacity);
            const outcome o = producers<sync::sim>(p, *rc::gen::arbitrary<std::uint64_t>());
            require(o);
        });
    EXPECT_TRUE(report) << "the DST scenario did not notice a relaxed slot release: " << report;
}
#endif

}  // namespace ringlab::scenarios
