// detail/journal_read.hpp: the subscriber's side of journal.hpp: the subscriber class, and
// the journal's walks that read a record (read_next), move an overrun subscriber on
// (overrun, settle), find a position's record sequence (locate) and count a segment's
// records for recovery (first_record_of_segment), and the copy of a payload out (copy_out).
//
// Threading contract, invariants (I1)..(I4) and the synchronisation edges [E1a], [E2a] and
// [E4a] these functions take part in: the header comment of journal.hpp, which
// includes this file after the class. A subscriber is used by one thread; any number of
// subscribers read while the one publisher appends.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "ringlab/journal.hpp"

namespace ringlab {

template <template <class> class Wait, class Sync>
class journal<Wait, Sync>::subscriber {
public:
    /// Copies the next record into `out`, or says why not. Skips padding and aborted
    /// records. An overrun moves the subscriber to where it resumes.
    read_result poll(std::span<std::byte> out) { return j_->read_next(*this, out.data(), out.size()); }
    read_result poll(void* out, std::size_t capacity) {
        return j_->read_next(*this, static_cast<std::byte*>(out), capacity);
    }

    /// poll() through the journal's wait strategy while it is empty. Returns the first
    /// non-empty result; `wait` says whether it came, or the wait was alerted/timed out.
    /// A journal this process does not publish (opened read-only, attached, a copy) gets
    /// no wake-up through its wait strategy: its waits park at most read_only_poll_ns at
    /// a time and poll again.
    read_result wait(std::span<std::byte> out, wait_result& wait, std::uint64_t timeout_ns = no_timeout) {
        read_result r = poll(out);
        if (r.status != read_status::empty) {
            wait = wait_result::ready;
            return r;
        }
        // A poll that walked over its quota of padding/aborted records made progress
        // without a record: poll on rather than park.
        auto poll_on = [&] {
            u64 before = 0;
            do {
                before = position_;
                r = poll(out);
            } while (r.status == read_status::empty && position_ != before);
        };
        auto ready = [&] {
            poll_on();
            if constexpr (!Sync::is_model) {
                // A publisher that died: say so instead of waiting for ever (one
                // liveness check per 256 empty polls). What it committed just before
                // it went is read first.
                if (r.status == read_status::empty && (++empty_polls_ & 255) == 0 && !j_->publisher_alive()) {
                    poll_on();
                    if (r.status == read_status::empty) r.status = read_status::publisher_gone;
                }
            }
            return r.status != read_status::empty;
        };
        if (j_->writable_) {
            wait = j_->wait_.wait_until(ready, timeout_ns);
            return r;
        }
        detail::deadline<Sync> limit(timeout_ns);
        for (;;) {
            const std::uint64_t left = limit.remaining_ns();  // no_timeout when unbounded
            if (left == 0) {
                wait = ready() ? wait_result::ready : wait_result::timed_out;
                return r;
            }
            wait = j_->wait_.wait_until(ready, std::min(read_only_poll_ns, left));
            if (wait != wait_result::timed_out) return r;
        }
    }

    [[nodiscard]] u64 position() const noexcept { return position_; }
    [[nodiscard]] u64 next_record() const noexcept { return record_; }
    [[nodiscard]] u64 delivered() const noexcept { return delivered_; }
    [[nodiscard]] u64 lost_records() const noexcept { return lost_records_; }

private:
    friend journal;
    subscriber(const journal* j, u64 position, u64 record) noexcept
        : j_(j), position_(position), record_(record) {}
    const journal* j_;
    u64 position_;
    u64 record_;
    u64 delivered_ = 0;
    u64 lost_records_ = 0;
    u64 empty_polls_ = 0;
};

/// The sequence of the record at `position` in segment `s` (into `record`), by walking
/// the segment from its start. Returns journal_errc::none on success, not_retained (the
/// slot holds another segment) or not_a_boundary.
template <template <class> class Wait, class Sync>
inline journal_errc journal<Wait, Sync>::locate(u64 s, u64 position, u64& out) const {
    const u64 index = index_of(s);
    // acquire: pairs with the take-over's lap store, so the slot's first-record number
    // read below is this lap's. replay() takes any position, not only one that came
    // through [E3a] (a live join) or a record read ([E1a]), which would order it already.
    // mo-justified: every position the suites replay from came through [E3a]/[E1a], which
    // order the take-over already; the acquire covers a caller's position from elsewhere.
    const u64 w = lap(index).load(at("journal.R7.locate_lap", mo::acquire));
    if (w != lap_ready(s)) return journal_errc::not_retained;
    u64 record = first_record_word(index).load(at("journal.R3.locate_first", mo::relaxed));
    // relaxed above: as the lap word; the [E2a] fence below validates it.
    u64 p = s * segment_length_;
    bool boundary = p == position;
    while (!boundary && p < position) {
        const u64 h = header(p).load(at("journal.R7.locate_header", mo::relaxed));
        const u64 len = journal_layout::header_length_of(h);
        if (journal_layout::header_tag_of(h) != journal_layout::tag_of(s) ||
            (h & journal_layout::flag_committed) == 0 ||
            offset_of(p) + journal_layout::record_length(len) > segment_length_) {
            break;
        }
        const bool skip = (h & (journal_layout::flag_padding | journal_layout::flag_aborted)) != 0;
        if (!skip || Sync::canary("journal.locate_counts_skips")) ++record;
        // The canary above is a planted bug: padding and aborted records take sequences.
        p += journal_layout::record_length(len);
        boundary = p == position;
    }
    Sync::fence(at("journal.E2a.locate_fence", mo::acquire));
    if (lap(index).load(at("journal.R2.locate_lap", mo::relaxed)) != w) return journal_errc::not_retained;
    // relaxed above: the [E2a] fence orders the walk before it.
    if (!boundary) return journal_errc::not_a_boundary;
    out = record;
    return journal_errc::none;
}

/// A subscriber at the start of segment `target` or, if that slot was reused
/// meanwhile, of the oldest segment after it that is still retained.
template <template <class> class Wait, class Sync>
inline typename journal<Wait, Sync>::subscriber journal<Wait, Sync>::start_in_segment(u64 target) const {
    u64 first = 0;
    const u64 s = settle(target, first);
    return subscriber(this, s * segment_length_, first);
}

/// Finds the oldest segment >= target whose slot still holds it and reads the sequence
/// of its first record (seqlock-validated). A slot being taken over, or one whose new
/// lap is not visible yet, is polled a bounded number of times; a region whose table
/// never settles (a corrupted or abandoned file) is inconsistent_table.
template <template <class> class Wait, class Sync>
inline std::uint64_t journal<Wait, Sync>::settle(u64 target, u64& first) const {
    constexpr u64 max_polls = 1024;
    for (u64 polls = 0; polls < max_polls; ++polls) {
        const u64 index = index_of(target);
        const u64 w = lap(index).load(at("journal.E4a.settle", mo::acquire));
        if (w == lap_ready(target)) {
            first = first_record_word(index).load(at("journal.R3.settle_first", mo::relaxed));
            // relaxed above: [E4a] made this lap's value visible; [E2a] validates it.
            Sync::fence(at("journal.E2a.settle_fence", mo::acquire));
            if (lap(index).load(at("journal.R2.settle_lap", mo::relaxed)) == w) return target;
            // relaxed above: the [E2a] fence orders the first_record read before it.
        } else if (w > lap_ready(target)) {
            ++target;  // reused for a newer segment: the next one is newer still
            continue;
        }
        Sync::pause();
    }
    throw journal_error(journal_errc::inconsistent_table,
                        "the slot of segment " + std::to_string(target) + " never holds it",
                        target * segment_length_);
}

/// The first record sequence of segment `s` (the slot's), for recovery from `p`.
template <template <class> class Wait, class Sync>
inline std::uint64_t journal<Wait, Sync>::first_record_of_segment(u64 s, u64 p) const {
    const u64 index = index_of(s);
    if (lap(index).load(at("journal.R5.recover_lap", mo::relaxed)) != lap_ready(s)) {
        throw journal_error(journal_errc::inconsistent_table, "the published segment's slot holds another",
                            p);
    }
    u64 record = first_record_word(index).load(at("journal.R3.recover_first", mo::relaxed));
    // relaxed above: recovery runs with no publisher alive; [E4a] ordered it.
    u64 q = s * segment_length_;
    while (q < p) {
        const u64 h = header(q).load(at("journal.R5.recover_count", mo::relaxed));
        const u64 len = journal_layout::header_length_of(h);
        if ((h & journal_layout::flag_committed) == 0 ||
            journal_layout::header_tag_of(h) != journal_layout::tag_of(s) ||
            offset_of(q) + journal_layout::record_length(len) > segment_length_) {
            throw journal_error(journal_errc::inconsistent_table,
                                "an uncommitted record before the published position", q);
        }
        if ((h & (journal_layout::flag_padding | journal_layout::flag_aborted)) == 0) ++record;
        q += journal_layout::record_length(len);
    }
    if (q != p) {
        throw journal_error(
            journal_errc::bad_published_position,
            "the published position falls inside a record (it ends at " + std::to_string(q) + ")", p);
    }
    return record;
}

template <template <class> class Wait, class Sync>
inline read_result journal<Wait, Sync>::corrupt(const subscriber& sub, journal_errc e) const {
    read_result r;
    r.status = read_status::corrupt;
    r.position = sub.position_;
    r.error = e;
    return r;
}

/// The subscriber's slot was reused: move it on and say what it lost. It resumes one
/// segment past the oldest retained one (with two segments: at the publisher's
/// segment), because the oldest is the slot the publisher takes over next: a subscriber
/// that lost the race once would lose it again there at once, and lose more.
template <template <class> class Wait, class Sync>
inline read_result journal<Wait, Sync>::overrun(subscriber& sub) const {
    const u64 published = published_.load(at("journal.R6.overrun", mo::relaxed));
    // relaxed above: a stale position only makes the resume target older; settle()
    // moves past every slot that was reused meanwhile.
    const u64 s = segment_of(sub.position_);
    const u64 current = segment_of(published);
    u64 target = current >= segment_count_ - 2 ? current - (segment_count_ - 2) : 0;
    target = std::max(target, s + 1);
    u64 first = 0;
    try {
        target = settle(target, first);
    } catch (const journal_error& e) {
        return corrupt(sub, e.code());
    }
    if (first < sub.record_) return corrupt(sub, journal_errc::inconsistent_table);
    read_result r;
    r.status = read_status::overrun;
    r.position = sub.position_;
    r.resume_position = target * segment_length_;
    r.lost_bytes = r.resume_position - sub.position_;
    r.lost_records = first - sub.record_;
    if (Sync::canary("journal.overrun_undercounts")) r.lost_records -= r.lost_records > 0 ? 1 : 0;
    // The canary above is a planted bug: one lost record goes unreported.
    sub.position_ = r.resume_position;
    sub.record_ = first;
    sub.lost_records_ += r.lost_records;
    return r;
}

/// Is the slot of segment `s` still this lap? Called after the [E2a] fence.
template <template <class> class Wait, class Sync>
inline bool journal<Wait, Sync>::still_ours(u64 s) const {
    if (Sync::canary("journal.skip_lap_validation")) return true;
    // The canary above is a planted bug: a torn copy of a reused slot is delivered.
    return lap(index_of(s)).load(at("journal.R2.validate_lap", mo::relaxed)) == lap_ready(s);
    // relaxed above: the [E2a] fence before the call orders the copy before it.
}

template <template <class> class Wait, class Sync>
inline read_result journal<Wait, Sync>::read_next(subscriber& sub, std::byte* out,
                                                  std::size_t capacity) const {
    // What poll() says about the position `p`: a record (of `len` bytes), or why not.
    auto result = [&sub](read_status status, u64 p, u64 len = 0) {
        read_result r;
        r.status = status;
        r.position = p;
        r.record = sub.record_;
        r.length = static_cast<std::uint32_t>(len);
        return r;
    };
    for (unsigned skips = 0; skips < max_skips; ++skips) {
        const u64 p = sub.position_;
        const u64 s = segment_of(p);
        const u64 h = header(p).load(at("journal.E1a.poll", mo::acquire));
        if (journal_layout::header_tag_of(h) != journal_layout::tag_of(s) ||
            (h & journal_layout::flag_committed) == 0) {
            const u64 w = lap(index_of(s)).load(at("journal.R1.empty_lap", mo::relaxed));
            // relaxed above: it only tells "not yet" from "overwritten"; the resume
            // re-reads what it needs with acquire.
            if (w > lap_ready(s)) return overrun(sub);
            return result(read_status::empty, p);
        }
        const u64 len = journal_layout::header_length_of(h);
        const u64 end = offset_of(p) + journal_layout::record_length(len);
        if (Sync::canary("journal.length_before_bounds") && len > capacity) {
            // Planted bug: a corrupt length is reported as a record too large for the buffer.
            return result(read_status::buffer_too_small, p, len);
        }
        const bool past = end > segment_length_;
        const bool broken = past || bad_flags(h, end);
        const journal_errc bad = past ? journal_errc::record_past_segment : journal_errc::bad_flags;
        if (broken || (h & (journal_layout::flag_padding | journal_layout::flag_aborted)) != 0) {
            // mo-justified: guards against payload of a newer lap that mimics a committed
            // header of this lap (the DST workload writes such payloads and its
            // no_clear_next canary shows the hazard); a Relacy-sized model never forms it.
            Sync::fence(at("journal.E2a.skip_fence", mo::acquire));
            if (!still_ours(s)) return overrun(sub);
            if (broken) return corrupt(sub, bad);
            sub.position_ = (h & journal_layout::flag_padding) != 0 ? (s + 1) * segment_length_
                                                                    : p + journal_layout::record_length(len);
            continue;
        }
        if (len > capacity) return result(read_status::buffer_too_small, p, len);
        copy_out(word_of(p) + 1, out, len);
        Sync::fence(at("journal.E2a.poll_fence", mo::acquire));
        if (!still_ours(s)) return overrun(sub);
        const read_result r = result(read_status::record, p, len);
        sub.position_ = p + journal_layout::record_length(len);
        ++sub.record_;
        ++sub.delivered_;
        return r;
    }
    return result(read_status::empty, sub.position_);  // many skips in a row: the next poll goes on
}

/// Reads payload bytes from word `w` on: memcpy natively, relaxed word loads under the
/// checking backends and ThreadSanitizer. The copy may race with a publisher reusing
/// the slot; the caller validates the lap word after it ([E2a]) before using the bytes.
template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::copy_out(std::size_t w, void* dst, std::size_t bytes) const {
    if constexpr (!word_copies) {
        if (bytes != 0) std::memcpy(dst, bytes_at(w), bytes);  // dst may be null then
    } else {
        auto* to = static_cast<unsigned char*>(dst);
        for (std::size_t done = 0; done < bytes; done += 8) {
            const u64 v = words_[w + done / 8].load(at("journal.R4.payload", mo::relaxed));
            // relaxed above: ordered by [E1a] before and the [E2a] fence after.
            std::memcpy(to + done, &v, std::min<std::size_t>(8, bytes - done));
        }
    }
}

}  // namespace ringlab
