// model-checks/mpsc_ring.cpp: mpsc_ring through the relacy backend, capacity 1-2.
//
// Edges (lib/include/ringlab/mpsc_ring.hpp): [E1] a producer publishes a slot's turn, with
// [E1a] the consumer's read of it; [E2] the consumer frees the slot, with [E2a] a
// producer's read of the turn while it claims; the relaxed claim CAS on head_ ("claim");
// blocking_wait's [W1]..[W5] where a suite waits.
//
// two_producers  [E1 E1a E2 E2a claim]        2 producers x 2 values through capacity 2:
//                                             per-producer FIFO, nothing lost or duplicated,
//                                             slots reused across laps
// claim_order    [E1 E1a E2a claim]           two zero-copy claims published in either order:
//                                             the consumer delivers by claim position
// batch          [E1 E1a E2 E2a claim]        a batch claim racing a single push on capacity 2
// blocking       [E1 E1a E2 E2a W1-W5]        blocking push/pop through blocking_wait on capacity 1
#include "harness.hpp"

#include "ringlab/mpsc_ring.hpp"

namespace {

using ringlab::model::expect;
using ringlab::model::fifo_check;
using ringlab::model::spin_until;
using relacy = ringlab::sync::relacy;

struct two_producers : rl::test_suite<two_producers, 3> {
    ringlab::mpsc_ring<int, ringlab::busy_spin_wait, relacy> ring{2};

    void thread(unsigned index) {
        if (index < 2) {
            const int p = static_cast<int>(index);
            for (int k = 1; k <= 2; ++k) spin_until([&] { return ring.try_push(p * 10 + k); });
        } else {
            fifo_check check;
            for (int n = 0; n < 4; ++n) {
                int v = 0;
                spin_until([&] { return ring.try_pop(v); });
                check.take(v);
            }
        }
    }
};

struct claim_order : rl::test_suite<claim_order, 3> {
    ringlab::mpsc_ring<int, ringlab::busy_spin_wait, relacy> ring{2};

    void thread(unsigned index) {
        if (index < 2) {
            auto c = ring.try_claim(1);
            expect(c.size() == 1, "a claim on an empty ring of capacity 2 got no slot");
            c[0] = static_cast<int>(c.first()) * 10 + static_cast<int>(index);
            ring.publish(c);
        } else {
            for (int position = 0; position < 2; ++position) {
                int v = 0;
                spin_until([&] { return ring.try_pop(v); });
                expect(v / 10 == position, "the consumer delivered out of claim order");
            }
        }
    }
};

struct batch : rl::test_suite<batch, 3> {
    ringlab::mpsc_ring<int, ringlab::busy_spin_wait, relacy> ring{2};

    void thread(unsigned index) {
        if (index == 0) {
            const int values[2] = {1, 2};
            std::size_t sent = 0;
            while (sent < 2) {
                const std::size_t n = ring.try_push_batch(values + sent, 2 - sent);
                sent += n;
                if (n == 0) relacy::pause();
            }
        } else if (index == 1) {
            spin_until([&] { return ring.try_push(11); });
        } else {
            fifo_check check;
            int taken = 0;
            while (taken < 3) {
                const std::size_t n = ring.consume([&](const int& v) { check.take(v); });
                taken += static_cast<int>(n);
                if (n == 0) relacy::pause();
            }
        }
    }
};

// The waits park straight after their first poll ({spin_limit 0, yield_ns 0}): a yield
// before parking would let Relacy assume the waiter sees fresh values after it, and hide
// the executions where it parks on a stale view (the ones [W1]/[W2] exist for).
struct blocking : rl::test_suite<blocking, 2> {
    ringlab::mpsc_ring<int, ringlab::blocking_wait, relacy> ring{1, {0, 0}};

    void thread(unsigned index) {
        if (index == 0) {
            for (int k = 1; k <= 2; ++k)
                expect(ring.push(k) == ringlab::wait_result::ready, "push() did not complete");
        } else {
            fifo_check check;
            for (int n = 0; n < 2; ++n) {
                int v = 0;
                expect(ring.pop(v) == ringlab::wait_result::ready, "pop() did not complete");
                check.take(v);
            }
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(argc, argv,
                                      {make_suite<two_producers>("two_producers", "E1 E1a E2 E2a claim", 2),
                                       make_suite<claim_order>("claim_order", "E1 E1a E2a claim", 3),
                                       make_suite<batch>("batch", "E1 E1a E2 E2a claim", 3),
                                       make_suite<blocking>("blocking", "E1 E1a E2 E2a W1-W5", 2)});
}
