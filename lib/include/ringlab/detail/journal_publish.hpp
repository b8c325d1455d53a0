// detail/journal_publish.hpp: the publisher's side of journal.hpp behind try_claim, commit
// and append: formatting a region, taking a slot over for a new segment, padding a segment's
// end, copying a payload in ([P4]), committing a record ([E1]) and clearing the log ahead of
// the next ones ([P3]).
//
// Threading contract, invariants (I1)..(I4) and the synchronisation edges [P1]..[P6], [E1]..
// [E4] these functions take part in: the header comment of journal.hpp, which includes this
// file after the class. Only the one publisher calls them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "ringlab/journal.hpp"

namespace ringlab {

template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::format() {
    using namespace journal_layout;
    field(magic_offset).store(magic, at("journal.format.magic", mo::relaxed));
    field(version_offset)
        .store(version | (u64{header_length} << 32), at("journal.format.version", mo::relaxed));
    field(segment_length_offset).store(segment_length_, at("journal.format.segment_length", mo::relaxed));
    field(segment_count_offset).store(segment_count_, at("journal.format.segment_count", mo::relaxed));
    field(total_length_offset)
        .store(words_count_ * word_length, at("journal.format.total_length", mo::relaxed));
    // relaxed above: formatting happens before the journal is shared with anyone.
    take_slot(0, 0);
    published_.store(0, at("journal.P5.format", mo::relaxed));
}

template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::take_slot(u64 segment, u64 first) {
    const u64 index = index_of(segment);
    lap(index).store(lap_writing(segment), at("journal.P1.lap_writing", mo::relaxed));
    // relaxed above: [E2] orders it before the new lap's stores.
    Sync::fence(at("journal.E2.lap_fence", mo::release));
    first_record_word(index).store(first, at("journal.P1.first_record", mo::relaxed));
    // relaxed above: [E4] publishes it.
    lap(index).store(lap_ready(segment), at("journal.E4.lap_ready", mo::release));
    rollovers_.add();
}

template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::pad_segment() {
    const u64 p = position_;
    const u64 s = segment_of(p);
    const u64 rest = segment_length_ - offset_of(p);
    take_slot(s + 1, record_count_);
    header(p).store(
        journal_layout::make_header(rest - journal_layout::record_header_length,
                                    journal_layout::flag_committed | journal_layout::flag_padding, s),
        at("journal.E1.pad", mo::relaxed));
    // relaxed above: padding publishes no data. The next segment's first header is a
    // header of some lap (offset 0 is a record boundary in every lap) whose tag tells a
    // stale one from this lap's, so a reader that gets there early sees `empty`.
    padding_.add();
    position_ = (s + 1) * segment_length_;
}

template <template <class> class Wait, class Sync>
void journal<Wait, Sync>::make_room(std::uint32_t length) {
    if (length > max_payload() || !writable_) {
        throw journal_error(writable_ ? journal_errc::payload_too_long : journal_errc::read_only,
                            "a record of " + std::to_string(length) + " bytes (at most " +
                                std::to_string(max_payload()) + ")",
                            position_);
    }
    pad_segment();
}

template <template <class> class Wait, class Sync>
std::uint64_t journal<Wait, Sync>::append_across(const void* payload, std::uint32_t length) {
    const claim c = try_claim(length);
    copy_in(c.payload_word_, 0, payload, length);
    commit(c);
    return c.position_;
}

template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::finish(const claim& c, u64 flags) {
    if (c.owner_ != this || c.position_ != position_) [[unlikely]] {
        throw journal_error(journal_errc::not_a_boundary,
                            "commit/abort of a claim that is not the current one (finished already, or "
                            "of another journal)",
                            c.position_);
    }
    const u64 p = c.position_;
    const u64 s = segment_of(p);
    const u64 next = p + journal_layout::record_length(c.length_);
    const bool data = (flags & journal_layout::flag_aborted) == 0;
    if (offset_of(next) == 0) take_slot(s + 1, record_count_ + (data ? 1 : 0));
    publish(p, next, journal_layout::make_header(c.length_, flags, s), data);
}

template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::publish(u64 p, u64 next, u64 h, bool data) {
    // [P3] The header word after the record reads as empty when the commit publishes it:
    // a clear_ahead() of this lap zeroed it and nothing was written there since (next <
    // cleared_, past every claim handed out), or it is stored here.
    const bool clear = offset_of(next) != 0 && (next >= cleared_ || next < claimed_to_) &&
                       !Sync::canary("journal.no_clear_next");
    // The canary above is a planted bug: stale bytes after the record may read as a header.
    if (clear) {
        header(next).store(0, at("journal.P3.clear_next", mo::relaxed));
        // relaxed above: [E1] below publishes it.
    }
    header(p).store(h, at("journal.E1.commit", mo::release));
    if (data) {
        ++record_count_;
        records_.add();
    } else {
        aborted_.add();
    }
    position_ = next;
    published_.store(next, at("journal.E3.publish", mo::release));
    wait_.signal();
    if (clear && next - p <= clear_ahead_max_record) clear_ahead(next);
}

template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::clear_ahead(u64 next) {
    const u64 from = next + journal_layout::word_length;
    const u64 end = (segment_of(next) + 1) * segment_length_;
    const u64 to = std::min(
        (from + cache_line_bytes - 1) / cache_line_bytes * cache_line_bytes + clear_ahead_bytes, end);
    if (from >= to) return;
    if constexpr (!word_copies) {
        std::memset(bytes_at(word_of(from)), 0, to - from);
    } else {
        for (u64 q = from; q < to; q += journal_layout::word_length) {
            header(q).store(0, at("journal.P3.clear_ahead", mo::relaxed));
            // relaxed above: stale bytes of this slot's earlier lap; the commit of the
            // record each word ends ([E1]) publishes it.
        }
    }
    cleared_ = Sync::canary("journal.clear_ahead_marks_too_far") ? to + journal_layout::word_length : to;
    // The canary above is a planted bug: the header word at `to` is taken as cleared.
}

/// Writes payload bytes from word `w` (plus `skew` bytes) on. Relaxed word stores under
/// the checking backends and ThreadSanitizer (the commit orders them); memcpy natively,
/// which is what the relaxed stores compile to.
template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::copy_in(std::size_t w, std::size_t skew, const void* src,
                                         std::size_t bytes) {
    if constexpr (!word_copies) {
        if (bytes != 0) std::memcpy(bytes_at(w) + skew, src, bytes);  // src may be null then
    } else {
        const auto* from = static_cast<const unsigned char*>(src);
        std::size_t done = 0;
        while (done < bytes) {
            const std::size_t index = w + (skew + done) / 8;
            const std::size_t in_word = (skew + done) % 8;
            const std::size_t n = std::min<std::size_t>(8 - in_word, bytes - done);
            u64 v =
                in_word == 0 && n == 8 ? 0 : words_[index].load(at("journal.P4.payload_merge", mo::relaxed));
            // relaxed above: the publisher re-reads its own store.
            std::memcpy(reinterpret_cast<unsigned char*>(&v) + in_word, from + done, n);
            words_[index].store(v, at("journal.P4.payload", mo::relaxed));
            // relaxed above: payload words are published by the commit [E1].
            done += n;
        }
    }
}

}  // namespace ringlab
