// journal_error.hpp: what can go wrong with a journal (journal.hpp) and its files
// (detail/journal_file.hpp): an error code per cause and the exception that carries it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ringlab {

enum class journal_errc : std::uint8_t {
    none,                    // no error
    bad_geometry,            // a segment length or count outside the limits
    io_error,                // open/stat/mmap failed (errno is in the message)
    locked,                  // another publisher holds the file
    read_only,               // a publisher call on a journal opened read-only
    too_small,               // shorter than a region header
    bad_magic,               // not a journal
    bad_version,             // a journal of another format version
    bad_header_length,       // the header length field disagrees with this version
    size_mismatch,           // the file is not exactly as long as its header says (truncated)
    bad_published_position,  // the published position lies outside the retained segments
    payload_too_long,        // a record larger than a segment can hold
    record_past_segment,     // a header whose length runs past the end of its segment
    bad_flags,               // unknown flag bits, or padding that does not end the segment
    not_a_boundary,          // a replay position that is not the start of a record
    not_retained,            // a replay position older than the oldest retained segment
    inconsistent_table,      // the segment table contradicts the published position
    misaligned,              // an attached region that does not start on an 8-byte boundary
};

[[nodiscard]] constexpr const char* to_string(journal_errc e) noexcept {
    switch (e) {
        case journal_errc::none:
            return "none";
        case journal_errc::bad_geometry:
            return "bad_geometry";
        case journal_errc::io_error:
            return "io_error";
        case journal_errc::locked:
            return "locked";
        case journal_errc::read_only:
            return "read_only";
        case journal_errc::too_small:
            return "too_small";
        case journal_errc::bad_magic:
            return "bad_magic";
        case journal_errc::bad_version:
            return "bad_version";
        case journal_errc::bad_header_length:
            return "bad_header_length";
        case journal_errc::size_mismatch:
            return "size_mismatch";
        case journal_errc::bad_published_position:
            return "bad_published_position";
        case journal_errc::payload_too_long:
            return "payload_too_long";
        case journal_errc::record_past_segment:
            return "record_past_segment";
        case journal_errc::bad_flags:
            return "bad_flags";
        case journal_errc::not_a_boundary:
            return "not_a_boundary";
        case journal_errc::not_retained:
            return "not_retained";
        case journal_errc::inconsistent_table:
            return "inconsistent_table";
        case journal_errc::misaligned:
            return "misaligned";
    }
    return "?";
}

/// A journal that cannot be opened or used as asked. what() says where and why.
class journal_error : public std::runtime_error {
public:
    journal_error(journal_errc code, const std::string& what, std::uint64_t position = 0)
        : std::runtime_error(std::string("journal: ") + to_string(code) + ": " + what),
          code_(code),
          position_(position) {}
    [[nodiscard]] journal_errc code() const noexcept { return code_; }
    [[nodiscard]] std::uint64_t position() const noexcept { return position_; }

private:
    journal_errc code_;
    std::uint64_t position_;
};

}  // namespace ringlab
