// dst/workloads/journal.cpp: one publisher, a tailing subscriber that may be slow, and a
// late joiner, on a journal of 2-4 tiny segments, so that rollover and overrun happen in
// most runs; the fault injector may crash any thread, the publisher mid-record included.
//
//   publisher   appends records 0..items-1 of drawn sizes (0..24 bytes, unaligned ones too),
//               through claim/commit or append() (a drawn share: none, all, every other),
//               aborting a drawn share of claims first
//   restarter   joins the publisher; if it was crashed, recovers the journal (a dead
//               claim's reservation becomes a skip; a dead append left none), aborts a
//               claim of a drawn size (or none), and appends the rest
//   tail        a subscriber from the start, pausing `slow` steps after each record
//   late        joins after `late_pauses` steps at the oldest record or at the live end
//
// Every subscriber checks that each record it gets is the next one it expects (after
// adding what overruns reported lost) and carries that record's bytes, and that delivered
// plus lost equals what was appended. A record's second payload word looks like a committed
// header of the slot's next lap, so a reader that took stale payload for a header would
// deliver garbage; its third looks like a committed header of the record's own lap, what a
// successor that took a dead publisher's unpublished payload for cleared log would deliver
// (the property a_successor_clears_over_a_dead_append in scenarios/journal_props.cpp plants
// that bug and catches it; crashes land in that window too rarely for a seed bound here).
#include <algorithm>
#include <cstring>
#include <vector>

#include "dst/workload.hpp"
#include "dst/workloads/common.hpp"
#include "ringlab/journal.hpp"

namespace ringlab::dst {
namespace {

namespace layout = journal_layout;

struct shape {
    std::uint64_t segment_length;
    std::uint64_t segment_count;
    std::uint64_t salt;
};

std::uint32_t size_of(std::uint64_t record, const shape& g) {
    static constexpr std::uint32_t sizes[] = {0, 8, 16, 24, 5, 13, 21, 1};
    return sizes[(record * 5 + g.salt) % 8];
}

/// The bytes of `record` written at `position`.
std::vector<std::byte> bytes_of(std::uint64_t record, std::uint64_t position, const shape& g) {
    const std::uint32_t n = size_of(record, g);
    std::vector<std::uint64_t> words((n + 7) / 8);
    const std::uint64_t this_lap = position / g.segment_length;
    const std::uint64_t next_lap = this_lap + g.segment_count;
    for (std::size_t i = 0; i < words.size(); ++i) {
        words[i] =
            i == 0 ? record
                   : layout::make_header(8 * (i % 2), layout::flag_committed, i == 1 ? next_lap : this_lap);
    }
    std::vector<std::byte> out(n);
    if (n != 0) std::memcpy(out.data(), words.data(), n);
    return out;
}

struct publishing {
    std::uint64_t abort_one_in;   // 0: no aborted claims
    std::uint64_t append_one_in;  // 0: every record through claim/commit
};

template <class Journal>
void publish(run_context& ctx, Journal& j, const shape& g, std::uint64_t from, std::uint64_t to,
             const publishing& how) {
    for (std::uint64_t k = from; k < to; ++k) {
        if (how.abort_one_in != 0 && (k + g.salt) % how.abort_one_in == 0) {
            auto c = j.try_claim(8);
            const std::uint64_t junk = ~k;
            c.write(0, &junk, 8);
            j.abort(c);
        }
        if (how.append_one_in != 0 && (k + g.salt) % how.append_one_in == 0) {
            // append() pads to the next segment first when the record does not fit this one.
            const std::uint32_t n = size_of(k, g);
            std::uint64_t p = j.position();
            if (p % g.segment_length + layout::record_length(n) > g.segment_length) {
                p = (p / g.segment_length + 1) * g.segment_length;
            }
            const auto bytes = bytes_of(k, p, g);
            const std::uint64_t at = j.append(bytes.data(), n);
            ctx.check_that(at == p, [&] {
                return "append of record " + std::to_string(k) + " went to " + std::to_string(at) +
                       ", not " + std::to_string(p);
            });
            continue;
        }
        auto c = j.try_claim(size_of(k, g));
        const auto bytes = bytes_of(k, c.position(), g);
        if (!bytes.empty()) c.write(0, bytes.data(), bytes.size());
        j.commit(c);
    }
}

template <class Journal>
void read_all(run_context& ctx, typename Journal::subscriber& sub, const shape& g, std::uint64_t items,
              std::uint64_t slow, const char* who) {
    std::vector<std::byte> buf(32);
    std::uint64_t next = sub.next_record();
    std::uint64_t delivered = 0, lost = 0;
    const std::uint64_t start = next;
    while (next < items) {
        wait_result w{};
        const read_result r = sub.wait(buf, w);
        if (r.status == read_status::empty) continue;  // alerted or timed out: poll again
        ctx.check_that(r.status == read_status::record || r.status == read_status::overrun, [&] {
            return std::string(who) + ": " + to_string(r.status) + " at " + std::to_string(r.position);
        });
        if (r.status == read_status::overrun) {
            lost += r.lost_records;
            next += r.lost_records;
            ctx.check_that(next == sub.next_record(), [&] {
                return std::string(who) + ": overrun reported " + std::to_string(r.lost_records) +
                       " lost, but the subscriber resumed at record " + std::to_string(sub.next_record()) +
                       " instead of " + std::to_string(next);
            });
            continue;
        }
        ctx.check_that(r.record == next, [&] {
            return std::string(who) + ": got record " + std::to_string(r.record) + ", expected " +
                   std::to_string(next);
        });
        const auto want = bytes_of(r.record, r.position, g);
        ctx.check_that(r.length == want.size() &&
                           (want.empty() || std::memcmp(buf.data(), want.data(), want.size()) == 0),
                       [&] {
                           return std::string(who) + ": record " + std::to_string(r.record) + " at " +
                                  std::to_string(r.position) + " has the wrong bytes (torn or stale)";
                       });
        ++delivered;
        ++next;
        for (std::uint64_t i = 0; i < slow; ++i) sim::pause();
    }
    ctx.check_that(delivered + lost == items - start, [&] {
        return std::string(who) + ": delivered " + std::to_string(delivered) + " + lost " +
               std::to_string(lost) + " != appended " + std::to_string(items - start);
    });
}

template <template <class> class Wait>
void exercise(run_context& ctx) {
    using journal_t = journal<Wait, sim>;
    const shape g{ctx.knob_pick("segment_length", {64, 128}), ctx.knob_pick("segment_count", {2, 2, 4}),
                  ctx.knob("salt", 0, 7)};
    const std::uint64_t items = ctx.knob("items", 1, 24);
    const std::uint64_t abort_one_in = ctx.knob_pick("abort_one_in", {0, 0, 3, 5});
    const std::uint64_t slow = ctx.knob_pick("tail_slow_pauses", {0, 0, 5, 40});
    const std::uint64_t late_pauses = ctx.knob("late_pauses", 0, 200);
    const bool late_at_live = ctx.knob_flag("late_at_live", 1, 2);
    const publishing how{abort_one_in, ctx.knob_pick("append_one_in", {0, 1, 2})};
    // The successor's first claim, aborted: it lays its records out differently from the dead
    // publisher's, so that a header it must clear can fall on that publisher's payload.
    const std::uint32_t restart_skip = static_cast<std::uint32_t>(ctx.knob_pick("restart_skip", {0, 5, 16}));
    ctx.expect_steps(items * 120);
    ctx.allow_crashes();

    journal_t j(journal_config{g.segment_length, g.segment_count}, sim_wait_config<Wait>(ctx));
    auto tail = j.subscribe_oldest();

    const std::uint32_t publisher = ctx.spawn("publisher", [&] { publish(ctx, j, g, 0, items, how); });
    ctx.spawn("restarter", [&] {
        ctx.join(publisher);
        if (!ctx.crashed(publisher)) return;
        const journal_recovery rec = j.recover();
        ctx.check_that(rec.next_record <= items, [&] { return "recovery counted records nobody appended"; });
        if (restart_skip != 0) {
            auto c = j.try_claim(restart_skip);
            const std::uint64_t junk = ~std::uint64_t{0};
            c.write(0, &junk, std::min<std::size_t>(8, restart_skip));
            j.abort(c);
        }
        publish(ctx, j, g, rec.next_record, items, how);
    });
    ctx.spawn("tail", [&] { read_all<journal_t>(ctx, tail, g, items, slow, "tail"); });
    ctx.spawn("late", [&] {
        for (std::uint64_t i = 0; i < late_pauses; ++i) sim::pause();
        try {
            auto sub = late_at_live ? j.subscribe_live() : j.subscribe_oldest();
            read_all<journal_t>(ctx, sub, g, items, 0, late_at_live ? "late(live)" : "late(oldest)");
        } catch (const journal_error& e) {
            ctx.check_that(false, [&] { return std::string("late join failed: ") + e.what(); });
        }
    });
    if (!ctx.run()) return;
}

void workload(run_context& ctx) {
    with_wait_strategy(ctx, [&]<template <class> class Wait>() { exercise<Wait>(ctx); });
}

const register_workload registration{workload_spec{
    "journal",
    "1 publisher (crashable, recovered by a successor), a slow tail and a late joiner; rollover, overrun",
    &workload,
    {
        {canary_spec::kind::planted, "journal.skip_lap_validation",
         "a subscriber delivers a copy of a slot the publisher was reusing (torn data)"},
        {canary_spec::kind::planted, "journal.overrun_undercounts",
         "an overrun reports one lost record fewer than were lost"},
        {canary_spec::kind::planted, "journal.no_clear_next",
         "the header after a record is not cleared: stale payload of an earlier lap reads as a record"},
        {canary_spec::kind::planted, "journal.append_commits_early",
         "append() commits the header before it writes the payload: a subscriber reads stale bytes"},
        {canary_spec::kind::planted, "journal.recovery_leaves_reservation",
         "recovery leaves the dead publisher's reservation uncommitted: subscribers stall behind it"},
    },
    4000,
}};

}  // namespace
}  // namespace ringlab::dst
