// model-checks/journal.cpp: journal through the relacy backend, 2 segments of 64 bytes.
//
// Edges (lib/include/ringlab/journal.hpp): [E1] commit with [E1a] the subscriber's header
// read; [E2] the fence after a slot's lap word goes odd with [E2a] the subscriber's fence
// before it re-reads the lap word (seqlock); [E3] the published position with [E3a] the
// live join; [E4] the lap word going even with [E4a] the read of the slot's first record.
// Every payload word of record k holds k + 1, so a stale or torn copy shows.
//
// commit_visibility [E1 E1a]            two records in one segment: no subscriber sees a
//                                       payload before its commit
// rollover_overrun  [E1 E1a E2 E2a E4 E4a]  nine records through five segments (two laps of
//                                       each slot) against a subscriber from the start: every
//                                       record it gets is whole, and delivered + reported
//                                       losses = appended
// torn_copy         [E2 E2a]            one copy of record 0 while the publisher overwrites
//                                       its slot (record 4): the copy is whole, or reported
//                                       as an overrun
// late_join         [E1 E1a E2a E3 E3a]  a subscriber joins at the live end while the
//                                       publisher rolls over and reuses the slot the joiner
//                                       walks: the join succeeds (retrying a reused slot)
//                                       and record sequences match the payloads
#include "harness.hpp"

#include "ringlab/journal.hpp"

namespace {

using ringlab::model::expect;
using ringlab::model::spin_until;
using relacy = ringlab::sync::relacy;
using journal_t = ringlab::journal<ringlab::busy_spin_wait, relacy>;

constexpr ringlab::journal_config tiny{64, 2};

/// Appends record `k` with `words` payload words, each k + 1.
void append_record(journal_t& j, std::uint64_t k, std::size_t words) {
    std::uint64_t payload[4] = {k + 1, k + 1, k + 1, k + 1};
    j.append(payload, static_cast<std::uint32_t>(words * sizeof(std::uint64_t)));
}

/// Polls once; checks a delivered record against its sequence. Returns the result.
ringlab::read_result poll_checked(journal_t::subscriber& sub, std::size_t words) {
    std::uint64_t out[4] = {0, 0, 0, 0};
    const ringlab::read_result r = sub.poll(out, sizeof out);
    if (r.status == ringlab::read_status::record) {
        expect(r.length == words * sizeof(std::uint64_t), "a record of the wrong length");
        for (std::size_t i = 0; i < words; ++i) {
            expect(out[i] == r.record + 1, "a subscriber got a payload that is stale or torn");
        }
    }
    expect(r.status != ringlab::read_status::corrupt, "a live journal read as corrupt");
    return r;
}

/// subscribe_live(), with a failure to join reported as a model failure (not an escape).
journal_t::subscriber join_live(journal_t& j) {
    try {
        return j.subscribe_live();
    } catch (const ringlab::journal_error& e) {
        expect(false, "a live join failed: the published position ran ahead of the records");
        throw;
    }
}

struct commit_visibility : rl::test_suite<commit_visibility, 2> {
    journal_t j{tiny};
    journal_t::subscriber sub = j.subscribe_oldest();

    void thread(unsigned index) {
        if (index == 0) {
            for (std::uint64_t k = 0; k < 2; ++k) append_record(j, k, 1);
        } else {
            for (std::uint64_t want = 0; want < 2; ++want) {
                ringlab::read_result r;
                spin_until([&] {
                    r = poll_checked(sub, 1);
                    return r.status == ringlab::read_status::record;
                });
                expect(r.record == want, "records out of order");
            }
        }
    }
};

struct rollover_overrun : rl::test_suite<rollover_overrun, 2> {
    static constexpr std::uint64_t total = 9;
    journal_t j{tiny};
    journal_t::subscriber sub = j.subscribe_oldest();

    void thread(unsigned index) {
        if (index == 0) {
            for (std::uint64_t k = 0; k < total; ++k) append_record(j, k, 2);
        } else {
            std::uint64_t delivered = 0, lost = 0, next = 0;
            spin_until([&] {
                const ringlab::read_result r = poll_checked(sub, 2);
                if (r.status == ringlab::read_status::record) {
                    expect(r.record == next, "a record sequence skipped without an overrun");
                    ++delivered;
                    ++next;
                } else if (r.status == ringlab::read_status::overrun) {
                    expect(r.lost_records > 0 || r.lost_bytes > 0, "an overrun that lost nothing");
                    lost += r.lost_records;
                    next += r.lost_records;
                }
                return delivered + lost == total;
            });
            expect(sub.next_record() == total, "the subscriber's sequence disagrees with its losses");
        }
    }
};

/// One poll of the oldest record while the publisher laps its slot: the copy races with
/// the overwrite, and the seqlock must turn a torn copy into an overrun. Records 0-3 fill
/// both segments before the threads start, so the overwrite (record 4) is a few steps away
/// and the random scheduler reaches the race often.
struct torn_copy : rl::test_suite<torn_copy, 2> {
    journal_t j{tiny};
    journal_t::subscriber sub = j.subscribe_oldest();

    void before() {
        for (std::uint64_t k = 0; k < 4; ++k) append_record(j, k, 2);
    }

    void thread(unsigned index) {
        if (index == 0) {
            append_record(j, 4, 2);
        } else {
            (void)poll_checked(sub, 2);
        }
    }
};

struct late_join : rl::test_suite<late_join, 2> {
    static constexpr std::uint64_t total = 6;
    journal_t j{tiny};

    void before() { append_record(j, 0, 2); }

    void thread(unsigned index) {
        if (index == 0) {
            for (std::uint64_t k = 1; k < total; ++k) append_record(j, k, 2);
        } else {
            journal_t::subscriber live = join_live(j);
            expect(live.next_record() >= 1, "a live joiner started before a record it could see");
            spin_until([&] {
                const ringlab::read_result r = poll_checked(live, 2);
                if (r.status == ringlab::read_status::record) {
                    expect(r.record + 1 == live.next_record(), "sequence and position disagree");
                }
                return live.next_record() == total;
            });
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    using ringlab::model::make_suite;
    return ringlab::model::run_suites(
        argc, argv,
        {make_suite<commit_visibility>("commit_visibility", "E1 E1a"),
         make_suite<rollover_overrun>("rollover_overrun", "E1 E1a E2 E2a E4 E4a", 1),
         make_suite<torn_copy>("torn_copy", "E2 E2a", 3),
         make_suite<late_join>("late_join", "E1 E1a E2a E3 E3a", 2)});
}
