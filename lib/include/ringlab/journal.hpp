// journal.hpp: an append-only log of variable-length records in a bounded region of
// fixed-size segments, with two-phase commit, tailing, replay from any retained position,
// late joiners, overrun detection and a file-backed (mmap) capture mode. The layout (and
// the file format) is in journal_layout.hpp; the values the journal takes and returns in
// journal_types.hpp; the publisher's internals (slot take-over, padding, commit, clearing
// ahead) in detail/journal_publish.hpp; opening a file or region, checking it and
// recovering after a dead publisher in detail/journal_open.hpp; the subscriber's side (the
// subscriber class, reading, overrun, locating a position) in detail/journal_read.hpp.
//
// Threading contract: ONE publisher thread (or process) at a time and any number of
// subscribers, each used by one thread. Many publishers are not supported: the publisher's
// position is private, so two publishers would claim the same bytes. Serialise them
// outside (a mutex around claim..commit), or give each its own journal. In file mode
// open_file(append) takes the publisher's lock (an open-file-description lock), so a second publisher process
// gets journal_errc::locked; the kernel drops the lock when the holder dies, which is what lets a successor
// recover.
//
// Progress: the publisher is wait-free: it never waits for a subscriber (there is no
// back-pressure: storage is bounded and the oldest segment is overwritten). try-style
// subscriber calls (poll) are wait-free; wait() loops over poll through the wait strategy.
//
// Algorithm. A record is an 8-byte header (payload length, flags, lap tag) and a payload
// padded to 8 bytes. Publication is two-phase: claim writes the header without
// `committed` ([P2], a reservation), the payload is written, and commit stores the header
// with `committed` ([E1], release). append() is the same commit without the reservation:
// it writes the payload behind a header that still reads as empty, then stores the header
// once (a caught-up subscriber polling that header sees one store per record, not two).
// A record that does not fit the rest of a segment is preceded by a padding record, and
// the publisher moves to the next segment, whose slot it takes over first ([P1]..[E4]).
// Before committing a record, the publisher clears the header word just after it ([P3]),
// so a subscriber that follows the commit never takes stale payload bytes of an earlier
// lap for a header. After a small record whose next header it stored, it zeroes the next
// 16 KiB of the segment at once (clear_ahead), and the records that land there need no
// clearing of their own (unless a dropped claim wrote there). The first header of a
// segment needs no clearing: offset 0 is a record boundary in every lap, so it holds a
// real header whose tag names its lap.
//
// Overrun. Segments are reused: segment number s lives in slot s % segment_count. Each
// slot has a lap word (a seqlock): 2s+1 while the publisher takes the slot over for
// segment s, 2s+2 once it holds it. A subscriber copies a record out, then re-reads the
// lap word of its slot after an acquire fence ([E2a]); if the publisher has started
// reusing the slot, the copy may be torn and the subscriber reports an overrun instead of
// the record. It then resumes one segment past the oldest one still retained (the oldest
// is the next to be overwritten) and is told how many bytes and records it lost (each slot also records the
// sequence of its first record). It never delivers torn or uncommitted data.
//
// Invariants:
//   (I1) published_position <= the publisher's position; everything before it is committed.
//   (I2) a header a subscriber can reach (a segment start, or just after a committed
//        record) is zero, a reservation, or a committed header of its lap.
//   (I3) the lap word of a slot only grows; a subscriber of segment s delivers a record
//        only if the lap word read after its copy is still 2s+2.
//   (I4) record sequences count committed data records only (not padding, not aborted).
//
// Synchronisation edges:
//   [E1]  release  commit stores the header          -> [E1a] acquire in poll: the payload
//                                                       and the cleared next header ([P3])
//                                                       are visible
//   [E2]  release fence after the lap word goes odd  -> [E2a] acquire fence (poll, skip,
//                                                       settle, locate) before the lap word
//                                                       is read again: a copy that saw any
//                                                       byte of the new lap sees the lap
//                                                       change (seqlock)
//   [E3]  release  published_position store         -> [E3a] acquire in subscribe_live: the
//                                                       records before it and their slot's
//                                                       take-over are visible to the walk
//   [E4]  release  the lap word goes even            -> [E4a] acquire in settle (oldest
//                                                       join, overrun resume): the slot's
//                                                       first_record is this lap's
//   Relaxed sites say why at the site; [P1]..[P6] are the publisher's relaxed stores, the
//   R-labelled ones are loads ordered by one of the edges above or done on a quiescent
//   region.
//   The wait strategy's own edges order sleeping and waking.
//
// Recovery after a publisher died (kill -9, or a crash): a successor calls recover() (file
// mode: open_file(append) does it under the publisher lock). It walks forward from the published
// position over committed records to the first header that is not committed. If that is a
// reservation (the claim the dead publisher was writing), it clears the header after it
// and commits it as `aborted`: subscribers skip it, and it takes no record sequence. The
// successor then publishes from there (from the uncommitted header itself when it is not a
// reservation: an append that died left nothing a subscriber could have seen). A
// reservation is all-or-nothing (one atomic store), so recovery never meets half a header.
//
// File mode is for capture and replay across processes. Subscribers in another process
// poll (the wait strategy's wake-ups reach only this process). Bad input (wrong magic,
// version, size, a length past its segment, unknown flags) is a journal_error with a code
// or a `corrupt` read result, never a crash.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "ringlab/detail/journal_file.hpp"
#include "ringlab/journal_error.hpp"
#include "ringlab/journal_layout.hpp"
#include "ringlab/journal_types.hpp"
#include "ringlab/platform.hpp"
#include "ringlab/sync/native.hpp"
#include "ringlab/wait_strategy.hpp"

// A subscriber's copy may race with a publisher reusing the slot (the seqlock then discards
// it). Natively the copy is a memcpy, which is what relaxed word loads compile to; under
// ThreadSanitizer it is relaxed word loads, which the sanitizer can see are atomic.
#if defined(__SANITIZE_THREAD__)
#define RINGLAB_JOURNAL_WORD_COPIES 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RINGLAB_JOURNAL_WORD_COPIES 1
#endif
#endif
#ifndef RINGLAB_JOURNAL_WORD_COPIES
#define RINGLAB_JOURNAL_WORD_COPIES 0
#endif

namespace ringlab {

template <template <class> class Wait = busy_spin_wait, class Sync = sync::native>
class journal {
    template <class U>
    using atomic = typename Sync::template atomic<U>;
    using word = atomic<std::uint64_t>;
    using u64 = std::uint64_t;

public:
    using wait_type = Wait<Sync>;
    using sync_type = Sync;
    /// A reader of the journal, used by one thread: poll() and wait() (detail/journal_read.hpp).
    class subscriber;

    struct counters {
        u64 records = 0;    // committed data records
        u64 aborted = 0;    // aborted claims (and recovered reservations)
        u64 padding = 0;    // segment ends filled with padding
        u64 rollovers = 0;  // slots taken over for a new segment
    };

    /// A reservation: write the payload (write(), or data() with the native backend), then
    /// commit() or abort() it, before the next claim.
    class claim {
    public:
        [[nodiscard]] u64 position() const noexcept { return position_; }
        [[nodiscard]] std::uint32_t size() const noexcept { return length_; }
        /// Copies `bytes` bytes to the payload, `offset` bytes from its start.
        void write(std::size_t offset, const void* src, std::size_t bytes) {
            if (offset > length_ || bytes > length_ - offset) [[unlikely]] {
                throw journal_error(journal_errc::payload_too_long,
                                    "claim::write of " + std::to_string(bytes) + " bytes at offset " +
                                        std::to_string(offset) + " into a " + std::to_string(length_) +
                                        "-byte record");
            }
            owner_->copy_in(payload_word_ + offset / journal_layout::word_length, offset % 8, src, bytes);
        }
        /// Zero-copy access to the payload bytes (native backend only).
        [[nodiscard]] std::byte* data() const noexcept requires(!Sync::is_model) {
            return owner_->bytes_at(payload_word_);
        }

    private:
        friend journal;
        claim(journal* owner, u64 position, std::uint32_t length, std::size_t payload_word) noexcept
            : owner_(owner), position_(position), length_(length), payload_word_(payload_word) {}
        journal* owner_;
        u64 position_;
        std::uint32_t length_;
        std::size_t payload_word_;
    };

    /// A process-local journal: zeroed memory, this object is its publisher.
    explicit journal(journal_config cfg, typename wait_type::config wait_cfg = {})
        : journal(validated(cfg), wait_cfg, nullptr, -1, true) {
        format();
    }

    journal(const journal&) = delete;
    journal& operator=(const journal&) = delete;
    ~journal() { release_storage(); }

    /// Creates (or replaces) the file at `path` as an empty journal and maps it; the caller
    /// is its publisher (holding the file's publisher lock). The new journal is built under
    /// a temporary name and renamed over `path`: a reader of the file it replaces keeps
    /// that file (and finds its publisher gone), never a file that shrank under its mapping.
    /// The space is allocated up front, so a full disk is an io_error here, not a SIGBUS later.
    static std::unique_ptr<journal> create_file(
        const std::string& path, journal_config cfg,
        typename wait_type::config wait_cfg = {}) requires(!Sync::is_model);

    /// True while a publisher holds the file (another process, or this one); always true
    /// for a process-local journal; for an attached region, what its liveness check says
    /// (true without one). A read-only subscriber whose file has no publisher will see
    /// nothing more until one recovers it (open_file(append)).
    [[nodiscard]] bool publisher_alive() const requires(!Sync::is_model) {
        if (copy_) return false;  // from_bytes: a copy nobody appends to
        if (attached_liveness_) return attached_liveness_();
        if (fd_ < 0 || writable_) return true;
        return detail::journal_publisher_locked(fd_);  // true when it cannot tell
    }

    /// Maps an existing journal file. read_only: for subscribers, another process may be
    /// appending. append: takes the publisher's lock and recovers (see the header comment).
    static std::unique_ptr<journal> open_file(
        const std::string& path, journal_open mode,
        typename wait_type::config wait_cfg = {}) requires(!Sync::is_model);

    /// A read-only view of a journal region someone else owns (`base` stays valid and
    /// 8-byte aligned while the view lives). Validates like open_file. Whether the owner is
    /// still publishing cannot be told from the region: `liveness` says it (for another
    /// process, publisher_is_process(pid)). A subscriber's wait() on an empty journal then
    /// asks it, as for a file, and returns publisher_gone once it says no; subscribers on
    /// several threads may ask at once, so it must be thread-safe. Without it, the owner
    /// counts as alive: bound subscriber::wait() with a timeout.
    static std::unique_ptr<journal> attach(const void* base, std::size_t bytes,
                                           std::function<bool()> liveness = {}) requires(!Sync::is_model);

    /// A read-only copy of a journal region held in `bytes` (a capture read into memory),
    /// validated like open_file. Works with every backend, so the checkers can read captures.
    static std::unique_ptr<journal> from_bytes(const void* bytes, std::size_t length);

    // ---- geometry -----------------------------------------------------------------------
    [[nodiscard]] u64 segment_length() const noexcept { return segment_length_; }
    [[nodiscard]] u64 segment_count() const noexcept { return segment_count_; }
    [[nodiscard]] u64 max_payload() const noexcept {
        return segment_length_ - journal_layout::record_header_length;
    }
    [[nodiscard]] std::size_t region_bytes() const noexcept {
        return words_count_ * journal_layout::word_length;
    }
    /// The region's bytes (native backend): what a capture file holds.
    [[nodiscard]] const std::byte* region_data() const noexcept requires(!Sync::is_model) {
        return bytes_at(0);
    }

    // ---- publisher ----------------------------------------------------------------------

    /// Reserves a record of `length` payload bytes ([P2]). Throws payload_too_long.
    [[nodiscard]] claim try_claim(std::uint32_t length) {
        const u64 need = journal_layout::record_length(length);
        const bool fits = offset_of(position_) + need <= segment_length_;
        if (!fits || length > max_payload() || !writable_) [[unlikely]] make_room(length);
        // A claim dropped without commit() or abort() leaves its payload where the next
        // records go: their headers there are stored, not taken as cleared (publish()).
        if (!Sync::canary("journal.dropped_claim_trusts_clear_ahead")) {
            // The canary above is a planted bug: a shorter record after a dropped longer claim
            // takes the dropped payload for a cleared header.
            claimed_to_ = std::max(claimed_to_, position_ + need);
        }
        const u64 segment = segment_of(position_);
        header(position_).store(journal_layout::make_header(length, 0, segment),
                                at("journal.P2.reserve", mo::relaxed));
        // relaxed above: a reservation publishes nothing; readers treat it as not yet there.
        return claim(this, position_, length, word_of(position_) + 1);
    }

    /// Publishes `c` ([E1]) and moves past it.
    void commit(const claim& c) { finish(c, journal_layout::flag_committed); }
    /// Gives `c` up: subscribers skip it, it takes no record sequence.
    void abort(const claim& c) { finish(c, journal_layout::flag_committed | journal_layout::flag_aborted); }

    /// Copies `length` bytes into a new record and commits it. Returns the record's
    /// position. The record is written whole before its one header store ([E1]): append
    /// leaves no reservation, so a publisher that dies inside it leaves nothing to skip.
    u64 append(const void* payload, std::uint32_t length) {
        const u64 p = position_;
        const u64 next = p + journal_layout::record_length(length);
        // The fast path: a record that fits its segment with room after it. A full segment,
        // a record too long and a read-only journal go the claim's way.
        if (offset_of(next) <= offset_of(p) || length > max_payload() || !writable_) [[unlikely]] {
            return append_across(payload, length);
        }
        const u64 h = journal_layout::make_header(length, journal_layout::flag_committed, segment_of(p));
        if (Sync::canary("journal.append_commits_early")) {
            // The canary above is a planted bug: the header is committed before the payload.
            header(p).store(h, at("journal.E1.canary", mo::relaxed));
            // relaxed above: only a planted bug uses it.
        }
        copy_in(word_of(p) + 1, 0, payload, length);
        publish(p, next, h, true);
        return p;
    }
    u64 append(std::span<const std::byte> payload) {
        if (payload.size() > max_payload()) [[unlikely]] {
            throw journal_error(journal_errc::payload_too_long,
                                "a payload of " + std::to_string(payload.size()) + " bytes (the most is " +
                                    std::to_string(max_payload()) + ")");
        }
        return append(payload.data(), static_cast<std::uint32_t>(payload.size()));
    }

    /// Takes over as publisher after the previous one died (see the header comment).
    journal_recovery recover();

    [[nodiscard]] u64 position() const noexcept { return position_; }
    [[nodiscard]] u64 next_record() const noexcept { return record_count_; }
    [[nodiscard]] counters stats() const noexcept {
        return counters{records_.get(), aborted_.get(), padding_.get(), rollovers_.get()};
    }

    // ---- subscribers --------------------------------------------------------------------

    /// A subscriber at the oldest retained record (a late joiner that wants history).
    [[nodiscard]] subscriber subscribe_oldest() const {
        const u64 published = published_.load(at("journal.R6.oldest", mo::relaxed));
        // relaxed above: a stale position only makes the start older; settle() moves past
        // every slot that was reused meanwhile.
        const u64 current = segment_of(published);
        const u64 target = current >= segment_count_ - 1 ? current - (segment_count_ - 1) : 0;
        return start_in_segment(target);
    }

    /// A subscriber at the live end: it sees only records committed from now on.
    [[nodiscard]] subscriber subscribe_live() const {
        journal_errc error = journal_errc::not_retained;
        u64 published = 0;
        for (int attempt = 0; attempt < 64 && error == journal_errc::not_retained; ++attempt) {
            // A publisher that laps the segment while we walk it makes us try again.
            published = published_.load(at("journal.E3a.live", mo::acquire));
            u64 record = 0;
            error = locate(segment_of(published), published, record);
            if (error == journal_errc::none) return subscriber(this, published, record);
        }
        throw journal_error(error, "cannot join at the live end", published);
    }

    /// A subscriber at `position`, which must be the start of a retained record (or the
    /// published end). Throws not_retained or not_a_boundary.
    [[nodiscard]] subscriber replay(u64 position) const {
        u64 record = 0;
        const journal_errc error = locate(segment_of(position), position, record);
        if (error != journal_errc::none) {
            throw journal_error(error,
                                error == journal_errc::not_retained ? "the position is no longer retained"
                                                                    : "not the start of a record",
                                position);
        }
        return subscriber(this, position, record);
    }

    /// Wakes every waiting subscriber; their waits return `alerted` until clear_alert().
    void alert() noexcept { wait_.alert(); }
    void clear_alert() noexcept { wait_.clear_alert(); }

    // ---- inspection (journal dump, tests) -----------------------------------------------

    struct slot_info {
        u64 lap_word = 0;  // 2s+2: holds segment s; odd: being taken over; 0: never used
        u64 first_record = 0;
    };
    [[nodiscard]] slot_info slot(u64 index) const {
        return slot_info{lap(index).load(at("journal.inspect.lap", mo::relaxed)),
                         first_record_word(index).load(at("journal.inspect.first", mo::relaxed))};
        // relaxed above: inspection of a quiescent region (a capture file).
    }
    [[nodiscard]] u64 published_position() const {
        return published_.load(at("journal.R6.inspect", mo::relaxed));
        // relaxed above: inspection reports a value, it orders nothing.
    }
    /// The raw header word at byte `offset` of slot `index` (inspection of a quiescent region).
    [[nodiscard]] u64 raw_header(u64 index, u64 offset) const {
        return words_[segment_word(index) + offset / journal_layout::word_length].load(
            at("journal.inspect.header", mo::relaxed));
        // relaxed above: inspection of a quiescent region.
    }
    /// Copies `bytes` bytes of payload at byte `offset` of slot `index` (inspection).
    void raw_payload(u64 index, u64 offset, void* out, std::size_t bytes) const {
        copy_out(segment_word(index) + offset / journal_layout::word_length, out, bytes);
    }

    /// How long a wait on a journal this process does not publish parks before it polls.
    static constexpr std::uint64_t read_only_poll_ns = 1'000'000;

private:
    friend class subscriber;
    static constexpr u64 lap_writing(u64 segment) noexcept { return 2 * segment + 1; }
    static constexpr u64 lap_ready(u64 segment) noexcept { return 2 * segment + 2; }
    static constexpr unsigned max_skips = 64;  // padding/aborted records one poll walks over
    /// How far clear_ahead() zeroes past the line of the next header, and after records of
    /// at most how many log bytes (header and alignment included) it runs. Measured with the
    /// journal tail and append rows (reports/METHODOLOGY.md).
    static constexpr u64 clear_ahead_bytes = 16384;
    static constexpr u64 clear_ahead_max_record = 128;

    /// Unknown flag bits, or padding that does not end its segment (a header ending at `end`).
    [[nodiscard]] bool bad_flags(u64 h, u64 end) const noexcept {
        return (h & journal_layout::flags_mask & ~journal_layout::known_flags) != 0 ||
               ((h & journal_layout::flag_padding) != 0 && end != segment_length_);
    }

    journal(const journal_config& g, typename wait_type::config wait_cfg, void* mapped, int fd, bool writable)
        : segment_length_(g.segment_length),
          segment_count_(g.segment_count),
          segment_shift_(static_cast<unsigned>(__builtin_ctzll(g.segment_length))),
          words_count_(journal_layout::total_length(g.segment_length, g.segment_count) /
                       journal_layout::word_length),
          segments_bytes_(journal_layout::segments_offset(g.segment_count)),
          ring_mask_(g.segment_length * g.segment_count - 1),
          fd_(fd),
          writable_(writable),
          wait_(wait_cfg) {
        if constexpr (Sync::is_model) {
            (void)mapped;
            storage_ = std::make_unique<word[]>(words_count_);
            words_ = storage_.get();
        } else {
            static_assert(sizeof(word) == journal_layout::word_length,
                          "A native seam atomic of a word is the word itself, so a file maps onto it.");
            if (mapped == nullptr) {
                const std::size_t bytes = words_count_ * journal_layout::word_length;
                mapped = detail::map_journal(-1, bytes, true, "(anonymous)");
            }
            words_ = static_cast<word*>(mapped);
            mapped_bytes_ = words_count_ * journal_layout::word_length;
            owns_mapping_ = true;
        }
        published_word_ = &words_[journal_layout::published_position_offset / journal_layout::word_length];
    }

    // ---- storage ------------------------------------------------------------------------

    void release_storage() noexcept {
        if constexpr (!Sync::is_model) {
            if (owns_mapping_ && words_ != nullptr) ::munmap(words_, mapped_bytes_);
            if (fd_ >= 0) ::close(fd_);
        }
    }

    [[nodiscard]] std::byte* bytes_at(std::size_t word_index) const noexcept requires(!Sync::is_model) {
        return reinterpret_cast<std::byte*>(words_) + word_index * journal_layout::word_length;
    }

    static constexpr bool word_copies = Sync::is_model || RINGLAB_JOURNAL_WORD_COPIES;

    /// Writes payload bytes from word `w` (plus `skew` bytes) on (detail/journal_publish.hpp).
    void copy_in(std::size_t w, std::size_t skew, const void* src, std::size_t bytes);
    /// Reads payload bytes from word `w` on (detail/journal_read.hpp). The copy may race with
    /// a publisher reusing the slot; the caller validates the lap word after it ([E2a]).
    void copy_out(std::size_t w, void* dst, std::size_t bytes) const;

    [[nodiscard]] u64 segment_of(u64 position) const noexcept { return position >> segment_shift_; }
    [[nodiscard]] u64 offset_of(u64 position) const noexcept { return position & (segment_length_ - 1); }
    [[nodiscard]] u64 index_of(u64 segment) const noexcept { return segment & (segment_count_ - 1); }
    /// The first word of slot `index`.
    [[nodiscard]] std::size_t segment_word(u64 index) const noexcept {
        return (segments_bytes_ + index * segment_length_) / journal_layout::word_length;
    }
    /// Slots are contiguous and their count is a power of two, so a position's word is its
    /// offset in the ring of slots.
    [[nodiscard]] std::size_t word_of(u64 position) const noexcept {
        return (segments_bytes_ + (position & ring_mask_)) / journal_layout::word_length;
    }
    [[nodiscard]] word& header(u64 position) const noexcept { return words_[word_of(position)]; }
    [[nodiscard]] word& lap(u64 index) const noexcept {
        return words_[(journal_layout::segment_entry_offset(index) + journal_layout::lap_offset) / 8];
    }
    [[nodiscard]] word& first_record_word(u64 index) const noexcept {
        return words_[(journal_layout::segment_entry_offset(index) + journal_layout::first_record_offset) /
                      8];
    }
    [[nodiscard]] word& field(std::size_t offset) const noexcept { return words_[offset / 8]; }

    // ---- validation ---------------------------------------------------------------------

    /// A geometry both powers of two and in range, or a bad_geometry journal_error.
    static journal_config validated(journal_config g);

    /// Checks a region header of `available` readable bytes in a region of `bytes` bytes.
    static journal_config check_header(const void* head, std::size_t available, std::size_t bytes);

    /// A mapped region's published position and segment table must agree.
    void check_table() const;

    /// A published position in a retained segment, on a record boundary's alignment, or a
    /// bad_published_position journal_error.
    void validate_published(u64 p) const;

    // ---- publisher internals (detail/journal_publish.hpp) -------------------------------

    void format();
    /// [P1]..[E4]: takes slot s % count over for segment s, whose first record is `first`.
    void take_slot(u64 segment, u64 first);
    void pad_segment();
    /// try_claim() of a record that does not fit the rest of the segment: pads it. Throws
    /// for a record that cannot be claimed at all.
    [[gnu::noinline]] void make_room(std::uint32_t length);
    /// append() of a record that takes a new segment (or throws): claim + copy + commit.
    [[gnu::noinline]] u64 append_across(const void* payload, std::uint32_t length);
    void finish(const claim& c, u64 flags);
    /// Commits the record at `p` with header `h` ([E1]) and moves to `next`.
    void publish(u64 p, u64 next, u64 h, bool data);
    /// Zeroes the log after the header word at `next` up to clear_ahead_bytes past the end
    /// of its cache line (never past its segment), so the headers of the next records read
    /// as empty without a store each ([P3]). publish() calls it after a small record whose
    /// next header it had to store, once the record is committed (the record is published
    /// first; the publisher's next call waits for it). Natively it is one memset, whose bulk
    /// stores take the lines from a subscriber that read them in the previous lap in one go,
    /// where small records would each wait for their line (reports/METHODOLOGY.md, "The
    /// journal's publisher clears ahead"); for large records the payload's own copy does
    /// that, and zeroing would double the bytes written.
    void clear_ahead(u64 next);

    // ---- subscriber internals (detail/journal_read.hpp) ---------------------------------

    /// The record sequence of a position in segment `s`, by walking the segment.
    journal_errc locate(u64 s, u64 position, u64& out) const;
    /// A subscriber at the start of the oldest retained segment from `target` on.
    subscriber start_in_segment(u64 target) const;
    /// The oldest segment from `target` on whose slot holds it, and its first record.
    u64 settle(u64 target, u64& first) const;
    /// The first record sequence of segment `s`, for recovery from `p`.
    u64 first_record_of_segment(u64 s, u64 p) const;
    read_result corrupt(const subscriber& sub, journal_errc e) const;
    /// Moves an overrun subscriber on and says what it lost.
    read_result overrun(subscriber& sub) const;
    /// Whether the slot of segment `s` is still this lap (after an [E2a] fence).
    bool still_ours(u64 s) const;
    /// subscriber::poll(): the next record, or why not.
    read_result read_next(subscriber& sub, std::byte* out, std::size_t capacity) const;

    // Read-only after construction.
    const u64 segment_length_;
    const u64 segment_count_;
    const unsigned segment_shift_;
    const std::size_t words_count_;
    const u64 segments_bytes_;  // where slot 0 starts in the region
    const u64 ring_mask_;       // a position's offset in the ring of slots
    word* words_ = nullptr;
    word* published_word_ = nullptr;
    std::unique_ptr<word[]> storage_;  // the checking backends' region
    int fd_ = -1;
    bool writable_ = true;
    bool owns_mapping_ = false;
    // What release_storage unmaps: the length mapped, whatever the header says.
    std::size_t mapped_bytes_ = 0;
    bool copy_ = false;  // from_bytes: no publisher will ever append
    std::function<bool()> attached_liveness_;  // attach(): whether the region's owner publishes

    // Publisher's line: private position and record sequence, statistics.
    alignas(false_sharing_bytes) u64 position_ = 0;
    u64 record_count_ = 0;
    // The log from the header after the last record to here was zeroed in this lap
    // (clear_ahead); at or below the position: nothing is known to be.
    u64 cleared_ = 0;
    u64 claimed_to_ = 0;  // the end of the furthest claim handed out (dropped ones included)
    typename Sync::counter records_;
    typename Sync::counter aborted_;
    typename Sync::counter padding_;
    typename Sync::counter rollovers_;

    alignas(false_sharing_bytes) mutable wait_type wait_;

    // The published position lives in the region (published_word_); this alias keeps the
    // call sites short.
    struct published_ref {
        word** w;
        [[nodiscard]] u64 load(sync::mo_site site) const { return (*w)->load(site); }
        void store(u64 v, sync::mo_site site) const { (*w)->store(v, site); }
    };
    published_ref published_{&published_word_};
};

}  // namespace ringlab

#include "ringlab/detail/journal_open.hpp"
#include "ringlab/detail/journal_publish.hpp"
#include "ringlab/detail/journal_read.hpp"
