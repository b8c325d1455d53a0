// journal_types.hpp: the values journal.hpp takes and returns: its geometry
// (journal_config), what a subscriber's poll says (read_status, read_result), how a file is
// opened (journal_open), what recovery did (journal_recovery), and the liveness check of a
// region owned by another process (publisher_is_process).
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <sys/types.h>
#include <unistd.h>

#include "ringlab/detail/journal_file.hpp"
#include "ringlab/journal_error.hpp"
#include "ringlab/platform.hpp"

namespace ringlab {

struct journal_config {
    std::uint64_t segment_length = std::uint64_t{1} << 20;  // bytes, a power of two
    std::uint64_t segment_count = 4;                        // a power of two, at least 2
};

enum class read_status : std::uint8_t {
    record,            // a record was copied out
    empty,             // nothing committed at the subscriber's position yet
    overrun,           // the subscriber fell behind; it has moved to resume_position
    buffer_too_small,  // the record is longer than the buffer (length says how long)
    corrupt,           // a header that cannot be right (error says how); the subscriber stays
    publisher_gone,    // (wait) nothing more is committed and nobody publishes: a file's
                       // publisher died or closed (open_file(append) recovers and goes
                       // on), or an attached region's liveness check says its owner went
};

[[nodiscard]] constexpr const char* to_string(read_status s) noexcept {
    switch (s) {
        case read_status::record:
            return "record";
        case read_status::empty:
            return "empty";
        case read_status::overrun:
            return "overrun";
        case read_status::buffer_too_small:
            return "buffer_too_small";
        case read_status::corrupt:
            return "corrupt";
        case read_status::publisher_gone:
            return "publisher_gone";
    }
    return "?";
}

struct read_result {
    read_status status = read_status::empty;
    std::uint64_t position = 0;  // record: where it starts; otherwise the subscriber's position
    std::uint64_t record = 0;    // record: its sequence
    std::uint32_t length = 0;    // record, buffer_too_small: the payload length
    // overrun only: what was skipped, in log bytes and records, and where reading resumes.
    std::uint64_t lost_bytes = 0;
    std::uint64_t lost_records = 0;
    std::uint64_t resume_position = 0;
    journal_errc error = journal_errc::bad_flags;  // corrupt only
};

enum class journal_open : std::uint8_t { read_only, append };

/// What recover() found and did.
struct journal_recovery {
    std::uint64_t position = 0;              // where the successor publishes next
    std::uint64_t next_record = 0;           // the sequence its next record gets
    std::uint64_t aborted_reservations = 0;  // half-written records turned into skips (0 or 1)
};

/// A liveness check for journal::attach when the region's owner is another process:
/// true while process `pid` runs, false once it has exited (even before it is reaped).
/// It watches the process through a pidfd taken here, so a later process that reuses the
/// pid is not mistaken for the owner. A pid that does not exist (any more) is reported
/// gone; a pid below 1 is a config_error, and failing to watch a process that exists is an
/// io_error.
[[nodiscard]] inline std::function<bool()> publisher_is_process(pid_t pid) {
    if (pid <= 0) throw config_error("publisher_is_process: " + std::to_string(pid) + " is not a process id");
    const int fd = detail::open_pidfd(pid);
    if (fd < 0) {
        if (errno == ESRCH) return [] { return false; };
        throw detail::journal_io_failure("publisher_is_process: cannot watch process " + std::to_string(pid));
    }
    const std::shared_ptr<const int> pidfd(new int(fd), [](const int* p) {
        ::close(*p);
        delete p;
    });
    return [pidfd] { return detail::process_running(*pidfd); };
}

}  // namespace ringlab
