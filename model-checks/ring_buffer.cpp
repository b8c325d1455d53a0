// model-checks/ring_buffer.cpp: ring_buffer with its single-producer sequencer, the
// sequence barrier and the consumers' sequences, through the relacy backend.
//
// Edges (lib/include/ringlab/ring_buffer.hpp): [R1] publish() stamps a slot, with [R1a]
// published(); the consumers' sequences [S1]/[S1a] (sequence.hpp) gate the producer and
// order a stage after the stages it depends on; blocking_wait's [W1]..[W5] where a suite
// waits.
//
// publish_consume [R1 R1a S1 S1a]        3 events through capacity 2: every event read as
//                                        written, the third only after the consumer counted
//                                        the first (wrap prevention)
// batch_range     [R1 R1a]               one claim of 10 positions published at once: the
//                                        consumer trusts the last stamp of a range for the
//                                        ones before it (published_end's two-load path)
// stages          [R1 R1a S1 S1a]        producer -> A -> B: A annotates each event, B reads
//                                        the annotation after A's count says it is done
// blocking        [R1 R1a S1 S1a W1-W5]  next() and the barrier's wait_for() through
//                                        blocking_wait on capacity 1
// sleeping_producer [R1 R1a S1 S1a W1-W5] a producer parked through blocking_wait beside a
//                                        busy-spinning consumer (the ring's ProducerWait):
//                                        the consumer's progress_made() must wake it
// join_parked_producer [G1 G1a G2 G2a S1 S1a R1 R1a W1-W5] a consumer joins while the producer parks for
//                                        room through blocking_wait: join_consumer() must
//                                        wake it once the joiner's start is raised
// cursor_reader   [C1 C1a R1 R1a S1 S1a] a third thread reads the cursor while 4 events pass
//                                        through capacity 2: each read at or past the one
//                                        before and past every event that thread saw
//                                        published; the canary ring_buffer.cursor_searches_once
//                                        (returns a search that a reused slot cut short) must
//                                        fail here
// join_at_cursor  [G1 G1a S1 S1a R1 R1a] a consumer joins the running ring at its cursor
//                                        (disruptor::add_consumer) while a fixed consumer and
//                                        the producer run: it must never be lapped. The join
//                                        handshake [G2]/[G2a] is what makes this hold; the
//                                        canary sequence_group.join_without_handshake
//                                        (skips it) must fail here.
#include "harness.hpp"

#include "ringlab/ring_buffer.hpp"
#include "ringlab/sequence_barrier.hpp"

namespace {

using ringlab::model::expect;
using ringlab::model::spin_until;
using ringlab::sync::at;
using relacy = ringlab::sync::relacy;
namespace mo = ringlab::sync::mo;

template <template <class> class Wait = ringlab::busy_spin_wait>
using ring = ringlab::ring_buffer<int, ringlab::single_producer, Wait, relacy>;
// Rings are built with one joiner slot (the last option): every gating scan reads each
// slot, and the joiners have their own suites (sequence.cpp).

/// Claims, fills and publishes one event, retrying while the ring is full.
template <class Ring>
void produce(Ring& r, int value) {
    std::optional<std::uint64_t> p;
    spin_until([&] { return (p = r.try_next(1)).has_value(); });
    r.write(*p) = value;
    r.publish(*p);
}

/// Publishes 10, 11, ... at positions 0, 1, ... through next(): a full ring waits in the
/// producers' wait strategy.
template <class Ring>
void publish_through_wait(Ring& r, int count) {
    for (int v = 0; v < count; ++v) {
        expect(r.publish_event([&](int& e, std::uint64_t) { e = 10 + v; }) == ringlab::wait_result::ready,
               "publish_event() did not complete");
    }
}

/// Reads positions [begin, end) straight from the ring as they are published, checks that
/// position p holds 10 + p, and counts each one in `done`.
template <class Ring>
void consume(Ring& r, ringlab::sequence<relacy>& done, std::uint64_t begin, std::uint64_t end) {
    ringlab::sequence_barrier<Ring> barrier(r);
    for (std::uint64_t p = begin; p < end; ++p) {
        spin_until([&] { return barrier.available(p, p + 1) > p; });
        expect(r.read(p) == 10 + static_cast<int>(p),
               "a consumer read an event other than the one published");
        done.set(p + 1);
        r.progress_made();
    }
}

struct publish_consume : rl::test_suite<publish_consume, 2> {
    ring<> r{2, {{}, {}, 1}};
    ringlab::sequence<relacy> consumed;

    void before() { r.gating().add(consumed); }

    void thread(unsigned index) {
        if (index == 0) {
            for (int v = 0; v < 3; ++v) produce(r, 10 + v);
        } else {
            consume(r, consumed, 0, 3);
        }
    }
};

struct batch_range : rl::test_suite<batch_range, 2> {
    static constexpr std::uint64_t count = 10;  // past the published_end short scan (8)
    ring<> r{16, {{}, {}, 1}};

    void thread(unsigned index) {
        if (index == 0) {
            const auto begin = r.try_next(count);
            expect(begin == 0u, "a claim on an empty ring of capacity 16 failed");
            for (std::uint64_t p = 0; p < count; ++p) r.write(p) = static_cast<int>(p) * 3;
            r.publish(0, count);
        } else {
            std::uint64_t p = 0;
            while (p < count) {
                const std::uint64_t end = r.published_end(p, count);
                for (; p < end; ++p)
                    expect(r.read(p) == static_cast<int>(p) * 3, "a range held an unpublished event");
                if (p < count) relacy::pause();
            }
        }
    }
};

struct stages : rl::test_suite<stages, 3> {
    ring<> r{2, {{}, {}, 1}};
    ringlab::sequence<relacy> a_done;
    ringlab::sequence<relacy> b_done;

    void before() { r.gating().add(b_done); }  // the producer gates on the leaf

    void thread(unsigned index) {
        if (index == 0) {
            for (int v = 0; v < 2; ++v) produce(r, v + 1);
        } else if (index == 1) {
            ringlab::sequence_barrier<ring<>> barrier(r);
            for (std::uint64_t p = 0; p < 2; ++p) {
                spin_until([&] { return barrier.available(p, p + 1) > p; });
                r.annotate(p) *= 10;
                a_done.set(p + 1);
                r.progress_made();
            }
        } else {
            ringlab::sequence_barrier<ring<>> barrier(r, {&a_done});
            for (std::uint64_t p = 0; p < 2; ++p) {
                spin_until([&] { return barrier.available(p, p + 1) > p; });
                expect(r.read(p) == (static_cast<int>(p) + 1) * 10, "stage B ran ahead of stage A");
                b_done.set(p + 1);
                r.progress_made();
            }
        }
    }
};

struct blocking : rl::test_suite<blocking, 2> {
    using blocking_ring = ring<ringlab::blocking_wait>;
    // Park straight after the first poll (see the rings' blocking suites).
    blocking_ring r{1, {{0, 0}, {0, 0}, 1}};
    ringlab::sequence<relacy> consumed;
    relacy::atomic<std::uint64_t> stop{ringlab::run_forever};

    void before() { r.gating().add(consumed); }

    void thread(unsigned index) {
        if (index == 0) {
            publish_through_wait(r, 2);
        } else {
            ringlab::sequence_barrier<blocking_ring> barrier(r);
            for (std::uint64_t p = 0; p < 2; ++p) {
                const auto w = barrier.wait_for(p, p + 1, stop);
                expect(w.result == ringlab::wait_result::ready && w.end == p + 1,
                       "wait_for() did not return the event");
                expect(r.read(p) == 10 + static_cast<int>(p),
                       "the consumer read an event other than the one published");
                consumed.set(p + 1);
                r.progress_made();
            }
        }
    }
};

/// The producer's strategy is not the consumer's: the producer parks for room through
/// blocking_wait while the consumer busy-spins. Only the consumer's progress_made() can
/// wake it (the canary ring_buffer.progress_skips_producers drops that wake: a deadlock).
using mixed_ring = ringlab::ring_buffer<int, ringlab::single_producer, ringlab::busy_spin_wait, relacy,
                                        ringlab::blocking_wait>;

struct sleeping_producer : rl::test_suite<sleeping_producer, 2> {
    mixed_ring r{1, {{}, {0, 0}, 1}};
    ringlab::sequence<relacy> consumed;

    void before() { r.gating().add(consumed); }

    void thread(unsigned index) {
        if (index == 0) {
            publish_through_wait(r, 2);
        } else {
            consume(r, consumed, 0, 2);
        }
    }
};

/// Threads 0 and 1 of the suites that put a third thread beside a running ring: the
/// producer publishes 4 events through capacity 2 to one fixed consumer.
struct producer_and_fixed_consumer {
    ring<> r{2, {{}, {}, 1}};
    ringlab::sequence<relacy> fixed;

    void wire() { r.gating().add(fixed); }

    /// Runs thread 0 (the producer) or 1 (the fixed consumer); false for any other.
    bool run_pair(unsigned index) {
        if (index == 0) {
            for (int v = 0; v < 4; ++v) produce(r, 10 + v);
        } else if (index == 1) {
            consume(r, fixed, 0, 4);
        } else {
            return false;
        }
        return true;
    }
};

/// The single producer announces its claims only when it scans its consumers; the cursor is
/// the announcement or the published run past it. A reader racing the producer (a stale
/// announcement, slots a later lap reused) must still see it never go down, and never below
/// an event it saw published.
struct cursor_reader : rl::test_suite<cursor_reader, 3>, producer_and_fixed_consumer {
    void before() { wire(); }

    void thread(unsigned index) {
        if (run_pair(index)) return;
        std::uint64_t last = 0;
        while (last < 4) {
            const std::uint64_t seen = fixed.get();  // published, through the consumer
            const std::uint64_t c = r.cursor();
            expect(c >= last, "the cursor went down on one thread");
            expect(c >= seen, "the cursor is below an event the reader saw published");
            last = c;
            relacy::yield();
        }
    }
};

/// A consumer joins the running ring at its cursor (disruptor::add_consumer): it must read
/// every event from its start, as published, and never be lapped by the producer.
struct join_at_cursor : rl::test_suite<join_at_cursor, 3>, producer_and_fixed_consumer {
    void before() { wire(); }

    void thread(unsigned index) {
        if (run_pair(index)) return;
        const auto member = r.join_consumer();
        expect(member.has_value(), "the joiner found no free slot");
        ringlab::sequence<relacy>& seq = r.joiners().at_index(*member);
        consume(r, seq, seq.get(), 4);
        r.joiners().leave(*member);
    }
};

/// A consumer joins while the producer parks for room through blocking_wait. The joiner is
/// the only consumer: before it joins nothing gates the producer; from its activation its
/// provisional start does, until join() raises it to the cursor, so a producer that parked
/// on it in between must be woken (the canary ring_buffer.join_without_wake skips that
/// wake: a deadlock).
struct join_parked_producer : rl::test_suite<join_parked_producer, 2> {
    mixed_ring r{1, {{}, {0, 0}, 1}};

    void thread(unsigned index) {
        if (index == 0) {
            publish_through_wait(r, 2);
        } else {
            const auto member = r.join_consumer();
            expect(member.has_value(), "the joiner found no free slot");
            ringlab::sequence<relacy>& seq = r.joiners().at_index(*member);
            consume(r, seq, seq.get(), 2);
            r.joiners().leave(*member);
            r.progress_made();
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(
        argc, argv,
        {make_suite<publish_consume>("publish_consume", "R1 R1a S1 S1a"),
         make_suite<batch_range>("batch_range", "R1 R1a"), make_suite<stages>("stages", "R1 R1a S1 S1a", 3),
         make_suite<blocking>("blocking", "R1 R1a S1 S1a W1-W5", 3),
         make_suite<sleeping_producer>("sleeping_producer", "R1 R1a S1 S1a W1-W5", 3),
         make_suite<cursor_reader>("cursor_reader", "C1 C1a R1 R1a S1 S1a", 1),
         make_suite<join_at_cursor>("join_at_cursor", "G1 G1a G2 G2a S1 S1a R1 R1a", 1),
         make_suite<join_parked_producer>("join_parked_producer", "G1 G1a G2 G2a S1 S1a R1 R1a W1-W5", 3)});
}
