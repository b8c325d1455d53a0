// platform.hpp: the one place that knows about the machine.
//
// Owns the cache-line size per architecture, the spin-loop hint, the prefetch hints, CPU
// pinning, a calibrated cycle clock and the monotonic nanosecond clock. Nothing else in ringlab names a raw
// 64 or an intrinsic.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <x86intrin.h>
#endif

// Invariant checks in the native backend: on in debug builds, off in release builds unless
// the build sets RINGLAB_CHECKS=1. The relacy and sim backends always check.
#ifndef RINGLAB_CHECKS
#ifdef NDEBUG
#define RINGLAB_CHECKS 0
#else
#define RINGLAB_CHECKS 1
#endif
#endif

namespace ringlab {

#if defined(__x86_64__) || defined(__i386__)
// One line is 64 bytes; the L2 spatial prefetcher pulls lines in adjacent pairs, so fields
// written by different threads are kept two lines apart.
inline constexpr std::size_t cache_line_bytes = 64;
inline constexpr std::size_t false_sharing_bytes = 128;
#elif defined(__aarch64__) && defined(__APPLE__)
inline constexpr std::size_t cache_line_bytes = 128;
inline constexpr std::size_t false_sharing_bytes = 128;
#elif defined(__aarch64__)
inline constexpr std::size_t cache_line_bytes = 64;
inline constexpr std::size_t false_sharing_bytes = 128;
#else
inline constexpr std::size_t cache_line_bytes = 64;
inline constexpr std::size_t false_sharing_bytes = 128;
#endif

static_assert((cache_line_bytes & (cache_line_bytes - 1)) == 0,
              "The cache line size must be a power of two.");
static_assert(false_sharing_bytes % cache_line_bytes == 0,
              "The false-sharing distance must be a whole number of cache lines.");

/// Tells the core that the caller is in a spin loop (x86 `pause`, ARM `yield`).
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#else
    asm volatile("" ::: "memory");
#endif
}

/// Asks the core to bring the line at `p` into its cache before it is read: a hint, which
/// neither faults nor changes what any thread sees.
inline void prefetch_for_read(const void* p) noexcept { __builtin_prefetch(p, 0, 3); }

/// Asks the core for the line at `p` owned, before it is written (x86 PREFETCHW): the store
/// that follows then finds it in place instead of waiting for it in the store buffer.
inline void prefetch_for_write(const void* p) noexcept { __builtin_prefetch(p, 1, 3); }

/// A broken invariant inside ringlab: prints where and why, then aborts. Used by the native
/// backend's checks; the relacy and sim backends turn the same checks into model failures.
[[noreturn]] inline void invariant_failure(const char* what,
                                           std::source_location loc) noexcept {
    std::fprintf(stderr, "ringlab: invariant broken: %s\n  at %s:%u (%s)\n", what,
                 loc.file_name(), static_cast<unsigned>(loc.line()), loc.function_name());
    std::fflush(stderr);
    std::abort();
}

/// Raised for configuration a caller got wrong (a capacity that is not a power of two, a
/// zero count). The message names the parameter, the value and the rule.
class config_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

[[nodiscard]] constexpr bool is_power_of_two(std::uint64_t value) noexcept {
    return value != 0 && (value & (value - 1)) == 0;
}

/// Validates a ring capacity: a power of two in [min_capacity, max_capacity].
inline std::size_t validate_capacity(const char* type_name, std::size_t capacity,
                                     std::size_t min_capacity = 1,
                                     std::size_t max_capacity = std::size_t{1} << 40) {
    if (!is_power_of_two(capacity) || capacity < min_capacity || capacity > max_capacity) {
        throw config_error(std::string(type_name) + ": capacity " + std::to_string(capacity) +
                           " is invalid; it must be a power of two in [" +
                           std::to_string(min_capacity) + ", " + std::to_string(max_capacity) +
                           "]");
    }
    return capacity;
}

/// The prefetch distance of a ring whose options leave it unset (ring_buffer's
/// producer_prefetch, processor_options::prefetch): 32 positions in a ring of 256 slots or
/// more; 0 (off) in a smaller one, whose lines a few positions ahead are as likely to be in
/// use by the other side as free.
[[nodiscard]] constexpr std::uint32_t default_prefetch(std::uint64_t capacity) noexcept {
    return capacity >= 256 ? 32 : 0;
}

/// Validates a prefetch distance (`what` of `type_name`): 0 (off), or below the capacity;
/// unset, the default for the capacity (default_prefetch).
inline std::uint64_t validate_prefetch(const char* type_name, const char* what,
                                       std::optional<std::uint32_t> setting, std::uint64_t capacity) {
    const std::uint64_t distance = setting.value_or(default_prefetch(capacity));
    if (distance >= capacity) {
        throw config_error(std::string(type_name) + ": " + what + " " + std::to_string(distance) +
                           " is invalid; it must be below the capacity (" + std::to_string(capacity) + ")");
    }
    return distance;
}

/// Monotonic wall time in nanoseconds (CLOCK_MONOTONIC, served by the vDSO: no system call).
[[nodiscard]] inline std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

/// Raw cycle counter: rdtsc on x86 (invariant TSC), the virtual counter on ARM64, and the
/// monotonic clock elsewhere. Convert with cycle_clock::calibrate().
[[nodiscard]] inline std::uint64_t cycles_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#elif defined(__aarch64__)
    std::uint64_t v;
    asm volatile("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return monotonic_ns();
#endif
}

/// Cycle counter calibrated against the monotonic clock over a short busy interval.
struct cycle_clock {
    double ns_per_cycle = 1.0;

    [[nodiscard]] static cycle_clock calibrate(std::uint64_t interval_ns = 20'000'000) noexcept {
        const std::uint64_t c0 = cycles_now();
        const std::uint64_t t0 = monotonic_ns();
        std::uint64_t t1 = t0;
        while (t1 - t0 < interval_ns) {
            t1 = monotonic_ns();
        }
        const std::uint64_t c1 = cycles_now();
        cycle_clock clock;
        clock.ns_per_cycle = c1 > c0 ? static_cast<double>(t1 - t0) / static_cast<double>(c1 - c0)
                                     : 1.0;
        return clock;
    }

    [[nodiscard]] double to_ns(std::uint64_t cycles) const noexcept {
        return static_cast<double>(cycles) * ns_per_cycle;
    }
};

/// Number of CPUs this process may run on, read once: pinning a thread later narrows that
/// thread's own mask, and must not change the answer.
[[nodiscard]] inline int available_cpus() noexcept {
    static const int count = [] {
#if defined(__linux__)
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
        return 1;
    }();
    return count;
}

/// Throws config_error unless `cpu` names a CPU this machine has (-1, "not pinned", passes):
/// callers check before they start threads, so a wrong number is an error, not a thread that
/// silently floats.
inline void check_cpu(const char* who, int cpu) {
    if (cpu == -1) return;
#if defined(__linux__)
    const long configured = ::sysconf(_SC_NPROCESSORS_CONF);
    if (cpu >= 0 && cpu < CPU_SETSIZE && cpu < configured) return;
    throw config_error(std::string(who) + ": CPU " + std::to_string(cpu) + " does not exist (this machine has " +
                       std::to_string(configured) + ")");
#else
    (void)who;
#endif
}

/// Pins the calling thread to one CPU. Returns 0 or an errno value (EINVAL for a CPU that
/// does not exist), so a benchmark can say which pin failed instead of silently floating.
[[nodiscard]] inline int pin_current_thread(int cpu) noexcept {
#if defined(__linux__)
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
        return EINVAL;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#else
    (void)cpu;
    return ENOSYS;
#endif
}

/// pin_current_thread for a thread that has no caller to throw to: a CPU outside this
/// process's allowed set (a container's cpuset) is said on stderr, and the thread runs
/// unpinned.
inline void pin_or_warn(const char* who, const std::string& thread, int cpu) noexcept {
    if (cpu < 0) return;
    if (const int err = pin_current_thread(cpu); err != 0) {
        std::fprintf(stderr, "ringlab: %s could not pin thread '%s' to CPU %d (errno %d); it runs unpinned\n", who,
                     thread.c_str(), cpu, err);
    }
}

}  // namespace ringlab
