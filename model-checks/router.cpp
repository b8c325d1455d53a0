// model-checks/router.cpp: the router through the relacy backend, one or two lanes of
// capacity 1-2, 2-3 threads.
//
// Edges (lib/include/ringlab/router.hpp): [K1] the router's stamp of a lane slot with [K1a]
// the consumer's take; [K2] the consumer's credit return (its tail) with [K2a] the router's
// credit check; [K3] the detach with [K3a] the consumer's empty path; [K4] a consumer's
// join/reattach/leave with [K4a] the router's poll; [K5] the router's grant or free with
// [K5a] the consumer's status or claim.
//
// credit_handshake [K1 K1a K2 K2a K4 K4a]  work_queue + park, credit 1 on a lane of 2: the
//                                          consumer joins while events wait for it, takes 3
//                                          in order; every slot is reused after its read
// detach_reattach  [K1 K1a K2 K2a K3 K3a K4 K5 K5a]
//                                          broadcast + detach at once (threshold 0), credit
//                                          1: told `detached` only after taking everything
//                                          delivered (I3); re-attaches until what it took
//                                          plus what it was told it missed is every event
// broadcast_batch  [K1 K1a K2 K2a]         broadcast + park, two lanes of credit 2, batches
//                                          of 2: a step's first event goes straight from
//                                          the source when both lanes have credit for it; the
//                                          rest goes out lane by lane when both have credit
//                                          for all of it, event by event otherwise; each
//                                          consumer takes 4 in order
// join_leave       [K4 K4a K5 K5a]         work_queue + park, one lane, two consumers: each
//                                          claims the lane (one waits for the other to leave
//                                          and the router to free it, I2), takes and leaves
#include "harness.hpp"

#include "ringlab/router.hpp"
#include "ringlab/spsc_ring.hpp"

namespace {

using ringlab::model::expect;
using ringlab::model::spin_until;
using ringlab::sync::at;
using relacy = ringlab::sync::relacy;
namespace mo = ringlab::sync::mo;

using source_t = ringlab::spsc_ring<int, ringlab::busy_spin_wait, relacy>;
using router_t = ringlab::router<source_t, ringlab::busy_spin_wait, relacy>;

ringlab::router_config model_config(ringlab::router_mode mode, ringlab::credit_policy policy,
                                    std::size_t lanes, std::size_t lane_capacity) {
    ringlab::router_config cfg;
    cfg.mode = mode;
    cfg.policy = policy;
    cfg.max_consumers = lanes;
    cfg.lane_capacity = lane_capacity;
    cfg.batch_max = 2;
    cfg.park_wait_ns = 2000;  // Relacy's clock: a park gives up after a few polls
    cfg.detach_after_ns = 0;
    return cfg;
}

struct credit_handshake : rl::test_suite<credit_handshake, 2> {
    source_t source{4};
    router_t r{source, model_config(ringlab::router_mode::work_queue, ringlab::credit_policy::park, 1, 2)};

    void thread(unsigned index) {
        if (index == 0) {
            for (int v = 1; v <= 3; ++v) expect(source.try_push(v), "the source ring was full");
            while (r.stats().routed < 3) {
                if (r.step() == 0) relacy::pause();
            }
        } else {
            const auto id = r.attach(1);
            expect(id == 0, "the only lane was not free");
            for (int want = 1; want <= 3; ++want) {
                int got = 0;
                spin_until([&] { return r.try_take(id, got) == ringlab::take_status::taken; });
                expect(got == want, "the router delivered out of order");
            }
        }
    }
};

struct detach_reattach : rl::test_suite<detach_reattach, 2> {
    source_t source{4};
    router_t r{source, model_config(ringlab::router_mode::broadcast, ringlab::credit_policy::detach, 1, 2)};
    relacy::atomic<int> done{0};

    void before() {
        (void)r.attach(1);
        (void)r.step();  // grants the join before any event flows
    }

    void thread(unsigned index) {
        if (index == 0) {
            for (int v = 1; v <= 3; ++v) expect(source.try_push(v), "the source ring was full");
            while (done.load(at("model.detach_reattach.done_poll", mo::acquire)) == 0) {
                if (r.step() == 0) relacy::pause();
            }
        } else {
            std::uint64_t taken = 0;
            std::uint64_t missed = 0;
            int last = 0;
            while (taken + missed < 3) {
                int got = 0;
                const auto t = r.try_take(0, got);
                if (t == ringlab::take_status::taken) {
                    expect(got > last, "the router delivered out of order or twice");
                    last = got;
                    ++taken;
                    continue;
                }
                if (t == ringlab::take_status::detached) {
                    expect(r.consumer_stats(0).delivered == taken,
                           "told `detached` before taking every event delivered before the detach (I3)");
                    expect(r.reattach(0), "a detached consumer could not ask to re-attach");
                    spin_until([&] {
                        const auto s = r.status(0);
                        missed = s.missed;  // every absence since it joined
                        return s.state != ringlab::consumer_state::reattaching;
                    });
                    continue;
                }
                (void)r.status(0);  // reads the missed count while attached: [K4] must order it
                relacy::pause();
            }
            expect(taken + missed == 3, "taken + missed is not every routed event");
            done.store(1, at("model.detach_reattach.done", mo::release));
        }
    }
};

struct broadcast_batch : rl::test_suite<broadcast_batch, 3> {
    source_t source{4};
    router_t r{source, model_config(ringlab::router_mode::broadcast, ringlab::credit_policy::park, 2, 2)};

    void before() {
        (void)r.attach(2);
        (void)r.attach(2);
        (void)r.step();  // grants both joins before any event flows
    }

    void thread(unsigned index) {
        if (index == 0) {
            for (int v = 1; v <= 4; ++v) expect(source.try_push(v), "the source ring was full");
            while (r.stats().routed < 4) {
                if (r.step() == 0) relacy::pause();
            }
            return;
        }
        const router_t::consumer_id id = index - 1;
        for (int want = 1; want <= 4; ++want) {
            int got = 0;
            spin_until([&] { return r.try_take(id, got) == ringlab::take_status::taken; });
            expect(got == want, "a consumer got an event out of order, twice or never sent");
        }
    }
};

struct join_leave : rl::test_suite<join_leave, 3> {
    source_t source{4};
    router_t r{source, model_config(ringlab::router_mode::work_queue, ringlab::credit_policy::park, 1, 2)};
    relacy::atomic<int> finished{0};

    void thread(unsigned index) {
        if (index == 0) {
            for (int v = 1; v <= 4; ++v) expect(source.try_push(v), "the source ring was full");
            while (finished.load(at("model.join_leave.finished_poll", mo::acquire)) < 2) {
                if (r.step() == 0) relacy::pause();
            }
            return;
        }
        // Each consumer claims the only lane (one waits for the other to leave and the
        // router to free it), takes up to its whole credit, and leaves: the router then
        // reuses slots it never saw returned, which only [K4]/[K4a] order after the reads.
        router_t::consumer_id id = router_t::no_consumer;
        spin_until([&] { return (id = r.attach(2)) != router_t::no_consumer; });
        int last = 0;
        int taken = 0;
        for (int polls = 0; polls < 4 && taken < 2; ++polls) {
            int got = 0;
            if (r.try_take(id, got) == ringlab::take_status::taken) {
                expect(got > last && got <= 4, "a consumer got a value twice, out of order or never sent");
                last = got;
                ++taken;
                continue;
            }
            relacy::pause();
        }
        r.leave(id);
        finished.fetch_add(1, at("model.join_leave.finish", mo::release));
    }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(
        argc, argv,
        {make_suite<credit_handshake>("credit_handshake", "K1 K1a K2 K2a K4 K4a"),
         make_suite<detach_reattach>("detach_reattach", "K1 K1a K2 K2a K3 K3a K4 K5 K5a"),
         make_suite<broadcast_batch>("broadcast_batch", "K1 K1a K2 K2a", 1),
         make_suite<join_leave>("join_leave", "K4 K4a K5 K5a", 1)});
}
