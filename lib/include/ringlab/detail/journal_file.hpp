// detail/journal_file.hpp: the POSIX side of a file-backed journal (journal.hpp): the
// publisher's lock, a new journal file built under a temporary name, an existing file
// opened with its first bytes read, and mappings. Nothing here knows the layout beyond
// lengths; every failure is a journal_error with errno's text.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ringlab/journal_error.hpp"

namespace ringlab::detail {

inline journal_error journal_io_failure(const std::string& what) {
    return journal_error(journal_errc::io_error, what + ": " + std::strerror(errno));
}

/// The publisher's lock: an open-file-description write lock on the whole file, which a
/// read-only subscriber can test (journal_publisher_locked) and which the kernel drops
/// when the publisher dies.
inline bool lock_journal_publisher(int fd) noexcept {
    struct ::flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

/// Whether some open file description holds the publisher's lock of `fd`'s file; true
/// when it cannot tell.
inline bool journal_publisher_locked(int fd) noexcept {
    struct ::flock probe {};
    probe.l_type = F_RDLCK;
    probe.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_GETLK, &probe) != 0) return true;
    return probe.l_type != F_UNLCK;
}

/// Whether the process behind `pidfd` (pidfd_open) is still running: its pidfd turns
/// readable when it exits, zombie or reaped. True when it cannot tell.
inline bool process_running(int pidfd) noexcept {
    struct ::pollfd p {};
    p.fd = pidfd;
    p.events = POLLIN;
    if (::poll(&p, 1, 0) != 1) return true;
    return (p.revents & (POLLIN | POLLHUP)) == 0;  // POLLERR, POLLNVAL: cannot tell
}

/// A pidfd for `pid` (-1 with errno ESRCH when no such process exists, ENOSYS before
/// Linux 5.3).
inline int open_pidfd(pid_t pid) noexcept {
#if defined(SYS_pidfd_open)
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/// Maps `bytes` bytes of `fd` (shared), or anonymous memory when `fd` < 0. On failure
/// closes `fd` and throws io_error naming `what`.
inline void* map_journal(int fd, std::size_t bytes, bool writable, const std::string& what) {
    const int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
    const int flags = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
    void* base = ::mmap(nullptr, bytes, prot, flags, fd, 0);
    if (base == MAP_FAILED) {
        const journal_error e = journal_io_failure("cannot map " + what);
        if (fd >= 0) ::close(fd);
        throw e;
    }
    return base;
}

/// A journal file being created. The constructor locks the file at `path` (creating it),
/// which keeps a second creator or a live publisher out, then creates, locks, allocates
/// (so a full disk fails here, not as a SIGBUS later) and maps a file under a temporary
/// name beside it. Once a journal is built on the mapping and the descriptor, hand_over()
/// makes them its own; until then (a journal that failed to build) this object unmaps and
/// closes them. The journal formats the region, and commit() renames the new file over
/// `path`: a reader of the file it replaces keeps that file, never one that shrank under
/// its mapping.
class journal_file_creation {
public:
    journal_file_creation(const std::string& path, std::size_t bytes)
        : path_(path), temporary_(path + ".new." + std::to_string(::getpid())), bytes_(bytes) {
        current_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (current_ < 0) throw journal_io_failure("cannot create " + path);
        if (!lock_journal_publisher(current_)) {
            ::close(current_);
            throw journal_error(journal_errc::locked, path + " has a publisher already");
        }
        fd_ = ::open(temporary_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) fail("cannot create " + temporary_);
        if (!lock_journal_publisher(fd_)) fail("cannot lock " + temporary_);
        if (const int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(bytes)); err != 0) {
            errno = err;
            fail("cannot allocate " + std::to_string(bytes) + " bytes for " + path);
        }
        void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
        if (base == MAP_FAILED) fail("cannot map " + temporary_);
        base_ = base;
    }
    journal_file_creation(const journal_file_creation&) = delete;
    journal_file_creation& operator=(const journal_file_creation&) = delete;
    ~journal_file_creation() {
        if (base_ != nullptr) ::munmap(base_, bytes_);
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(temporary_.c_str());
        if (current_ >= 0) ::close(current_);
    }

    [[nodiscard]] void* base() const noexcept { return base_; }
    [[nodiscard]] int fd() const noexcept { return fd_; }
    /// The journal built on base() and fd() unmaps and closes them from now on.
    void hand_over() noexcept {
        base_ = nullptr;
        fd_ = -1;
    }
    /// Renames the new file over `path` and lets go of the one it replaces.
    void commit() {
        if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
            throw journal_io_failure("cannot rename " + temporary_ + " to " + path_);
        }
        committed_ = true;
        ::close(current_);
        current_ = -1;
    }

private:
    /// A failure in the constructor: the destructor will not run, so clean up here.
    [[noreturn]] void fail(const std::string& what) {
        const journal_error e = journal_io_failure(what);
        if (fd_ >= 0) {
            ::close(fd_);
            ::unlink(temporary_.c_str());
        }
        ::close(current_);
        throw e;
    }

    std::string path_;
    std::string temporary_;
    std::size_t bytes_;
    int current_ = -1;
    int fd_ = -1;
    void* base_ = nullptr;
    bool committed_ = false;
};

/// An existing journal file, open, with its length and first bytes.
struct journal_file_head {
    int fd = -1;
    std::size_t bytes = 0;          // the file's length
    std::vector<std::byte> head;    // its first bytes
    std::size_t head_read = 0;      // how many of them the file has
};

/// Opens the file at `path` (read-only, or read-write holding the publisher's lock) and
/// reads its first `head_length` bytes; throws io_error or locked.
inline journal_file_head open_journal_file(const std::string& path, bool writable, std::size_t head_length) {
    journal_file_head f;
    f.fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (f.fd < 0) throw journal_io_failure("cannot open " + path);
    if (writable && !lock_journal_publisher(f.fd)) {
        ::close(f.fd);
        throw journal_error(journal_errc::locked, path + " has a live publisher");
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) {
        const journal_error e = journal_io_failure("cannot stat " + path);
        ::close(f.fd);
        throw e;
    }
    f.bytes = static_cast<std::size_t>(st.st_size);
    f.head.resize(head_length);
    const ssize_t got = ::pread(f.fd, f.head.data(), f.head.size(), 0);
    f.head_read = got < 0 ? 0 : static_cast<std::size_t>(got);
    return f;
}

}  // namespace ringlab::detail
