// scenarios/journal_test.cpp: unit tests of journal.
//
//   geometry, round trips of every record size (0, unaligned, the segment maximum),
//   padding at segment ends, claim/commit/abort, append and claim/commit leaving the same
//   bytes, overrun accounting, late joiners (oldest, live), replay from boundaries and the
//   errors for others, the file-backed mode across mappings, bad files (magic, version,
//   size, a corrupted header), a publisher killed with SIGKILL in the middle of a record
//   (fork) and the recovery after it, one dead inside append(), and a tail on a real
//   thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "ringlab/journal.hpp"

namespace ringlab::scenarios {
namespace {

using journal_t = journal<>;
namespace layout = journal_layout;

std::vector<std::byte> payload_of(std::uint64_t seq, std::size_t bytes) {
    std::vector<std::byte> v(bytes);
    for (std::size_t i = 0; i < bytes; ++i) v[i] = static_cast<std::byte>((seq * 131 + i * 7) & 0xFF);
    return v;
}

std::string temp_path(const char* name) {
    return (std::string(::testing::TempDir()) + "ringlab_journal_" + name + "_" + std::to_string(::getpid()));
}

/// Reads every record a subscriber can get now; checks each against payload_of(record).
template <class Sub>
std::vector<std::uint64_t> drain(Sub& sub, std::size_t max_payload) {
    std::vector<std::uint64_t> seen;
    std::vector<std::byte> buf(max_payload);
    for (;;) {
        const read_result r = sub.poll(buf);
        if (r.status != read_status::record) {
            EXPECT_EQ(r.status, read_status::empty) << to_string(r.status);
            return seen;
        }
        seen.push_back(r.record);
    }
}

TEST(journal, rejects_bad_geometry) {
    EXPECT_THROW(journal_t({100, 4}), journal_error);
    EXPECT_THROW(journal_t({32, 4}), journal_error);
    EXPECT_THROW(journal_t({1024, 1}), journal_error);
    EXPECT_THROW(journal_t({1024, 3}), journal_error);
    try {
        journal_t j({1024, 3});
    } catch (const journal_error& e) {
        EXPECT_EQ(e.code(), journal_errc::bad_geometry);
        EXPECT_NE(std::string(e.what()).find("segment_count 3"), std::string::npos) << e.what();
    }
}

TEST(journal, round_trips_every_size_with_padding) {
    journal_t j({256, 8});
    auto sub = j.subscribe_oldest();
    const std::vector<std::size_t> sizes{0, 1, 7, 8, 9, 100, 248, 3, 248, 0, 64};
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const auto p = payload_of(i, sizes[i]);
        j.append(p);
    }
    std::vector<std::byte> buf(j.max_payload());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const read_result r = sub.poll(buf);
        ASSERT_EQ(r.status, read_status::record) << i;
        EXPECT_EQ(r.record, i);
        ASSERT_EQ(r.length, sizes[i]);
        EXPECT_TRUE(sizes[i] == 0 || std::memcmp(buf.data(), payload_of(i, sizes[i]).data(), sizes[i]) == 0)
            << i;
    }
    EXPECT_EQ(sub.poll(buf).status, read_status::empty);
    EXPECT_GT(j.stats().padding, 0U);
    EXPECT_EQ(j.stats().records, sizes.size());
    EXPECT_THROW((void)j.try_claim(249), journal_error);
}

TEST(journal, claim_commit_and_abort) {
    journal_t j({128, 2});
    auto sub = j.subscribe_live();
    auto c = j.try_claim(16);
    std::memcpy(c.data(), "0123456789abcdef", 16);
    std::vector<std::byte> buf(j.max_payload());
    EXPECT_EQ(sub.poll(buf).status, read_status::empty) << "a reservation is visible before commit";
    j.commit(c);
    auto a = j.try_claim(8);
    j.abort(a);
    auto d = j.try_claim(3);
    d.write(0, "abc", 3);
    j.commit(d);
    read_result r = sub.poll(buf);
    ASSERT_EQ(r.status, read_status::record);
    EXPECT_EQ(std::memcmp(buf.data(), "0123456789abcdef", 16), 0);
    r = sub.poll(buf);
    ASSERT_EQ(r.status, read_status::record) << "the aborted record was not skipped";
    EXPECT_EQ(r.record, 1U) << "an aborted record took a sequence";
    EXPECT_EQ(std::memcmp(buf.data(), "abc", 3), 0);
    EXPECT_EQ(j.stats().aborted, 1U);
}

// append() commits with one header store and claim() reserves first; what they leave must
// be the same bytes: records that end mid-segment, fill a segment exactly (the next one is
// taken over at the commit) or do not fit (padding first), over several laps.
TEST(journal, append_and_claim_commit_leave_the_same_region) {
    journal_t appended({128, 2});
    journal_t claimed({128, 2});
    const std::vector<std::uint32_t> sizes{0, 8, 13, 120, 40, 64, 9, 0, 120, 56, 48, 16, 120, 1, 100, 24};
    for (int lap = 0; lap < 3; ++lap) {
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            const auto bytes = payload_of(lap * sizes.size() + i, sizes[i]);
            const std::uint64_t at = appended.append(bytes.data(), sizes[i]);
            auto c = claimed.try_claim(sizes[i]);
            c.write(0, bytes.data(), bytes.size());
            claimed.commit(c);
            ASSERT_EQ(at, c.position()) << "record " << i << " of lap " << lap;
            ASSERT_EQ(appended.position(), claimed.position());
            ASSERT_EQ(std::memcmp(appended.region_data(), claimed.region_data(), appended.region_bytes()), 0)
                << "the regions differ after record " << i << " of lap " << lap;
        }
    }
    EXPECT_EQ(appended.stats().records, claimed.stats().records);
    EXPECT_EQ(appended.stats().padding, claimed.stats().padding);
    EXPECT_GT(appended.stats().padding, 0U);
    EXPECT_GT(appended.stats().rollovers, 4U);
}

TEST(journal, buffer_too_small_leaves_the_subscriber_in_place) {
    journal_t j({256, 2});
    auto sub = j.subscribe_oldest();
    j.append(payload_of(0, 40));
    std::vector<std::byte> small(8), big(64);
    const read_result r = sub.poll(small);
    EXPECT_EQ(r.status, read_status::buffer_too_small);
    EXPECT_EQ(r.length, 40U);
    EXPECT_EQ(sub.poll(big).status, read_status::record);
}

TEST(journal, overrun_reports_exactly_what_was_lost) {
    journal_t j({128, 4});  // 4 segments of 128 bytes: 4 records of 24 payload bytes each
    auto slow = j.subscribe_oldest();
    constexpr std::uint64_t total = 40;
    for (std::uint64_t i = 0; i < total; ++i) j.append(payload_of(i, 24));
    std::vector<std::byte> buf(j.max_payload());
    const read_result r = slow.poll(buf);
    ASSERT_EQ(r.status, read_status::overrun);
    EXPECT_EQ(r.position, 0U);
    EXPECT_EQ(r.resume_position % 128, 0U);
    EXPECT_EQ(r.lost_bytes, r.resume_position);
    EXPECT_GT(r.lost_records, 0U);
    std::uint64_t next = r.lost_records;
    for (;;) {
        const read_result x = slow.poll(buf);
        if (x.status == read_status::empty) break;
        ASSERT_EQ(x.status, read_status::record);
        ASSERT_EQ(x.record, next);
        EXPECT_EQ(std::memcmp(buf.data(), payload_of(next, 24).data(), 24), 0);
        ++next;
    }
    EXPECT_EQ(next, total) << "delivered + lost != appended";
}

TEST(journal, late_joiners_start_at_oldest_or_live) {
    journal_t j({128, 2});
    for (std::uint64_t i = 0; i < 10; ++i) j.append(payload_of(i, 24));
    auto oldest = j.subscribe_oldest();
    auto live = j.subscribe_live();
    EXPECT_GT(oldest.next_record(), 0U);
    EXPECT_EQ(live.next_record(), 10U);
    const auto from_oldest = drain(oldest, j.max_payload());
    ASSERT_FALSE(from_oldest.empty());
    EXPECT_EQ(from_oldest.back(), 9U);
    EXPECT_TRUE(drain(live, j.max_payload()).empty());
    j.append(payload_of(10, 24));
    EXPECT_EQ(drain(live, j.max_payload()), std::vector<std::uint64_t>{10});
}

TEST(journal, replay_from_boundaries_and_errors_elsewhere) {
    journal_t j({256, 4});
    std::vector<std::uint64_t> positions;
    for (std::uint64_t i = 0; i < 12; ++i) positions.push_back(j.append(payload_of(i, 8 * (i % 5))));
    for (std::uint64_t i = 0; i < positions.size(); ++i) {
        auto sub = j.replay(positions[i]);
        EXPECT_EQ(sub.next_record(), i);
        const auto seen = drain(sub, j.max_payload());
        ASSERT_EQ(seen.size(), positions.size() - i);
        EXPECT_EQ(seen.front(), i);
    }
    try {
        (void)j.replay(positions[1] + 8);
        ADD_FAILURE() << "a position inside a record was accepted";
    } catch (const journal_error& e) {
        EXPECT_EQ(e.code(), journal_errc::not_a_boundary);
    }
    for (std::uint64_t i = 0; i < 100; ++i) j.append(payload_of(i, 100));
    try {
        (void)j.replay(positions[1]);
        ADD_FAILURE() << "an overwritten position was accepted";
    } catch (const journal_error& e) {
        EXPECT_EQ(e.code(), journal_errc::not_retained);
    }
}

TEST(journal, file_capture_replays_in_another_mapping) {
    const std::string path = temp_path("capture");
    {
        auto j = journal_t::create_file(path, {4096, 4});
        for (std::uint64_t i = 0; i < 100; ++i) j->append(payload_of(i, i % 50));
        EXPECT_THROW(journal_t::open_file(path, journal_open::append), journal_error) << "two publishers";
    }
    auto r = journal_t::open_file(path, journal_open::read_only);
    auto sub = r->subscribe_oldest();
    const auto seen = drain(sub, r->max_payload());
    ASSERT_EQ(seen.size(), 100U);
    EXPECT_EQ(seen.back(), 99U);
    EXPECT_THROW((void)r->try_claim(1), journal_error) << "a read-only journal accepted a claim";
    std::remove(path.c_str());
}

void write_file(const std::string& path, const std::vector<std::byte>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

journal_errc open_error(const std::string& path) {
    try {
        (void)journal_t::open_file(path, journal_open::read_only);
    } catch (const journal_error& e) {
        return e.code();
    }
    ADD_FAILURE() << "the file opened";
    return journal_errc::io_error;
}

TEST(journal, bad_files_give_precise_errors) {
    journal_t j({128, 2});
    for (std::uint64_t i = 0; i < 3; ++i) j.append(payload_of(i, 16));
    const std::vector<std::byte> good(j.region_data(), j.region_data() + j.region_bytes());
    const std::string path = temp_path("bad");

    auto bad = good;
    bad[0] = std::byte{'X'};
    write_file(path, bad);
    EXPECT_EQ(open_error(path), journal_errc::bad_magic);

    bad = good;
    bad[layout::version_offset] = std::byte{9};
    write_file(path, bad);
    EXPECT_EQ(open_error(path), journal_errc::bad_version);

    bad = good;
    bad.resize(bad.size() - 8);
    write_file(path, bad);
    EXPECT_EQ(open_error(path), journal_errc::size_mismatch);

    bad.resize(100);
    write_file(path, bad);
    EXPECT_EQ(open_error(path), journal_errc::too_small);

    bad = good;
    bad[layout::segment_length_offset] = std::byte{100};
    write_file(path, bad);
    EXPECT_EQ(open_error(path), journal_errc::bad_geometry);

    // A committed header whose length runs past its segment.
    bad = good;
    const std::size_t second = layout::segments_offset(2) + layout::record_length(16);
    const std::uint64_t huge = layout::make_header(4000, layout::flag_committed, 0);
    std::memcpy(bad.data() + second, &huge, sizeof huge);
    write_file(path, bad);
    auto r = journal_t::open_file(path, journal_open::read_only);
    auto sub = r->subscribe_oldest();
    std::vector<std::byte> buf(r->max_payload());
    EXPECT_EQ(sub.poll(buf).status, read_status::record);
    const read_result c = sub.poll(buf);
    EXPECT_EQ(c.status, read_status::corrupt);
    EXPECT_EQ(c.error, journal_errc::record_past_segment);
    EXPECT_EQ(c.position, layout::record_length(16));

    // Unknown flags.
    bad = good;
    const std::uint64_t odd = layout::make_header(16, layout::flag_committed | (std::uint64_t{1} << 39), 0);
    std::memcpy(bad.data() + second, &odd, sizeof odd);
    write_file(path, bad);
    r = journal_t::open_file(path, journal_open::read_only);
    sub = r->subscribe_oldest();
    (void)sub.poll(buf);
    EXPECT_EQ(sub.poll(buf).error, journal_errc::bad_flags);
    std::remove(path.c_str());
}

// A child process publishes, reserves a record, writes half of it and waits to be killed.
TEST(journal, a_publisher_killed_mid_record_is_recovered) {
    const std::string path = temp_path("kill");
    journal_t::create_file(path, {4096, 4}).reset();
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto j = journal_t::open_file(path, journal_open::append);
        for (std::uint64_t i = 0; i < 50; ++i) j->append(payload_of(i, 24));
        auto c = j->try_claim(64);
        std::memcpy(c.data(), payload_of(50, 32).data(), 32);  // half a record
        const char one = 1;
        (void)!::write(ready[1], &one, 1);
        for (;;) ::pause();
    }
    char got = 0;
    ASSERT_EQ(::read(ready[0], &got, 1), 1);
    EXPECT_THROW(journal_t::open_file(path, journal_open::append), journal_error)
        << "the live child holds the lock";
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));

    auto reader = journal_t::open_file(path, journal_open::read_only);
    auto sub = reader->subscribe_oldest();
    EXPECT_EQ(drain(sub, reader->max_payload()).size(), 50U) << "committed records before the kill";
    // A waiting reader is told the publisher is gone instead of waiting for ever.
    EXPECT_FALSE(reader->publisher_alive());
    {
        std::vector<std::byte> buf(reader->max_payload());
        wait_result w = wait_result::timed_out;
        const read_result r = sub.wait(buf, w);
        EXPECT_EQ(r.status, read_status::publisher_gone);
        EXPECT_EQ(w, wait_result::ready);
    }
    EXPECT_THROW((void)reader->recover(), journal_error) << "recover() on a read-only journal";

    auto successor = journal_t::open_file(path, journal_open::append);
    EXPECT_TRUE(reader->publisher_alive()) << "the successor holds the publisher lock";
    EXPECT_EQ(successor->stats().aborted, 1U) << "the half-written record was not turned into a skip";
    EXPECT_EQ(successor->next_record(), 50U);
    successor->append(payload_of(50, 24));
    const auto after = drain(sub, reader->max_payload());
    EXPECT_EQ(after, std::vector<std::uint64_t>{50}) << "the reader did not skip the dead reservation";
    ::close(ready[0]);
    ::close(ready[1]);
    std::remove(path.c_str());
}

// append() writes the payload behind a header that still reads as empty and commits with
// one store, so a publisher that dies inside it leaves payload bytes and no header. The
// file is left in that state by hand (the bytes a dead append had written, then the
// publisher gone); the successor publishes from there and nobody reads the stale bytes.
TEST(journal, a_publisher_dead_inside_append_leaves_nothing_to_skip) {
    const std::string path = temp_path("dead_append");
    std::uint64_t published = 0;
    {
        auto j = journal_t::create_file(path, {4096, 4});
        for (std::uint64_t i = 0; i < 50; ++i) j->append(payload_of(i, 24));
        published = j->published_position();
    }
    {
        const auto stale = payload_of(99, 24);
        const std::uint64_t payload_at = layout::segments_offset(4) + (published & (4 * 4096 - 1)) +
                                        layout::record_header_length;
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(payload_at));
        f.write(reinterpret_cast<const char*>(stale.data()), static_cast<std::streamsize>(stale.size()));
        ASSERT_TRUE(f.good());
    }
    auto reader = journal_t::open_file(path, journal_open::read_only);
    auto sub = reader->subscribe_oldest();
    EXPECT_EQ(drain(sub, reader->max_payload()).size(), 50U);

    auto successor = journal_t::open_file(path, journal_open::append);
    EXPECT_EQ(successor->stats().aborted, 0U) << "a dead append left a reservation to skip";
    EXPECT_EQ(successor->position(), published) << "the successor does not publish where the append died";
    EXPECT_EQ(successor->next_record(), 50U);
    successor->append(payload_of(50, 16));
    std::vector<std::byte> buf(reader->max_payload());
    const read_result r = sub.poll(buf);
    ASSERT_EQ(r.status, read_status::record);
    EXPECT_EQ(r.record, 50U);
    ASSERT_EQ(r.length, 16U);
    EXPECT_EQ(std::memcmp(buf.data(), payload_of(50, 16).data(), 16), 0);
    EXPECT_EQ(sub.poll(buf).status, read_status::empty) << "the dead append's bytes were read as a record";
    std::remove(path.c_str());
}

TEST(journal, misuse_and_bad_positions_are_errors) {
    journal_t j({4096, 4});
    auto c = j.try_claim(16);
    const std::byte bytes[32]{};
    EXPECT_THROW(c.write(8, bytes, 16), journal_error) << "a write past the record";
    j.commit(c);
    EXPECT_THROW(j.commit(c), journal_error) << "the same claim committed twice";
    const std::vector<std::byte> big(j.max_payload() + 1);
    EXPECT_THROW(j.append(std::span<const std::byte>(big)), journal_error);

    // A published position inside a committed record: open_file(append) refuses the file.
    const std::string path = temp_path("inside");
    {
        auto w = journal_t::create_file(path, {4096, 4});
        std::vector<std::byte> payload(32, std::byte{7});
        w->append(payload);
        w->append(payload);
    }
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        const std::uint64_t inside = 16;  // in the middle of the first record's payload
        f.seekp(static_cast<std::streamoff>(layout::published_position_offset));
        f.write(reinterpret_cast<const char*>(&inside), sizeof inside);
    }
    try {
        (void)journal_t::open_file(path, journal_open::append);
        ADD_FAILURE() << "a published position inside a record was accepted";
    } catch (const journal_error& e) {
        EXPECT_EQ(e.code(), journal_errc::bad_published_position) << e.what();
    }
    std::remove(path.c_str());
}

// Recovery walks from the published position over committed records. A header there that
// subscribers would call corrupt stops it with an error: before, it was walked over, and
// everything published after it lay beyond every subscriber's reach.
TEST(journal, recovery_refuses_a_header_subscribers_would_call_corrupt) {
    const std::string path = temp_path("recover_flags");
    const std::size_t published = 3 * layout::record_length(16);
    const auto corrupt_at_published = [&](std::uint64_t flags) {
        {
            auto w = journal_t::create_file(path, {128, 2});
            for (std::uint64_t i = 0; i < 3; ++i) w->append(payload_of(i, 16));
        }
        const std::uint64_t h = layout::make_header(8, layout::flag_committed | flags, 0);
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(layout::segments_offset(2) + published));
        f.write(reinterpret_cast<const char*>(&h), sizeof h);
    };
    for (const std::uint64_t flags : {std::uint64_t{1} << 39, layout::flag_padding}) {
        corrupt_at_published(flags);
        try {
            (void)journal_t::open_file(path, journal_open::append);
            ADD_FAILURE() << "recovery walked over a header with flags " << std::hex << flags;
        } catch (const journal_error& e) {
            EXPECT_EQ(e.code(), journal_errc::bad_flags) << e.what();
            EXPECT_EQ(e.position(), published);
        }
    }
    std::remove(path.c_str());
}

// Nothing in this process publishes to these journals, so nothing wakes a parked waiter:
// a copy says its publisher is gone, and a read-only file's waiter polls.
TEST(journal, waits_end_on_journals_this_process_does_not_publish) {
    journal_t j({4096, 4});
    j.append(payload_of(0, 16));
    auto copy = journal_t::from_bytes(j.region_data(), j.region_bytes());
    auto sub = copy->subscribe_oldest();
    std::vector<std::byte> buf(copy->max_payload());
    EXPECT_EQ(sub.poll(buf).status, read_status::record);
    wait_result w = wait_result::ready;
    EXPECT_EQ(sub.wait(buf, w).status, read_status::publisher_gone) << "a copy waited for a publisher";

    using blocking_t = journal<blocking_wait>;
    const std::string path = temp_path("parked_reader");
    auto publisher = blocking_t::create_file(path, {4096, 4});
    auto reader = blocking_t::open_file(path, journal_open::read_only);
    auto tail = reader->subscribe_live();
    std::thread late([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        publisher->append(payload_of(0, 16));
    });
    const read_result r = tail.wait(buf, w);  // parked for ever: no wake crosses the two objects
    late.join();
    EXPECT_EQ(w, wait_result::ready);
    EXPECT_EQ(r.status, read_status::record);
    std::remove(path.c_str());
}

// An attached region says nothing about its owner: the caller's liveness check does, and
// a waiting subscriber is told the publisher is gone once it says so.
TEST(journal, an_attached_region_asks_its_liveness_check_before_waiting_for_ever) {
    journal_t owner({4096, 4});
    owner.append(payload_of(0, 16));
    auto silent = journal_t::attach(owner.region_data(), owner.region_bytes());
    EXPECT_TRUE(silent->publisher_alive()) << "without a check the owner counts as alive";

    std::atomic<bool> alive{true};
    auto view = journal_t::attach(owner.region_data(), owner.region_bytes(), [&] { return alive.load(); });
    EXPECT_TRUE(view->publisher_alive());
    auto sub = view->subscribe_oldest();
    std::vector<std::byte> buf(view->max_payload());
    wait_result w = wait_result::timed_out;
    EXPECT_EQ(sub.wait(buf, w).status, read_status::record);
    EXPECT_EQ(sub.wait(buf, w, 2'000'000).status, read_status::empty)
        << "the owner is alive: the wait times out";
    EXPECT_EQ(w, wait_result::timed_out);
    std::thread owner_dies([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        alive.store(false);
    });
    const read_result r = sub.wait(buf, w, 10'000'000'000);  // ends when the check says so
    owner_dies.join();
    EXPECT_EQ(r.status, read_status::publisher_gone);
    EXPECT_EQ(w, wait_result::ready);
    EXPECT_FALSE(view->publisher_alive());
}

TEST(journal, publisher_is_process_follows_the_process_until_it_exits) {
    try {
        EXPECT_TRUE(publisher_is_process(::getpid())());
    } catch (const journal_error& e) {
        GTEST_SKIP() << "this kernel cannot watch a process through a pidfd: " << e.what();
    }
    EXPECT_THROW((void)publisher_is_process(0), config_error);
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(go[1]);
        char c = 0;
        (void)!::read(go[0], &c, 1);
        ::_exit(0);
    }
    const auto running = publisher_is_process(child);
    EXPECT_TRUE(running());
    ::close(go[1]);  // the child reads end of file and exits
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);  // exited, not reaped
    EXPECT_FALSE(running()) << "a zombie was taken for a running publisher";
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(go[0]);
    EXPECT_FALSE(running());
    EXPECT_FALSE(publisher_is_process(child)()) << "a pid with no process behind it";
}

TEST(journal, attach_refuses_a_misaligned_region) {
    journal_t j({4096, 4});
    std::vector<std::byte> shifted(j.region_bytes() + 8);
    std::memcpy(shifted.data() + 1, j.region_data(), j.region_bytes());
    try {
        (void)journal_t::attach(shifted.data() + 1, j.region_bytes());
        ADD_FAILURE() << "a misaligned region was attached";
    } catch (const journal_error& e) {
        EXPECT_EQ(e.code(), journal_errc::misaligned) << e.what();
    }
}

TEST(journal, recreating_a_file_leaves_its_readers_the_old_one) {
    const std::string path = temp_path("recreate");
    std::unique_ptr<journal_t> reader;
    {
        auto w = journal_t::create_file(path, {4096, 8});
        w->append(payload_of(0, 24));
        reader = journal_t::open_file(path, journal_open::read_only);
    }
    auto sub = reader->subscribe_oldest();
    auto replacement = journal_t::create_file(path, {4096, 2});  // smaller: the old mapping must survive
    EXPECT_EQ(drain(sub, reader->max_payload()), std::vector<std::uint64_t>{0});
    EXPECT_FALSE(reader->publisher_alive()) << "the old file has no publisher any more";
    EXPECT_THROW(journal_t::create_file(path, {4096, 2}), journal_error) << "a second creator";
    std::remove(path.c_str());
}

std::size_t open_descriptors() {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        n += entry.exists() ? 1 : 0;
    }
    return n;
}

// A journal that fails to build on its file (here: a wait configuration it refuses) leaves
// nothing behind: no descriptor, no mapping, no temporary file, no lock on the path.
TEST(journal, a_refused_configuration_leaves_no_file_or_descriptor) {
    using timed_t = journal<timeout_blocking_wait>;
    const std::string path = temp_path("refused");
    timeout_blocking_wait<>::config refused;
    refused.timeout_ns = 0;
    const std::size_t before = open_descriptors();
    EXPECT_THROW(timed_t::create_file(path, {4096, 4}, refused), config_error);
    EXPECT_EQ(open_descriptors(), before) << "create_file leaked a descriptor";
    EXPECT_FALSE(std::filesystem::exists(path + ".new." + std::to_string(::getpid())));
    timed_t::create_file(path, {4096, 4}).reset();  // the path is not locked
    EXPECT_THROW(timed_t::open_file(path, journal_open::append, refused), config_error);
    EXPECT_THROW(timed_t::open_file(path, journal_open::read_only, refused), config_error);
    EXPECT_EQ(open_descriptors(), before) << "open_file leaked a descriptor";
    timed_t::open_file(path, journal_open::append).reset();  // nor locked by a leaked publisher
    std::remove(path.c_str());
}

TEST(journal, tails_a_publisher_thread) {
    journal_t j({4096, 4});
    constexpr std::uint64_t total = 20'000;
    auto sub = j.subscribe_oldest();
    std::thread publisher([&] {
        for (std::uint64_t i = 0; i < total; ++i) {
            const auto p = payload_of(i, 8 + i % 200);
            j.append(p);
            if (i % 64 == 0) std::this_thread::yield();
        }
    });
    std::vector<std::byte> buf(j.max_payload());
    std::uint64_t next = 0, lost = 0;
    while (next < total) {
        wait_result w{};
        const read_result r = sub.wait(buf, w);
        if (r.status == read_status::overrun) {
            lost += r.lost_records;
            next += r.lost_records;
            continue;
        }
        ASSERT_EQ(r.status, read_status::record);
        ASSERT_EQ(r.record, next);
        ASSERT_EQ(std::memcmp(buf.data(), payload_of(next, 8 + next % 200).data(), r.length), 0)
            << "torn record";
        ++next;
    }
    publisher.join();
    EXPECT_EQ(sub.delivered() + lost, total);
}

}  // namespace
}  // namespace ringlab::scenarios
