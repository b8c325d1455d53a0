// model-checks/multi_producer_sequencer.cpp: multi_producer_sequencer through a
// multi-producer ring_buffer and the relacy backend.
//
// Edges (lib/include/ringlab/multi_producer_sequencer.hpp): [M1] the relaxed claim
// (compare-and-swap in try_claim, fetch_add in claim); [M2] a producer stores the gating
// minimum it read into the shared cache, with [M2a] another producer's read of it; and the
// ring's [R1]/[R1a] and the consumer's [S1]/[S1a] around them.
//
// try_claims     [M1 M2 M2a R1 R1a S1 S1a]  2 producers x 2 events through capacity 2 with
//                                           try_next(): per-producer FIFO, nothing lost or
//                                           duplicated, no slot reused before the consumer
//                                           counted it, even by a producer that trusts the
//                                           cache another one refreshed
// claim_and_wait [M1 M2 M2a R1 R1a S1 S1a]  the same with next(): a claim by fetch_add
//                                           while the ring has room (compare-and-swap near
//                                           full); on a full ring, a wait for room before
//                                           the fetch_add, and one after it when the other
//                                           producer took the room first
#include "harness.hpp"

#include "ringlab/ring_buffer.hpp"
#include "ringlab/sequence_barrier.hpp"

namespace {

using ringlab::model::expect;
using ringlab::model::fifo_check;
using ringlab::model::spin_until;
using relacy = ringlab::sync::relacy;

using ring = ringlab::ring_buffer<int, ringlab::multi_producer, ringlab::busy_spin_wait, relacy>;

/// Two producers and one consumer; `UseNext`: next() (ring_buffer::claim_and_wait) instead
/// of try_next().
template <bool UseNext>
struct producers : rl::test_suite<producers<UseNext>, 3> {
    ring r{2, {{}, {}, 1}};  // one joiner slot: the gating scan reads each one
    ringlab::sequence<relacy> consumed;

    void before() { r.gating().add(consumed); }

    void produce(int value) {
        std::uint64_t p = 0;
        if constexpr (UseNext) {
            const auto c = r.next(1);
            expect(c.ok(), "next() did not claim");
            p = c.begin;
        } else {
            std::optional<std::uint64_t> claimed;
            spin_until([&] { return (claimed = r.try_next(1)).has_value(); });
            p = *claimed;
        }
        r.write(p) = value;
        r.publish(p);
    }

    void thread(unsigned index) {
        if (index < 2) {
            const int producer = static_cast<int>(index);
            for (int k = 1; k <= 2; ++k) produce(producer * 10 + k);
        } else {
            ringlab::sequence_barrier<ring> barrier(r);
            fifo_check check;
            for (std::uint64_t p = 0; p < 4; ++p) {
                spin_until([&] { return barrier.available(p, p + 1) > p; });
                check.take(r.read(p));
                consumed.set(p + 1);
                r.progress_made();
            }
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(
        argc, argv,
        {make_suite<producers<false>>("try_claims", "M1 M2 M2a R1 R1a S1 S1a", 1),
         make_suite<producers<true>>("claim_and_wait", "M1 M2 M2a R1 R1a S1 S1a", 2)});
}
