// journal_layout.hpp: the memory and file layout of a journal region (constants and
// offsets, no behaviour). journal.hpp is the algorithm; this file is what a file on disk
// looks like, so that a capture can be read by another process or by `journal dump`.
//
// A region is a whole number of 8-byte little-endian words:
//
//   0                   32                  64
//   +-------------------+-------------------+  region header, header_length bytes
//   |               magic "RLJOURN1"        |  0    magic_offset
//   +-------------------+-------------------+
//   |      version      |   header_length   |  8    version_offset (version: low half)
//   +-------------------+-------------------+
//   |             segment_length            |  16   bytes per segment, a power of two
//   +---------------------------------------+
//   |             segment_count             |  24   a power of two, at least 2
//   +---------------------------------------+
//   |             total_length              |  32   the region's (the file's) size
//   +---------------------------------------+
//   |  ...                                  |  40..127 zero
//   +---------------------------------------+
//   |          published_position           |  128  where the next record starts, after
//   +---------------------------------------+       the last committed one (atomic)
//   |  ...                                  |  136..header_length zero
//   +=======================================+  segment table, at header_length
//   |    lap (segment number + 1; 0: never) |  per segment index i: the segment number the
//   +---------------------------------------+  slot holds, and the record sequence of its
//   |             first_record              |  first record; segment_table_entry_length
//   +---------------------------------------+  bytes each, segment_count entries
//   |  ...                                  |
//   +=======================================+  segments, at segments_offset
//   | segment 0: records, then padding      |  segment_count x segment_length bytes
//   | segment 1 ...                         |
//   +---------------------------------------+
//
// A record: an 8-byte header word, then the payload padded to a multiple of 8 bytes.
//
//   0                   32                  64
//   +-------------------+---------+---------+
//   |  payload_length   | flags   | tag     |  flags: bits 32..39, tag: bits 40..63
//   +-------------------+---------+---------+
//   |  payload ... (payload_length bytes, then 0-7 unused bytes to 8-byte alignment)
//
//   flags  committed (the record is complete: readers may read it), padding (fills the
//          rest of the segment; skipped), aborted (a claim given up, or the record a
//          crashed publisher left half written, turned into a skip by recovery)
//   tag    (segment number + 1) mod 2^24: tells a header written in this lap of the
//          segment from a stale one of an earlier lap at the same offset
//
// Positions are monotonic byte offsets into the unbounded log (segment number =
// position / segment_length; offset = position % segment_length); they never wrap. The
// region keeps the last segment_count segments of the log.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringlab::journal_layout {

/// "RLJOURN1" read as a little-endian word.
inline constexpr std::uint64_t magic = 0x314E52554F4A4C52ULL;
inline constexpr std::uint32_t version = 1;
inline constexpr std::size_t word_length = 8;

// ---- region header ----------------------------------------------------------------------
inline constexpr std::size_t magic_offset = 0;
inline constexpr std::size_t version_offset = 8;  // low 32 bits: version, high: header_length
inline constexpr std::size_t segment_length_offset = 16;
inline constexpr std::size_t segment_count_offset = 24;
inline constexpr std::size_t total_length_offset = 32;
/// The publisher's published position: on a line pair of its own, away from the fields
/// that are only read.
inline constexpr std::size_t published_position_offset = 128;
inline constexpr std::size_t header_length = 256;

// ---- segment table ----------------------------------------------------------------------
inline constexpr std::size_t segment_table_offset = header_length;
inline constexpr std::size_t lap_offset = 0;           // within an entry
inline constexpr std::size_t first_record_offset = 8;  // within an entry
inline constexpr std::size_t segment_table_entry_length = 16;

// ---- records ----------------------------------------------------------------------------
inline constexpr std::size_t record_header_length = 8;
inline constexpr std::size_t record_alignment = 8;
inline constexpr std::uint64_t length_mask = 0xFFFF'FFFFULL;
inline constexpr std::uint64_t flag_committed = std::uint64_t{1} << 32;
inline constexpr std::uint64_t flag_padding = std::uint64_t{1} << 33;
inline constexpr std::uint64_t flag_aborted = std::uint64_t{1} << 34;
inline constexpr std::uint64_t known_flags = flag_committed | flag_padding | flag_aborted;
inline constexpr std::uint64_t flags_mask = 0xFFULL << 32;
inline constexpr unsigned tag_shift = 40;
inline constexpr std::uint64_t tag_mask = 0xFF'FFFFULL;

// ---- geometry limits --------------------------------------------------------------------
inline constexpr std::uint64_t min_segment_length = 64;
inline constexpr std::uint64_t max_segment_length = std::uint64_t{1} << 30;
inline constexpr std::uint64_t min_segment_count = 2;
inline constexpr std::uint64_t max_segment_count = std::uint64_t{1} << 16;

static_assert(published_position_offset % 128 == 0 &&
                  published_position_offset + word_length <= header_length,
              "The published position sits alone on its own line pair inside the header.");
static_assert(header_length % 128 == 0, "The segment table starts on a line pair boundary.");
static_assert(record_header_length == word_length && record_alignment == word_length,
              "A record header is one word and records are word aligned: one atomic store commits it.");
static_assert((flags_mask & (tag_mask << tag_shift)) == 0 && (flags_mask & length_mask) == 0,
              "Length, flags and tag occupy disjoint bits of the header word.");
static_assert((known_flags & ~flags_mask) == 0, "Every flag lives in the flags byte.");
static_assert(max_segment_length - record_header_length <= length_mask,
              "The largest payload of the largest segment fits the 32-bit length field.");

/// Offset of the segment table entry of segment index `index`.
[[nodiscard]] constexpr std::size_t segment_entry_offset(std::uint64_t index) noexcept {
    return segment_table_offset + static_cast<std::size_t>(index) * segment_table_entry_length;
}
/// Where the segments start: after the table, rounded up to a line pair.
[[nodiscard]] constexpr std::size_t segments_offset(std::uint64_t segment_count) noexcept {
    const std::size_t end = segment_entry_offset(segment_count);
    return (end + 127) & ~std::size_t{127};
}
/// The size of a whole region.
[[nodiscard]] constexpr std::size_t total_length(std::uint64_t segment_length,
                                                 std::uint64_t segment_count) noexcept {
    return segments_offset(segment_count) + static_cast<std::size_t>(segment_length * segment_count);
}
/// The bytes a record with `payload_length` bytes of payload takes in a segment.
[[nodiscard]] constexpr std::uint64_t record_length(std::uint64_t payload_length) noexcept {
    return record_header_length +
           ((payload_length + record_alignment - 1) & ~std::uint64_t{record_alignment - 1});
}
/// The tag of records written in segment number `segment`.
[[nodiscard]] constexpr std::uint64_t tag_of(std::uint64_t segment) noexcept {
    return (segment + 1) & tag_mask;
}
/// A complete header word.
[[nodiscard]] constexpr std::uint64_t make_header(std::uint64_t payload_length, std::uint64_t flags,
                                                  std::uint64_t segment) noexcept {
    return (payload_length & length_mask) | flags | (tag_of(segment) << tag_shift);
}
[[nodiscard]] constexpr std::uint64_t header_length_of(std::uint64_t header) noexcept {
    return header & length_mask;
}
[[nodiscard]] constexpr std::uint64_t header_tag_of(std::uint64_t header) noexcept {
    return (header >> tag_shift) & tag_mask;
}

static_assert(total_length(64, 2) == 384 + 128,
              "The smallest region: header, table padded to a line pair, two segments.");
static_assert(record_length(0) == 8 && record_length(1) == 16 && record_length(8) == 16,
              "A record is its header plus the payload rounded up to whole words.");

}  // namespace ringlab::journal_layout
