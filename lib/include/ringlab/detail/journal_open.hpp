// detail/journal_open.hpp: how journal.hpp opens a region it did not format: a file
// (create_file, open_file), a region another process owns (attach), a copy (from_bytes);
// the checks of what it read (check_header, validated, check_table, validate_published:
// bad input is a journal_error with a code, never a crash); and recover(), with which a
// successor takes over after the publisher died.
//
// Threading contract, the file format and the recovery protocol: the header comment of
// journal.hpp (which includes this file after the class) and journal_layout.hpp. Opening
// and checking happen before the journal is shared; recover() runs with no publisher alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

#include "ringlab/journal.hpp"

namespace ringlab {

template <template <class> class Wait, class Sync>
inline std::unique_ptr<journal<Wait, Sync>> journal<Wait, Sync>::create_file(
    const std::string& path, journal_config cfg,
    typename wait_type::config wait_cfg) requires(!Sync::is_model) {
    const journal_config g = validated(cfg);
    const std::size_t bytes = journal_layout::total_length(g.segment_length, g.segment_count);
    detail::journal_file_creation file(path, bytes);
    std::unique_ptr<journal> j(new journal(g, wait_cfg, file.base(), file.fd(), true));
    file.hand_over();
    j->format();
    file.commit();
    return j;
}

template <template <class> class Wait, class Sync>
inline std::unique_ptr<journal<Wait, Sync>> journal<Wait, Sync>::open_file(
    const std::string& path, journal_open mode,
    typename wait_type::config wait_cfg) requires(!Sync::is_model) {
    const bool writable = mode == journal_open::append;
    detail::journal_file_head file = detail::open_journal_file(path, writable, journal_layout::header_length);
    journal_config g{};
    try {
        g = check_header(file.head.data(), file.head_read, file.bytes);
    } catch (...) {
        ::close(file.fd);
        throw;
    }
    void* base = detail::map_journal(file.fd, file.bytes, writable, path);
    std::unique_ptr<journal> j;
    try {
        j.reset(new journal(g, wait_cfg, base, file.fd, writable));
    } catch (...) {  // a wait configuration refused, or no memory: the journal owns nothing yet
        ::munmap(base, file.bytes);
        ::close(file.fd);
        throw;
    }
    j->mapped_bytes_ = file.bytes;
    j->check_table();
    if (writable) j->recover();
    return j;
}

template <template <class> class Wait, class Sync>
inline std::unique_ptr<journal<Wait, Sync>> journal<Wait, Sync>::attach(
    const void* base, std::size_t bytes, std::function<bool()> liveness) requires(!Sync::is_model) {
    if (reinterpret_cast<std::uintptr_t>(base) % journal_layout::word_length != 0) {
        throw journal_error(journal_errc::misaligned, "an attached region must start on an 8-byte boundary");
    }
    const journal_config g = check_header(base, bytes, bytes);
    std::unique_ptr<journal> j(new journal(g, {}, const_cast<void*>(base), -1, false));
    j->owns_mapping_ = false;
    j->attached_liveness_ = std::move(liveness);
    j->check_table();
    return j;
}

template <template <class> class Wait, class Sync>
inline std::unique_ptr<journal<Wait, Sync>> journal<Wait, Sync>::from_bytes(const void* bytes,
                                                                            std::size_t length) {
    const journal_config g = check_header(bytes, length, length);
    std::unique_ptr<journal> j(new journal(g, {}, nullptr, -1, false));
    j->copy_ = true;
    for (std::size_t i = 0; i < j->words_count_; ++i) {
        u64 v = 0;
        std::memcpy(&v, static_cast<const std::byte*>(bytes) + i * journal_layout::word_length, sizeof v);
        j->words_[i].store(v, at("journal.P6.from_bytes", mo::relaxed));
        // relaxed above: the copy is made before the journal is shared.
    }
    j->check_table();
    return j;
}

template <template <class> class Wait, class Sync>
inline journal_recovery journal<Wait, Sync>::recover() {
    if (!writable_) [[unlikely]] {
        throw journal_error(journal_errc::read_only, "recover() on a journal opened read-only");
    }
    journal_recovery out;
    // The dead publisher may have written past what it committed (a payload whose header it
    // never stored) into the log it had zeroed ahead: the successor clears as from scratch.
    if (!Sync::canary("journal.recovery_trusts_clear_ahead")) cleared_ = 0;
    // The canary above is a planted bug: the successor takes the dead publisher's payload
    // bytes for cleared headers.
    u64 p = published_.load(at("journal.R5.recover", mo::relaxed));
    // relaxed above and in the recovery walk: it runs after the previous publisher died,
    // ordered after it by the caller (the publisher lock after its exit, or a join).
    validate_published(p);
    u64 record = first_record_of_segment(segment_of(p), p);
    for (;;) {
        const u64 s = segment_of(p);
        if (offset_of(p) == 0 &&
            lap(index_of(s)).load(at("journal.R5.recover_slot", mo::relaxed)) != lap_ready(s)) {
            // The dead publisher died taking this slot over (or before): finish that.
            take_slot(s, record);
            break;
        }
        const u64 h = header(p).load(at("journal.R5.recover_header", mo::relaxed));
        if (journal_layout::header_tag_of(h) != journal_layout::tag_of(s)) break;
        const u64 len = journal_layout::header_length_of(h);
        const u64 end = offset_of(p) + journal_layout::record_length(len);
        if (end > segment_length_) {
            throw journal_error(journal_errc::record_past_segment, "recovery met a bad header", p);
        }
        // A header subscribers would call corrupt (read_next) stops the recovery, or
        // everything published after it would be out of their reach.
        if (bad_flags(h, end)) {
            throw journal_error(journal_errc::bad_flags, "recovery met a header with bad flags", p);
        }
        if ((h & journal_layout::flag_committed) == 0) {
            // The dead publisher's reservation: make it a committed skip.
            position_ = p;
            record_count_ = record;
            finish(claim(this, p, static_cast<std::uint32_t>(len), word_of(p) + 1),
                   journal_layout::flag_committed | journal_layout::flag_aborted);
            p = position_;
            ++out.aborted_reservations;
            if (Sync::canary("journal.recovery_leaves_reservation")) {
                // Planted bug: the reservation stays uncommitted, subscribers stall there.
                header(p - journal_layout::record_length(len))
                    .store(journal_layout::make_header(len, 0, s), at("journal.P2.canary", mo::relaxed));
                // relaxed above: only a planted bug uses it.
            }
            continue;
        }
        if ((h & journal_layout::flag_padding) != 0) {
            p = (s + 1) * segment_length_;
            continue;
        }
        if ((h & journal_layout::flag_aborted) == 0) ++record;
        p += journal_layout::record_length(len);
    }
    position_ = p;
    record_count_ = record;
    // mo-justified: the same edge as [E3] in finish(), whose mutant the late_join suite
    // kills; Relacy cannot crash a publisher, so no suite reaches recovery.
    published_.store(p, at("journal.E3.recover", mo::release));
    // The dead publisher may have died before it woke its waiters, or after it took a
    // waiter's request for a wake (blocking_wait) and before the wake: wake them all.
    if constexpr (requires { wait_.wake_all(); }) {
        wait_.wake_all();
    } else {
        wait_.signal();
    }
    out.position = p;
    out.next_record = record;
    return out;
}

template <template <class> class Wait, class Sync>
inline journal_config journal<Wait, Sync>::validated(journal_config g) {
    using namespace journal_layout;
    if (!is_power_of_two(g.segment_length) || g.segment_length < min_segment_length ||
        g.segment_length > max_segment_length) {
        throw journal_error(journal_errc::bad_geometry, "segment_length " + std::to_string(g.segment_length) +
                                                            " must be a power of two in [" +
                                                            std::to_string(min_segment_length) + ", " +
                                                            std::to_string(max_segment_length) + "]");
    }
    if (!is_power_of_two(g.segment_count) || g.segment_count < min_segment_count ||
        g.segment_count > max_segment_count) {
        throw journal_error(journal_errc::bad_geometry, "segment_count " + std::to_string(g.segment_count) +
                                                            " must be a power of two in [" +
                                                            std::to_string(min_segment_count) + ", " +
                                                            std::to_string(max_segment_count) + "]");
    }
    return g;
}

template <template <class> class Wait, class Sync>
inline journal_config journal<Wait, Sync>::check_header(const void* head, std::size_t available,
                                                        std::size_t bytes) {
    using namespace journal_layout;
    if (available < header_length || bytes < header_length) {
        throw journal_error(journal_errc::too_small, std::to_string(bytes) +
                                                         " bytes is shorter than a region header (" +
                                                         std::to_string(header_length) + ")");
    }
    auto field_at = [&](std::size_t offset) {
        u64 v = 0;
        std::memcpy(&v, static_cast<const std::byte*>(head) + offset, sizeof v);
        return v;
    };
    if (field_at(magic_offset) != magic)
        throw journal_error(journal_errc::bad_magic, "not a ringlab journal");
    const u64 vh = field_at(version_offset);
    if ((vh & 0xFFFF'FFFFULL) != version) {
        throw journal_error(journal_errc::bad_version, "format version " +
                                                           std::to_string(vh & 0xFFFF'FFFFULL) +
                                                           ", this reader knows " + std::to_string(version));
    }
    if ((vh >> 32) != header_length) {
        throw journal_error(journal_errc::bad_header_length, "header length " + std::to_string(vh >> 32));
    }
    const journal_config g = validated({field_at(segment_length_offset), field_at(segment_count_offset)});
    const u64 expected = total_length(g.segment_length, g.segment_count);
    const bool length_ok = bytes == expected || Sync::canary("journal.trusts_header_length");
    if (field_at(total_length_offset) != expected || !length_ok) {
        throw journal_error(journal_errc::size_mismatch,
                            "region is " + std::to_string(bytes) + " bytes, its header says " +
                                std::to_string(field_at(total_length_offset)) + " and its geometry needs " +
                                std::to_string(expected));
    }
    return g;
}

template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::check_table() const {
    const u64 p = published_.load(at("journal.R6.open", mo::relaxed));
    // relaxed above: a region is checked before it is shared, or as a quiescent file.
    validate_published(p);
}

template <template <class> class Wait, class Sync>
inline void journal<Wait, Sync>::validate_published(u64 p) const {
    const u64 s = segment_of(p);
    const u64 w = lap(index_of(s)).load(at("journal.R6.validate_lap", mo::relaxed));
    // relaxed above: the published position was read with acquire ([E3a]) or the
    // region is quiescent; taking the slot happened before publishing into it.
    if (w != lap_ready(s) || (p & (journal_layout::record_alignment - 1)) != 0) {
        throw journal_error(journal_errc::bad_published_position,
                            "published position " + std::to_string(p) + " is not in a retained segment", p);
    }
}
}  // namespace ringlab
