// model-checks/sequence.cpp: sequence, sequence_group and gating_set through the relacy
// backend.
//
// Edges (lib/include/ringlab/sequence.hpp): [S1] the owner publishes its count, with [S1a]
// a reader's get(); [G1] a member joins a sequence_group after its sequence is set, with
// [G1a] the scan of minimum(); leave (release, read by the same scan); the relaxed claim of
// a free member slot ("claim").
//
// gate   [S1 S1a]             a consumer reads an event, then counts it; the producer
//                             overwrites the event only once the gating minimum passed it
// leave  [leave G1a]          a member reads an event, then leaves without counting it: the
//                             producer, which then no longer gates on it, overwrites it
// join   [G1 G1a S1 S1a claim] two joiners race for the one free slot; a scan that takes
//                             the winner into account sees its start, never the count the
//                             slot had before it joined
#include "harness.hpp"

#include "ringlab/sequence.hpp"

namespace {

using ringlab::model::expect;
using ringlab::model::spin_until;
using relacy = ringlab::sync::relacy;

struct gate : rl::test_suite<gate, 2> {
    ringlab::sequence<relacy> consumer;
    ringlab::gating_set<relacy> gating;
    relacy::cell<int> event;

    void before() {
        gating.add(consumer);
        event.store(1);
    }

    void thread(unsigned index) {
        if (index == 0) {
            expect(event.load() == 1, "the consumer read an event the producer had not finished");
            consumer.set(1);
        } else {
            spin_until([&] { return gating.minimum(1) >= 1; });
            event.store(2);  // the next lap of the slot
        }
    }
};

struct leave : rl::test_suite<leave, 2> {
    ringlab::sequence_group<relacy> group{1};
    std::size_t member = 0;
    relacy::cell<int> event;

    void before() {
        member = *group.join([] { return std::uint64_t{0}; });
        event.store(1);
    }

    void thread(unsigned index) {
        if (index == 0) {
            expect(event.load() == 1, "the member read an event the producer had not finished");
            group.leave(member);
        } else {
            // With no active member the minimum is the fallback: nobody gates the producer.
            spin_until([&] { return group.minimum(1) >= 1; });
            event.store(2);
        }
    }
};

struct join : rl::test_suite<join, 3> {
    static constexpr std::uint64_t nobody = 100;
    ringlab::sequence_group<relacy> group{1};

    void before() {
        // The slot has had a member before, who counted to 50 and left.
        const std::size_t m = *group.join([] { return std::uint64_t{0}; });
        group.at_index(m).set(50);
        group.leave(m);
    }

    void thread(unsigned index) {
        if (index < 2) {
            const std::uint64_t start = index == 0 ? 60 : 70;
            const auto m = group.join([start] { return start; });
            if (m) expect(group.at_index(*m).get() == start, "a joiner's own sequence is not its start");
        } else {
            for (int scan = 0; scan < 3; ++scan) {
                const std::uint64_t lowest = group.minimum(nobody);
                expect(lowest == nobody || lowest == 60 || lowest == 70,
                       "a scan took a member into account before its start was set");
                relacy::yield();
            }
        }
    }

    void after() { expect(group.active_members() == 1, "two joiners got the one free slot, or neither did"); }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(
        argc, argv,
        {make_suite<gate>("gate", "S1 S1a"), make_suite<leave>("leave", "leave G1a"),
         make_suite<join>("join", "G1 G1a S1 S1a claim", 2)});
}
