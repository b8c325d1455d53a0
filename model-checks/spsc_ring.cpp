// model-checks/spsc_ring.cpp: spsc_ring through the relacy backend, capacity 1-2.
//
// Edges (lib/include/ringlab/spsc_ring.hpp): [E1] the producer's stamp (push, push_batch,
// publish) with [E1a] the consumer's read of it (pop, consume); [E2] the consumer's tail
// with [E2a] the producer's refresh of its cached copy; blocking_wait's [W1]..[W5] and the
// alert flag's [A1] where a suite waits or alerts.
//
// push_pop        [E1 E1a E2 E2a]          3 values through capacity 2: wrap, cached-tail refresh
// batched_release [E1 E1a E2 E2a]          release_every 2 on capacity 2: publication every
//                                          other pop
// empty_publishes [E1 E1a E2 E2a]          release_every 2: a consumer that found the ring
//                                          empty has released every pop (I4), so the producer
//                                          then finds the whole ring free
// batch_claim     [E1 E1a E2 E2a]          claim/publish and push_batch against consume and
//                                          pop_batch
// blocking        [E1 E1a E2 E2a W1-W5]    blocking push/pop through blocking_wait on capacity 1
// alert_drain     [E1 E1a A1 A1a]          the producer alerts after its last push; the
//                                          consumer's drain after `alerted` must find every item
// slip            [E1 E1a E3]              temporal slipping (distance 2, 2 polls, after 2 pops)
//                                          on capacity 4: pop() polls a stamp ahead before it
//                                          waits; the slip ends even when the producer stops
//                                          short of the distance (canary slip.unbounded)
#include "harness.hpp"

#include "ringlab/spsc_ring.hpp"

namespace {

using ringlab::model::expect;
using ringlab::model::spin_until;
using ringlab::sync::at;
using relacy = ringlab::sync::relacy;
namespace mo = ringlab::sync::mo;

/// Thread 0 pushes 1..count with try_push; thread 1 takes them one by one with take(got)
/// (true once it has one) and checks their order.
template <class Ring, class Take>
void push_then_take(unsigned index, Ring& ring, int count, Take&& take, const char* out_of_order) {
    if (index == 0) {
        for (int v = 1; v <= count; ++v) spin_until([&] { return ring.try_push(v); });
        return;
    }
    for (int want = 1; want <= count; ++want) {
        int got = 0;
        take(got);
        expect(got == want, out_of_order);
    }
}

struct push_pop : rl::test_suite<push_pop, 2> {
    ringlab::spsc_ring<int, ringlab::busy_spin_wait, relacy> ring{2};

    void thread(unsigned index) {
        push_then_take(
            index, ring, 3, [&](int& got) { spin_until([&] { return ring.try_pop(got); }); },
            "spsc_ring delivered out of order");
    }
};

struct batched_release : rl::test_suite<batched_release, 2> {
    ringlab::spsc_ring<int, ringlab::busy_spin_wait, relacy> ring{2, {}, ringlab::spsc_options{2}};

    void thread(unsigned index) {
        push_then_take(
            index, ring, 4, [&](int& got) { spin_until([&] { return ring.try_pop(got); }); },
            "spsc_ring with batched release delivered out of order");
    }
};

/// (I4): a consumer that finds the ring empty has published every pop first, so a producer
/// that learns of it finds the whole ring free, even with release_every > 1.
struct empty_publishes : rl::test_suite<empty_publishes, 2> {
    ringlab::spsc_ring<int, ringlab::busy_spin_wait, relacy> ring{2, {}, ringlab::spsc_options{2}};
    relacy::atomic<int> consumer_saw_empty{0};

    void thread(unsigned index) {
        if (index == 0) {
            spin_until([&] { return ring.try_push(1); });
            spin_until(
                [&] { return consumer_saw_empty.load(at("model.empty_publishes.poll", mo::acquire)) == 1; });
            expect(ring.try_push(2), "the ring was full after the consumer drained it and found it empty");
            expect(ring.try_push(3),
                   "a pop the consumer made before it found the ring empty was never released (I4)");
        } else {
            int got = 0;
            spin_until([&] { return ring.try_pop(got); });
            expect(got == 1, "spsc_ring delivered out of order");
            expect(!ring.try_pop(got), "the ring had a value nobody pushed");
            consumer_saw_empty.store(1, at("model.empty_publishes.saw_empty", mo::release));
        }
    }
};

struct batch_claim : rl::test_suite<batch_claim, 2> {
    ringlab::spsc_ring<int, ringlab::busy_spin_wait, relacy> ring{2};

    void thread(unsigned index) {
        if (index == 0) {
            int next = 1;
            while (next <= 2) {
                auto c = ring.try_claim(2);
                for (std::size_t i = 0; i < c.size(); ++i) c[i] = next + static_cast<int>(i);
                ring.publish(c);
                next += static_cast<int>(c.size());
                if (c.empty()) relacy::pause();
            }
            const int tail[2] = {3, 4};
            std::size_t sent = 0;
            while (sent < 2) {
                const std::size_t n = ring.try_push_batch(tail + sent, 2 - sent);
                sent += n;
                if (n == 0) relacy::pause();
            }
        } else {
            int want = 1;
            while (want <= 4) {
                std::size_t n = 0;
                if (want % 2 == 1) {
                    n = ring.consume([&](const int& v) {
                        expect(v == want, "consume() saw a value out of order");
                        ++want;
                    });
                } else {
                    int out[2] = {0, 0};
                    n = ring.try_pop_batch(out, 2);
                    for (std::size_t i = 0; i < n; ++i) {
                        expect(out[i] == want, "try_pop_batch() saw a value out of order");
                        ++want;
                    }
                }
                if (n == 0) relacy::pause();
            }
        }
    }
};

// The waits park straight after their first poll ({spin_limit 0, yield_ns 0}): a yield
// before parking would let Relacy assume the waiter sees fresh values after it, and hide
// the executions where it parks on a stale view (the ones [W1]/[W2] exist for).
struct blocking : rl::test_suite<blocking, 2> {
    ringlab::spsc_ring<int, ringlab::blocking_wait, relacy> ring{1, {0, 0}};

    void thread(unsigned index) {
        if (index == 0) {
            for (int v = 1; v <= 2; ++v) {
                expect(ring.push(v) == ringlab::wait_result::ready, "push() did not complete");
            }
        } else {
            for (int want = 1; want <= 2; ++want) {
                int got = 0;
                expect(ring.pop(got) == ringlab::wait_result::ready, "pop() did not complete");
                expect(got == want, "blocking pop delivered out of order");
            }
        }
    }
};

struct alert_drain : rl::test_suite<alert_drain, 2> {
    ringlab::spsc_ring<int, ringlab::blocking_wait, relacy> ring{2, {1, 0}};

    void thread(unsigned index) {
        if (index == 0) {
            for (int v = 1; v <= 2; ++v) spin_until([&] { return ring.try_push(v); });
            ring.alert();
        } else {
            int want = 1;
            for (;;) {
                int got = 0;
                const auto r = ring.pop(got);
                if (r == ringlab::wait_result::ready) {
                    expect(got == want++, "pop delivered out of order");
                    continue;
                }
                expect(r == ringlab::wait_result::alerted, "pop returned neither ready nor alerted");
                while (ring.try_pop(got)) expect(got == want++, "drain delivered out of order");
                expect(want == 3, "items published before alert() were lost in the drain");
                return;
            }
        }
    }
};

struct slip : rl::test_suite<slip, 2> {
    ringlab::spsc_ring<int, ringlab::busy_spin_wait, relacy> ring{4, {}, ringlab::spsc_options{1, {2, 2, 2}}};

    void thread(unsigned index) {
        push_then_take(
            index, ring, 4,
            [&](int& got) { expect(ring.pop(got) == ringlab::wait_result::ready, "pop() did not complete"); },
            "a slipping pop delivered out of order");
    }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(argc, argv,
                                      {make_suite<push_pop>("push_pop", "E1 E1a E2 E2a"),
                                       make_suite<batched_release>("batched_release", "E1 E1a E2 E2a"),
                                       make_suite<empty_publishes>("empty_publishes", "E1 E1a E2 E2a"),
                                       make_suite<batch_claim>("batch_claim", "E1 E1a E2 E2a"),
                                       make_suite<blocking>("blocking", "E1 E1a E2 E2a W1-W5"),
                                       make_suite<alert_drain>("alert_drain", "E1 E1a A1 A1a"),
                                       make_suite<slip>("slip", "E1 E1a E3")});
}
