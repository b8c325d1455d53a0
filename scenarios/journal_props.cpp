// scenarios/journal_props.cpp: RapidCheck properties of journal.
//
//   reads_are_appends_minus_overruns  any sequence of appends (sizes 0..the segment maximum,
//                   some claims aborted) interleaved with polls of three subscribers (from
//                   the start, and a late joiner at the oldest or the live end): each
//                   subscriber gets the appended records in order with their bytes, except
//                   exactly the records its overruns reported lost; an overrun happens only
//                   when the subscriber's slot was reused, and it loses exactly the records
//                   before where it resumes
//   replay_is_suffix  replay from the position of any retained record yields exactly the
//                   records from it to the end
//   fuzzed_regions  a region with random appends, then bytes flipped, words replaced by
//                   plausible headers or the table scribbled on: opening it throws a
//                   journal_error or reading it keeps the reader's contract (records fit
//                   their segment, lengths never exceed the largest payload, sequences and
//                   positions only grow, a bounded number of polls reaches empty or corrupt)
//   tails_over_stale_laps  segments longer than the publisher clears ahead at once, three
//                   laps of records of every size through append, claim/commit, claim/abort
//                   and dropped claims, payload words that look like committed headers: a
//                   subscriber polling after every step gets exactly the committed records
//   a_successor_clears_over_a_dead_append  a publisher dies inside append() (its payload,
//                   whose words look like committed headers, is in the log, its header is
//                   not); the successor recovers on the same journal and starts with an
//                   aborted claim of any size: the subscriber gets the records before, then
//                   nothing at the header after that claim
//   fuzzed_files    the same damage written to a file, sometimes cut short or with bytes
//                   after its end, opened with open_file: it throws a journal_error, or the
//                   journal covers exactly the file's bytes and reads keep the same contract
// Each property runs on the native backend, and again with a planted bug that it must
// catch on the check the bug breaks (the canary tests at the end): under sync::sim, or
// under native_canaries for the file, which only a real backend can map, and for the dead
// append, whose bytes the test writes into the region behind the journal's back.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include "ringlab/journal.hpp"
#include "ringlab/sync/sim.hpp"
#include "support/canary.hpp"
#include "support/concurrent.hpp"
#include "support/native_canaries.hpp"

namespace ringlab::scenarios {
namespace {

namespace layout = journal_layout;

struct geometry {
    std::uint64_t segment_length;
    std::uint64_t segment_count;
};

geometry gen_geometry() {
    return geometry{*rc::gen::element<std::uint64_t>(64, 128, 256), *rc::gen::element<std::uint64_t>(2, 4)};
}

std::vector<std::byte> bytes_for(std::uint64_t record, std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((record * 37 + i * 11 + 1) & 0xFF);
    return v;
}

/// A payload size: 0, the segment maximum, or anything between, each often.
std::uint32_t gen_size(std::uint64_t max_payload) {
    return *rc::gen::weightedOneOf<std::uint32_t>({
        {2, rc::gen::just<std::uint32_t>(0)},
        {2, rc::gen::just(static_cast<std::uint32_t>(max_payload))},
        {6, rc::gen::inRange<std::uint32_t>(0, static_cast<std::uint32_t>(max_payload) + 1)},
    });
}

/// The first `n` bytes of `a` and `b` agree (RC_ASSERT does not short-circuit `||`).
bool same_bytes(const std::vector<std::byte>& a, const std::vector<std::byte>& b, std::size_t n) {
    return n == 0 || std::memcmp(a.data(), b.data(), n) == 0;
}

struct appended {
    std::uint64_t position;
    std::vector<std::byte> bytes;
};

/// One subscriber and what the property knows about it.
template <class Journal>
struct tracked {
    typename Journal::subscriber sub;
    std::uint64_t next;
    std::uint64_t lost = 0;
    std::uint64_t delivered = 0;
};

template <class Journal>
void poll_checked(Journal& j, tracked<Journal>& t, const std::vector<appended>& log,
                  std::vector<std::byte>& buf) {
    const read_result r = t.sub.poll(buf);
    switch (r.status) {
        case read_status::record:
            RC_ASSERT(r.record == t.next);
            RC_ASSERT(r.record < log.size());
            RC_ASSERT(r.position == log[r.record].position);
            RC_ASSERT(r.length == log[r.record].bytes.size());
            RC_ASSERT(same_bytes(buf, log[r.record].bytes, r.length));
            ++t.next;
            ++t.delivered;
            break;
        case read_status::overrun: {
            RC_ASSERT(r.lost_bytes > 0);  // lost_records may be 0: only a segment's tail was skipped
            const std::uint64_t now = j.position() / j.segment_length();
            // An overrun only when the subscriber's own slot was taken over for a newer segment,
            // and it skips only what lies before where it resumes.
            RC_ASSERT(r.position / j.segment_length() + j.segment_count() <= now);
            for (std::uint64_t k = t.next; k < t.next + r.lost_records; ++k) {
                RC_ASSERT(k < log.size());
                RC_ASSERT(log[k].position < r.resume_position);
            }
            if (t.next + r.lost_records < log.size()) {
                RC_ASSERT(log[t.next + r.lost_records].position >= r.resume_position);
            }
            t.next += r.lost_records;
            t.lost += r.lost_records;
            RC_ASSERT(t.sub.next_record() == t.next);
            if (t.next < log.size())
                RC_ASSERT(r.resume_position == log[t.next].position ||
                          r.resume_position % j.segment_length() == 0);
            break;
        }
        case read_status::empty:
            RC_ASSERT(t.next == log.size());
            break;
        default:
            RC_FAIL(std::string("unexpected status ") + to_string(r.status));
    }
}

template <class Sync>
void reads_are_appends_minus_overruns() {
    using journal_t = journal<busy_spin_wait, Sync>;
    const geometry g = gen_geometry();
    journal_t j(journal_config{g.segment_length, g.segment_count});
    std::vector<appended> log;
    std::vector<tracked<journal_t>> subs;
    subs.push_back({j.subscribe_oldest(), 0});
    subs.push_back({j.subscribe_oldest(), 0});
    std::vector<std::byte> buf(j.max_payload());
    const int steps = *rc::gen::inRange(1, 120);
    const int join_at = *rc::gen::inRange(0, steps);
    const bool join_live = *rc::gen::arbitrary<bool>();
    for (int step = 0; step < steps; ++step) {
        if (step == join_at) {
            auto sub = join_live ? j.subscribe_live() : j.subscribe_oldest();
            const std::uint64_t at = sub.next_record();
            RC_ASSERT(at <= log.size());
            if (join_live) RC_ASSERT(at == log.size());
            subs.push_back({std::move(sub), at});
        }
        const int what = *rc::gen::inRange(0, 10);
        if (what < 5) {
            const std::uint32_t n = gen_size(j.max_payload());
            if (*rc::gen::inRange(0, 8) == 0) {
                auto c = j.try_claim(n);
                j.abort(c);
            }
            const auto bytes = bytes_for(log.size(), n);
            log.push_back({j.append(bytes.data(), n), bytes});
        } else {
            auto& t = subs[static_cast<std::size_t>(*rc::gen::inRange<std::size_t>(0, subs.size()))];
            const int polls = *rc::gen::inRange(1, 6);
            for (int i = 0; i < polls; ++i) poll_checked(j, t, log, buf);
        }
    }
    for (auto& t : subs) {
        for (int guard = 0; t.next < log.size(); ++guard) {
            RC_ASSERT(guard < 10'000);
            poll_checked(j, t, log, buf);
        }
        poll_checked(j, t, log, buf);  // now empty
    }
    for (auto& t : subs) RC_ASSERT(t.delivered + t.lost + (t.next - t.delivered - t.lost) == log.size());
    for (auto& t : subs) RC_ASSERT(t.sub.delivered() == t.delivered && t.sub.lost_records() == t.lost);
}

template <class Sync>
void replay_is_suffix() {
    using journal_t = journal<busy_spin_wait, Sync>;
    const geometry g = gen_geometry();
    journal_t j(journal_config{g.segment_length, g.segment_count});
    std::vector<appended> log;
    const int count = *rc::gen::inRange(1, 60);
    for (int i = 0; i < count; ++i) {
        const std::uint32_t n = gen_size(j.max_payload());
        if (*rc::gen::inRange(0, 4) == 0) j.abort(j.try_claim(*rc::gen::inRange<std::uint32_t>(0, 17)));
        const auto bytes = bytes_for(log.size(), n);
        log.push_back({j.append(bytes.data(), n), bytes});
    }
    const std::uint64_t now = j.position() / j.segment_length();
    std::vector<std::byte> buf(j.max_payload());
    std::size_t retained = 0;
    for (std::size_t k = 0; k < log.size(); ++k) {
        if (log[k].position / j.segment_length() + j.segment_count() <= now) continue;  // overwritten
        ++retained;
        auto sub = j.replay(log[k].position);
        RC_ASSERT(sub.next_record() == k);
        for (std::size_t want = k; want < log.size(); ++want) {
            const read_result r = sub.poll(buf);
            RC_ASSERT(r.status == read_status::record);
            RC_ASSERT(r.record == want);
            RC_ASSERT(r.length == log[want].bytes.size());
            RC_ASSERT(same_bytes(buf, log[want].bytes, r.length));
        }
        RC_ASSERT(sub.poll(buf).status == read_status::empty);
    }
    RC_ASSERT(retained > 0);
}

/// A region image: random appends, then damage.
template <class Sync>
std::vector<std::uint64_t> damaged_region() {
    const geometry g = gen_geometry();
    journal<busy_spin_wait, sync::native> j(journal_config{g.segment_length, g.segment_count});
    const int count = *rc::gen::inRange(0, 40);
    std::vector<std::size_t> header_words;  // where each record's header word sits in the image
    for (int i = 0; i < count; ++i) {
        const auto bytes = bytes_for(static_cast<std::uint64_t>(i), gen_size(j.max_payload()));
        const std::uint64_t p = j.append(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
        const std::uint64_t slot = (p / g.segment_length) % g.segment_count;
        header_words.push_back(
            (layout::segments_offset(g.segment_count) + slot * g.segment_length + p % g.segment_length) / 8);
    }
    std::vector<std::uint64_t> words(j.region_bytes() / 8);
    std::memcpy(words.data(), j.region_data(), j.region_bytes());
    const int hits = *rc::gen::inRange(1, 8);
    for (int i = 0; i < hits; ++i) {
        auto& w = words[*rc::gen::inRange<std::size_t>(0, words.size())];
        if (!header_words.empty() && *rc::gen::inRange(0, 3) == 0) {
            // A real header with its length or flags damaged.
            auto& h = words[header_words[*rc::gen::inRange<std::size_t>(0, header_words.size())]];
            if (*rc::gen::arbitrary<bool>()) {
                h = (h & ~layout::length_mask) | *rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 32);
            } else {
                h ^= std::uint64_t{1} << *rc::gen::inRange(32, 40);
            }
            continue;
        }
        switch (*rc::gen::inRange(0, 4)) {
            case 0:  // a flipped bit
                w ^= std::uint64_t{1} << *rc::gen::inRange(0, 64);
                break;
            case 1:  // a plausible header: committed, a real-looking tag, any length and flags
                w = layout::make_header(
                    *rc::gen::inRange<std::uint64_t>(0, 1 << 20),
                    layout::flag_committed | (*rc::gen::inRange<std::uint64_t>(0, 256) << 32),
                    *rc::gen::inRange<std::uint64_t>(0, 64));
                break;
            case 2:  // a random word
                w = *rc::gen::arbitrary<std::uint64_t>();
                break;
            default:  // a small number (table entries, positions)
                w = *rc::gen::inRange<std::uint64_t>(0, 4096);
                break;
        }
    }
    if (*rc::gen::inRange(0, 8) == 0) words.resize(*rc::gen::inRange<std::size_t>(0, words.size()));
    return words;
}

template <class Sync>
void read_everything(journal<busy_spin_wait, Sync>& j,
                     typename journal<busy_spin_wait, Sync>::subscriber sub) {
    std::vector<std::byte> buf(j.max_payload());
    std::uint64_t last_position = sub.position();
    std::uint64_t next = sub.next_record();
    for (int polls = 0;; ++polls) {
        RC_ASSERT(polls < 100'000);
        const read_result r = sub.poll(buf);
        RC_ASSERT(r.length <= j.max_payload());
        if (r.status == read_status::empty || r.status == read_status::corrupt) return;
        if (r.status == read_status::buffer_too_small) RC_FAIL("a payload longer than the largest one");
        if (r.status == read_status::overrun) {
            RC_ASSERT(r.resume_position > last_position);
            RC_ASSERT(sub.next_record() >= next);
        } else {
            RC_ASSERT(r.status == read_status::record);
            RC_ASSERT(r.record == next);
            RC_ASSERT(r.position >= last_position);
            RC_ASSERT(r.position % j.segment_length() + layout::record_length(r.length) <=
                      j.segment_length());
        }
        last_position = sub.position();
        next = sub.next_record();
    }
}

template <class Sync>
void fuzzed_regions() {
    using journal_t = journal<busy_spin_wait, Sync>;
    const auto words = damaged_region<Sync>();
    std::unique_ptr<journal_t> j;
    try {
        j = journal_t::from_bytes(words.data(), words.size() * 8);
    } catch (const journal_error&) {
        RC_SUCCEED("rejected with a journal_error");
    }
    try {
        read_everything<Sync>(*j, j->subscribe_oldest());
    } catch (const journal_error&) {
    }
    try {
        read_everything<Sync>(*j, j->subscribe_live());
    } catch (const journal_error&) {
    }
    const std::uint64_t at =
        *rc::gen::inRange<std::uint64_t>(0, j->segment_length() * j->segment_count() * 2) & ~7ULL;
    try {
        read_everything<Sync>(*j, j->replay(at));
    } catch (const journal_error&) {
    }
}

template <class Sync>
void fuzzed_files() {
    using journal_t = journal<busy_spin_wait, Sync>;
    auto words = damaged_region<Sync>();
    if (*rc::gen::inRange(0, 8) == 0) {
        const auto extra = *rc::gen::inRange<std::size_t>(1, 9);
        for (std::size_t i = 0; i < extra; ++i) words.push_back(*rc::gen::arbitrary<std::uint64_t>());
    }
    const std::string path =
        std::string(::testing::TempDir()) + "ringlab_journal_fuzz_" + std::to_string(::getpid());
    {
        std::FILE* f = std::fopen(path.c_str(), "wb");
        RC_ASSERT(f != nullptr);
        if (!words.empty()) std::fwrite(words.data(), 8, words.size(), f);
        std::fclose(f);
    }
    std::unique_ptr<journal_t> j;
    try {
        j = journal_t::open_file(path, journal_open::read_only);
    } catch (const journal_error&) {
        std::remove(path.c_str());
        RC_SUCCEED("rejected with a journal_error");
    }
    std::remove(path.c_str());  // the mapping keeps the file's bytes
    RC_ASSERT(j->region_bytes() == words.size() * 8);
    try {
        read_everything<Sync>(*j, j->subscribe_oldest());
    } catch (const journal_error&) {
    }
}

/// A publisher that dies inside append() leaves the record's payload in the log without its
/// header. A successor in the same process (recover() on the same journal) lays its records
/// out anew: a header it lands on among those bytes reads as empty until it commits there.
/// The dead payload's words are committed headers of their own lap, and the successor starts
/// with an aborted claim that ends inside them. Native backends only: the dead append's
/// bytes are written into the region behind the journal's back.
template <class Sync>
void a_successor_clears_over_a_dead_append() {
    constexpr journal_config geometry{4096, 4};
    const auto before = *rc::gen::inRange<std::uint32_t>(0, 40);
    const auto before_size = *rc::gen::inRange<std::uint32_t>(0, 64);
    const auto dead = *rc::gen::inRange<std::uint32_t>(1, 64);
    const auto skip = *rc::gen::inRange<std::uint32_t>(0, 64);
    journal<busy_spin_wait, Sync> j(geometry);
    auto sub = j.subscribe_oldest();
    const std::vector<std::byte> filler(before_size, std::byte{0x5a});
    for (std::uint32_t i = 0; i < before; ++i) j.append(filler.data(), before_size);
    const std::uint64_t q = j.position();
    auto* region = const_cast<std::byte*>(j.region_data());
    const std::uint64_t words_at = layout::segments_offset(geometry.segment_count) +
                                   (q & (geometry.segment_length * geometry.segment_count - 1)) +
                                   layout::record_header_length;
    const std::uint64_t lookalike =
        layout::make_header(0, layout::flag_committed, q / geometry.segment_length);
    for (std::uint32_t w = 0; w < (dead + 7) / 8; ++w) std::memcpy(region + words_at + 8 * w, &lookalike, 8);

    const journal_recovery rec = j.recover();
    RC_ASSERT(rec.position == q);
    j.abort(j.try_claim(skip));
    std::vector<std::byte> buf(j.max_payload());
    for (std::uint32_t i = 0; i < before; ++i) RC_ASSERT(sub.poll(buf).status == read_status::record);
    const read_result after = sub.poll(buf);
    RC_ASSERT(after.status == read_status::empty);
}

/// Words that look like committed headers of segment `lap`'s slot, after a first word that
/// names the record.
std::vector<std::byte> lookalike_bytes(std::uint64_t record, std::uint32_t n, std::uint64_t lap) {
    std::vector<std::uint64_t> words((n + 7) / 8);
    for (std::size_t i = 0; i < words.size(); ++i) {
        words[i] = i == 0 ? record : layout::make_header(8 * (i % 2), layout::flag_committed, lap);
    }
    std::vector<std::byte> out(n);
    if (n != 0) std::memcpy(out.data(), words.data(), n);
    return out;
}

/// Segments longer than the publisher clears ahead at once, three laps and more of records of
/// every size class, through append, claim and commit, claim and abort, and claims dropped
/// without either. Every payload word looks like a committed header of its slot's next lap,
/// and a dropped claim's like one of its own lap. A subscriber that polls after every step
/// gets exactly the committed records, in order, with their bytes: no stale or dropped word
/// at a header position reads as a record. The steps come from one drawn seed, so that a
/// failure shrinks fast.
template <class Sync>
void tails_over_stale_laps() {
    const std::uint64_t segment = 32768, count = 2;
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    std::mt19937_64 rng(seed);
    auto draw = [&](std::uint64_t n) { return rng() % n; };
    journal<busy_spin_wait, Sync> j(journal_config{segment, count});
    auto sub = j.subscribe_oldest();
    std::vector<std::byte> buf(j.max_payload());
    std::vector<appended> log;
    auto record_at = [&](std::uint64_t p, std::uint32_t n) {  // where a record of n bytes lands
        return p % segment + layout::record_length(n) > segment ? (p / segment + 1) * segment : p;
    };
    while (j.position() < 3 * segment * count) {
        const std::uint64_t size_class = draw(9);
        const auto n = static_cast<std::uint32_t>(size_class < 6   ? draw(65)
                                                  : size_class < 8 ? 65 + draw(440)
                                                                   : 505 + draw(2500));
        const std::uint64_t how = draw(9);
        const std::uint64_t k = log.size();
        if (how < 5) {
            const std::uint64_t p = record_at(j.position(), n);
            auto bytes = lookalike_bytes(k, n, p / segment + count);
            RC_ASSERT(j.append(bytes.data(), n) == p);
            log.push_back({p, std::move(bytes)});
        } else {
            auto c = j.try_claim(n);
            const std::uint64_t lap = c.position() / segment + (how == 8 ? 0 : count);
            auto bytes = lookalike_bytes(k, n, lap);
            if (n != 0) c.write(0, bytes.data(), n);
            if (how < 7) {
                j.commit(c);
                log.push_back({c.position(), std::move(bytes)});
            } else if (how == 7) {
                j.abort(c);
            }  // how == 8: dropped
        }
        for (;;) {
            const read_result r = sub.poll(buf);
            if (r.status == read_status::empty) break;
            RC_ASSERT(r.status == read_status::record);
            RC_ASSERT(r.record < log.size());
            RC_ASSERT(r.position == log[r.record].position);
            RC_ASSERT(r.length == log[r.record].bytes.size());
            RC_ASSERT(same_bytes(buf, log[r.record].bytes, r.length));
        }
        RC_ASSERT(sub.next_record() == log.size());
    }
}

}  // namespace

RC_GTEST_PROP(journal_props, tails_over_stale_laps, ()) { tails_over_stale_laps<sync::native>(); }

RC_GTEST_PROP(journal_props, a_successor_clears_over_a_dead_append, ()) {
    a_successor_clears_over_a_dead_append<sync::native>();
}

RC_GTEST_PROP(journal_props, reads_are_appends_minus_overruns, ()) {
    reads_are_appends_minus_overruns<sync::native>();
}
RC_GTEST_PROP(journal_props, replay_is_suffix, ()) { replay_is_suffix<sync::native>(); }
RC_GTEST_PROP(journal_props, fuzzed_regions, ()) { fuzzed_regions<sync::native>(); }

/// The fuzz through a real file: damaged bytes on disk (sometimes with trailing bytes as
/// well), opened with open_file. A journal that opens covers exactly the file it mapped.
RC_GTEST_PROP(journal_props, fuzzed_files, ()) { fuzzed_files<sync::native>(); }

TEST(journal_canaries, the_accounting_property_catches_undercounted_overruns) {
    const canary_scope bug("journal.overrun_undercounts");
    const catch_report report =
        caught("reads_are_appends_minus_overruns with journal.overrun_undercounts", "r.lost_records",
               [] { reads_are_appends_minus_overruns<sync::sim>(); });
    EXPECT_TRUE(report) << "the property did not notice an overrun that hid a lost record: " << report;
}

TEST(journal_canaries, the_replay_property_catches_skips_that_take_sequences) {
    const canary_scope bug("journal.locate_counts_skips");
    const catch_report report = caught("replay_is_suffix with journal.locate_counts_skips",
                                       "sub.next_record() == k", [] { replay_is_suffix<sync::sim>(); });
    EXPECT_TRUE(report) << "the property did not notice replay numbering records wrongly: " << report;
}

TEST(journal_canaries, the_fuzz_catches_a_length_reported_before_its_bounds_check) {
    const canary_scope bug("journal.length_before_bounds");
    const catch_report report = caught("fuzzed_regions with journal.length_before_bounds",
                                       "r.length <= j.max_payload()", [] { fuzzed_regions<sync::sim>(); });
    EXPECT_TRUE(report) << "the fuzz did not notice a corrupt length handed to the caller: " << report;
}

TEST(journal_canaries, the_file_fuzz_catches_a_region_longer_than_its_file) {
    const canary_scope bug("journal.trusts_header_length");
    const catch_report report =
        caught("fuzzed_files with journal.trusts_header_length", "j->region_bytes() == words.size() * 8",
               [] { fuzzed_files<native_canaries>(); });
    EXPECT_TRUE(report) << "the file fuzz did not notice a journal addressing past its file: " << report;
}

TEST(journal_canaries, the_dead_append_property_catches_a_successor_that_trusts_the_clearing_ahead) {
    const canary_scope bug("journal.recovery_trusts_clear_ahead");
    const catch_report report =
        caught("a_successor_clears_over_a_dead_append with journal.recovery_trusts_clear_ahead",
               {"after.status == read_status::empty"},
               [] { a_successor_clears_over_a_dead_append<native_canaries>(); });
    EXPECT_TRUE(report)
        << "the property did not notice a successor reading a dead append's bytes as a header: " << report;
}

/// tails_over_stale_laps with the planted bug `bug`: caught when a poll delivers something
/// other than the next committed record (a stale or dropped word read as a header).
static catch_report stale_lap_catch(const char* bug) {
    const canary_scope planted(bug);
    return caught(std::string("tails_over_stale_laps with ") + bug,
                  {"r.position == log[r.record].position", "r.status == read_status::record",
                   "r.length == log[r.record].bytes.size()", "r.record < log.size()"},
                  [] { tails_over_stale_laps<sync::sim>(); });
}

TEST(journal_canaries, the_stale_lap_property_catches_a_clearing_mark_one_word_too_far) {
    const catch_report report = stale_lap_catch("journal.clear_ahead_marks_too_far");
    EXPECT_TRUE(report) << "the property did not notice a stale word taken for a cleared header: " << report;
}

TEST(journal_canaries, the_stale_lap_property_catches_a_dropped_claim_taken_for_cleared_log) {
    const catch_report report = stale_lap_catch("journal.dropped_claim_trusts_clear_ahead");
    EXPECT_TRUE(report) << "the property did not notice a dropped claim's word taken for a cleared header: "
                        << report;
}

TEST(journal_canaries, the_sim_backend_passes_without_canaries) {
    EXPECT_TRUE(rc::check("reads_are_appends_minus_overruns under sim",
                          [] { reads_are_appends_minus_overruns<sync::sim>(); }));
    EXPECT_TRUE(rc::check("replay_is_suffix under sim", [] { replay_is_suffix<sync::sim>(); }));
    EXPECT_TRUE(rc::check("fuzzed_regions under sim", [] { fuzzed_regions<sync::sim>(); }));
    EXPECT_TRUE(rc::check("tails_over_stale_laps under sim", [] { tails_over_stale_laps<sync::sim>(); }));
}

}  // namespace ringlab::scenarios
