// sync/native.hpp: the production backend of the sync seam.
//
// atomics are std::atomic with the order written at the site; plain shared data is a plain
// T; waiting is a Linux futex; time is CLOCK_MONOTONIC. Every function here inlines to what
// hand-written code would emit: the seam costs nothing in production.
//
// The seam's surface, shared by native, relacy and sim:
//   atomic<T>      load/store/exchange/compare_exchange_{weak,strong}/fetch_{add,sub,or,and},
//                  each taking an mo_site
//   cell<T>        plain data: load/store, and write_ref/read_ref for zero-copy access
//   counter        a statistics counter, written by one thread, read by any (not a sync edge)
//   futex_word     atomic<std::int32_t> usable with futex_wait/futex_wake
//   fence, asymmetric_fence_light/heavy, pause, yield, now_ns, sleep_ns, check, canary,
//   switched_out_since_asked
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <source_location>
#include <thread>
#include <type_traits>

#if defined(__linux__)
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "ringlab/platform.hpp"
#include "ringlab/sync/site.hpp"

namespace ringlab::sync {

template <class T>
class native_atomic {
    static_assert(std::atomic<T>::is_always_lock_free,
                  "A seam atomic must be lock-free so that it can live in shared memory.");

public:
    using value_type = T;

    native_atomic() noexcept : value_{} {}
    explicit native_atomic(T initial) noexcept : value_{initial} {}
    native_atomic(const native_atomic&) = delete;
    native_atomic& operator=(const native_atomic&) = delete;

    [[nodiscard]] T load(mo_site site) const noexcept { return value_.load(site.order); }
    void store(T v, mo_site site) noexcept { value_.store(v, site.order); }
    T exchange(T v, mo_site site) noexcept { return value_.exchange(v, site.order); }
    bool compare_exchange_weak(T& expected, T desired, mo_site site) noexcept {
        return value_.compare_exchange_weak(expected, desired, site.order,
                                            cas_failure_order(site.order));
    }
    bool compare_exchange_strong(T& expected, T desired, mo_site site) noexcept {
        return value_.compare_exchange_strong(expected, desired, site.order,
                                              cas_failure_order(site.order));
    }
    T fetch_add(T v, mo_site site) noexcept { return value_.fetch_add(v, site.order); }
    T fetch_sub(T v, mo_site site) noexcept { return value_.fetch_sub(v, site.order); }
    T fetch_or(T v, mo_site site) noexcept { return value_.fetch_or(v, site.order); }
    T fetch_and(T v, mo_site site) noexcept { return value_.fetch_and(v, site.order); }

    /// The underlying object, for the futex system call only.
    [[nodiscard]] std::atomic<T>* raw() noexcept { return &value_; }

private:
    std::atomic<T> value_;
};

/// Plain shared data. The checking backends verify that every access is ordered by the
/// atomics around it; here it is just a T.
template <class T>
class native_cell {
public:
    native_cell() = default;
    native_cell(const native_cell&) = delete;
    native_cell& operator=(const native_cell&) = delete;

    [[nodiscard]] T load() const noexcept { return value_; }
    void store(const T& v) noexcept { value_ = v; }
    /// Zero-copy access: the caller owns the cell (by the algorithm's protocol) while it
    /// uses the reference.
    [[nodiscard]] T& write_ref() noexcept { return value_; }
    [[nodiscard]] const T& read_ref() const noexcept { return value_; }

private:
    T value_{};
};

/// A statistics counter with one writer. Increments are a relaxed load and store (no
/// read-modify-write: there is only one writer); readers may see a slightly old value.
class native_counter {
public:
    void add(std::uint64_t n = 1) noexcept {
        // relaxed: a statistic, ordered with nothing; the single writer makes load+store exact.
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void set(std::uint64_t v) noexcept {
        // relaxed: a statistic, ordered with nothing.
        value_.store(v, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t get() const noexcept {
        // relaxed: a statistic; a reader wants a recent value, not an ordering.
        return value_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// The heavy half of an asymmetric fence: makes every thread of this process that is
/// running right now execute a full barrier. membarrier(PRIVATE_EXPEDITED) where the kernel
/// has it; otherwise changing the protection of a private page, whose TLB shootdown
/// interrupts every CPU that runs this process.
inline void heavy_barrier() noexcept {
#if defined(__linux__)
    static const bool expedited =
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    if (expedited && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return;
    static void* const page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED) {
        *static_cast<volatile char*>(page) = 1;  // make the page present, so the change below
        mprotect(page, 4096, PROT_READ);          // must shoot down its TLB entries everywhere
        mprotect(page, 4096, PROT_READ | PROT_WRITE);
    }
#endif
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

struct native {
    static constexpr const char* name = "native";
    /// Planted bugs and mutants exist only in the checking backends.
    static constexpr bool is_model = false;

    template <class T>
    using atomic = native_atomic<T>;
    template <class T>
    using cell = native_cell<T>;
    using counter = native_counter;
    using futex_word = native_atomic<std::int32_t>;

    static void fence(mo_site site) noexcept { std::atomic_thread_fence(site.order); }

    /// An asymmetric fence pair. Light (the hot side) is a compiler barrier; heavy (the cold
    /// side) forces a barrier onto every running thread. Together they order like two
    /// seq_cst fences, which is how the relacy and sim backends model them. Only threads
    /// of one process: memory shared between processes needs plain fences.
    static void asymmetric_fence_light(mo_site site) noexcept {
        std::atomic_signal_fence(site.order);
    }
    static void asymmetric_fence_heavy(mo_site site) noexcept {
        (void)site;
        heavy_barrier();
    }
    static void pause() noexcept { spin_pause(); }
    static void yield() noexcept { std::this_thread::yield(); }
    [[nodiscard]] static std::uint64_t now_ns() noexcept { return monotonic_ns(); }

    /// True when the OS switched the calling thread out for another runnable thread (an
    /// involuntary context switch) since the thread last asked; false on a thread's first
    /// ask, which only records where it stands. A system call: for slow paths only.
    [[nodiscard]] static bool switched_out_since_asked() noexcept {
#if defined(__linux__)
        static thread_local long last = -1;
        rusage ru{};
        if (getrusage(RUSAGE_THREAD, &ru) != 0) return false;
        const bool switched = last >= 0 && ru.ru_nivcsw > last;
        last = ru.ru_nivcsw;
        return switched;
#else
        return false;
#endif
    }

    static void sleep_ns(std::uint64_t ns) noexcept {
        timespec ts{static_cast<time_t>(ns / 1'000'000'000ULL),
                    static_cast<long>(ns % 1'000'000'000ULL)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }

    /// Sleeps while `word` holds `expected`, until woken or `timeout_ns` passes.
    static futex_status futex_wait(futex_word& word, std::int32_t expected,
                                   std::uint64_t timeout_ns = no_timeout) noexcept {
#if defined(__linux__)
        timespec ts{};
        timespec* tsp = nullptr;
        if (timeout_ns != no_timeout) {
            ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000ULL);
            ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000ULL);
            tsp = &ts;
        }
        const long rc = syscall(SYS_futex, word.raw(), FUTEX_WAIT_PRIVATE, expected, tsp,
                                nullptr, 0);
        if (rc == 0) return futex_status::woken;
        if (errno == ETIMEDOUT) return futex_status::timed_out;
        return futex_status::value_changed;  // EAGAIN, or EINTR: the caller re-checks.
#else
        (void)word;
        (void)expected;
        (void)timeout_ns;
        std::this_thread::yield();
        return futex_status::value_changed;
#endif
    }

    /// Wakes up to `count` waiters on `word`.
    static void futex_wake(futex_word& word, std::int32_t count) noexcept {
#if defined(__linux__)
        syscall(SYS_futex, word.raw(), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
#else
        (void)word;
        (void)count;
#endif
    }

    /// An invariant of the algorithm. Checked in debug builds (or with
    /// RINGLAB_CHECKS=1); the checking backends always check.
    static void check(bool ok, const char* what,
                      std::source_location loc = std::source_location::current()) noexcept {
#if RINGLAB_CHECKS
        if (!ok) invariant_failure(what, loc);
#else
        (void)ok;
        (void)what;
        (void)loc;
#endif
    }

    [[nodiscard]] static constexpr bool canary(const char*) noexcept { return false; }
};

}  // namespace ringlab::sync
