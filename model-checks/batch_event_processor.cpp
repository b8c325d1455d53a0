// model-checks/batch_event_processor.cpp: batch_event_processor on a ring_buffer through the
// relacy backend.
//
// Edges (lib/include/ringlab/batch_event_processor.hpp): [P1] halt()/drain_to() store the
// stop position, with [P1a] the processor's read of it and the barrier's poll of it while
// it waits ("stop_poll", sequence_barrier.hpp); the ring's [R1]/[R1a], the processor's
// progress [S1]/[S1a], and blocking_wait's [W1]..[W5] where the processor parks.
//
// drain  [P1 P1a R1 R1a S1 S1a]          the producer publishes 3 events through capacity 2,
//                                        then drains the processor to 3: run() returns
//                                        after handling each event once, in order
// halt   [P1 P1a stop_poll W1-W5]        halt() while the processor is parked on an empty
//                                        ring: run() returns (no lost wake-up)
// slip   [P1 P1a R1 R1a S1 S1a]          the drain suite with a slipping processor (distance
//                                        2, 2 polls, after 2 events) on capacity 4: its
//                                        polls ahead end even when the producer stops short
//                                        of the distance (canary slip.unbounded)
#include "harness.hpp"

#include "ringlab/batch_event_processor.hpp"
#include "ringlab/ring_buffer.hpp"
#include "ringlab/sequence_barrier.hpp"

namespace {

using ringlab::model::expect;
using ringlab::model::spin_until;
using relacy = ringlab::sync::relacy;

template <template <class> class Wait>
using ring = ringlab::ring_buffer<int, ringlab::single_producer, Wait, relacy>;

struct recorder {
    std::uint64_t expected = 0;
    void operator()(const int& e, std::uint64_t position, bool) {
        expect(position == expected, "the processor skipped or repeated a position");
        expect(e == static_cast<int>(position) + 1,
               "the processor handled an event other than the one published");
        ++expected;
    }
};

/// Thread 0 publishes 1, 2, 3 and drains the processor to 3; thread 1 runs it, and checks
/// that it returned only after handling all three.
template <class Ring, class Processor>
void publish_then_drain(unsigned index, Ring& r, Processor& processor, const recorder& handler) {
    if (index == 0) {
        for (int v = 1; v <= 3; ++v) {
            expect(r.publish_event([&](int& e, std::uint64_t) { e = v; }) == ringlab::wait_result::ready,
                   "publish_event() did not complete");
        }
        processor.drain_to(3);
        return;
    }
    processor.run();
    expect(handler.expected == 3, "run() returned before draining to its stop position");
}

struct drain : rl::test_suite<drain, 2> {
    ring<ringlab::busy_spin_wait> r{2, {{}, {}, 1}};  // one joiner slot: the gating scan reads each
    ringlab::sequence<relacy> progress;
    recorder handler;
    ringlab::batch_event_processor<ring<ringlab::busy_spin_wait>, recorder> processor{
        ringlab::sequence_barrier<ring<ringlab::busy_spin_wait>>(r), handler, progress, {2}};

    void before() { r.gating().add(progress); }

    void thread(unsigned index) {
        publish_then_drain(index, r, processor, handler);
        if (index == 1) expect(progress.get() == 3, "the processor's progress is not its stop position");
    }
};

struct halt : rl::test_suite<halt, 2> {
    // Park straight after the first poll (see the rings' blocking suites).
    using blocking_ring = ring<ringlab::blocking_wait>;
    blocking_ring r{2, {{0, 0}, {0, 0}, 1}};
    ringlab::sequence<relacy> progress;
    recorder handler;
    ringlab::batch_event_processor<blocking_ring, recorder> processor{
        ringlab::sequence_barrier<blocking_ring>(r), handler, progress, {}};

    void before() { r.gating().add(progress); }

    void thread(unsigned index) {
        if (index == 0) {
            processor.halt();
        } else {
            processor.run();
            expect(handler.expected == 0, "a halted processor handled an event nobody published");
        }
    }
};

struct slip : rl::test_suite<slip, 2> {
    ring<ringlab::busy_spin_wait> r{4, {{}, {}, 1}};
    ringlab::sequence<relacy> progress;
    recorder handler;
    ringlab::batch_event_processor<ring<ringlab::busy_spin_wait>, recorder> processor{
        ringlab::sequence_barrier<ring<ringlab::busy_spin_wait>>(r), handler, progress, options()};

    static ringlab::processor_options options() {
        ringlab::processor_options o;
        o.max_batch = 4;
        o.slip = ringlab::slip_options{2, 2, 2};
        return o;
    }

    void before() { r.gating().add(progress); }

    void thread(unsigned index) { publish_then_drain(index, r, processor, handler); }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(argc, argv,
                                      {make_suite<drain>("drain", "P1 P1a R1 R1a S1 S1a"),
                                       make_suite<halt>("halt", "P1 P1a stop_poll W1-W5"),
                                       make_suite<slip>("slip", "P1 P1a R1 R1a S1 S1a")});
}
