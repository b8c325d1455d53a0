// model-checks/mpsc_ring.cpp: mpsc_ring through the relacy backend, capacity 1-2.
//
// two_producers  [E1 E2 claim]  2 producers x 2 values through capacity 2: per-producer FIFO,
//                               nothing lost or duplicated, slots reused across laps
// batch          [E1 E2 claim]  a batch claim racing a single push on capacity 2
// blocking       [E1 E2 W1-W5]  blocking push/pop through blocking_wait on capacity 1
#include "harness.hpp"

#include "ringlab/mpsc_ring.hpp"

namespace {

using ringlab::model::expect;
using ringlab::model::spin_until;
using relacy = ringlab::sync::relacy;

/// The consumer's bookkeeping: value = producer * 10 + k, k counting from 1.
struct fifo_check {
    int next[2] = {1, 1};
    void take(int v) {
        const int p = v / 10;
        expect(p >= 0 && p < 2, "a value from no producer");
        expect(v % 10 == next[p], "a producer's values arrived out of order, twice, or not at all");
        ++next[p];
    }
};

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

struct blocking : rl::test_suite<blocking, 2> {
    ringlab::mpsc_ring<int, ringlab::blocking_wait, relacy> ring{1, {1, 0}};

    void thread(unsigned index) {
        if (index == 0) {
            for (int k = 1; k <= 2; ++k) expect(ring.push(k) == ringlab::wait_result::ready, "push() did not complete");
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
    return ringlab::model::run_suites(
        argc, argv,
        {make_suite<two_producers>("two_producers", "E1 E2 claim", false),
         make_suite<batch>("batch", "E1 E2 claim", false),
         make_suite<blocking>("blocking", "E1 E2 W1-W5")});
}
