// sync/relacy.hpp: the Relacy backend of the sync seam, for model-checks/.
//
// Maps the seam to rl::atomic, rl::var and Relacy's futex, carrying each site's
// std::source_location into Relacy's debug_info so that its histories name production
// lines. Include this header first in a model-check translation unit: it includes the
// standard headers ringlab needs, then <relacy/relacy.hpp>, then removes the macros Relacy
// defines over standard names (memory_order_*, new, delete, malloc, free, assert, errno).
//
// Plain data (cell<T>) is a plain T guarded by an rl::var<int>: every access of the T is
// reported to Relacy as an access of the guard, so races on any T, of any size, are seen.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <new>
#include <source_location>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <semaphore.h>
#include <thread>

// Every system header lib/ uses comes in before Relacy, whose macros would break them.
#include "ringlab/platform.hpp"
#include "ringlab/sync/model_control.hpp"
#include "ringlab/sync/native.hpp"
#include "ringlab/sync/site.hpp"

#include <relacy/relacy.hpp>

#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef assert
#undef errno
#define errno (*__errno_location())  // glibc's own definition, which Relacy removed

namespace ringlab::sync {

[[nodiscard]] inline rl::memory_order to_rl(std::memory_order order) noexcept {
    switch (order) {
    case std::memory_order_relaxed: return rl::mo_relaxed;
    case std::memory_order_consume: return rl::mo_consume;
    case std::memory_order_acquire: return rl::mo_acquire;
    case std::memory_order_release: return rl::mo_release;
    case std::memory_order_acq_rel: return rl::mo_acq_rel;
    case std::memory_order_seq_cst: return rl::mo_seq_cst;
    }
    return rl::mo_seq_cst;
}

[[nodiscard]] inline rl::debug_info rl_info(const std::source_location& loc) noexcept {
    return rl::debug_info(loc.function_name(), loc.file_name(), loc.line());
}

template <class T>
class relacy_atomic {
public:
    using value_type = T;

    relacy_atomic() : value_(T{}) {}
    explicit relacy_atomic(T initial) : value_(initial) {}
    relacy_atomic(const relacy_atomic&) = delete;
    relacy_atomic& operator=(const relacy_atomic&) = delete;

    [[nodiscard]] T load(mo_site s) const {
        return value_.load(order(s, access::load), rl_info(s.loc));
    }
    void store(T v, mo_site s) { value_.store(v, order(s, access::store), rl_info(s.loc)); }
    T exchange(T v, mo_site s) { return value_.exchange(v, order(s, access::rmw), rl_info(s.loc)); }
    bool compare_exchange_weak(T& expected, T desired, mo_site s) {
        const rl::memory_order o = order(s, access::rmw);
        const rl::debug_info info = rl_info(s.loc);
        return value_.compare_exchange_weak(expected, desired, o, info, failure(o), info);
    }
    bool compare_exchange_strong(T& expected, T desired, mo_site s) {
        const rl::memory_order o = order(s, access::rmw);
        const rl::debug_info info = rl_info(s.loc);
        return value_.compare_exchange_strong(expected, desired, o, info, failure(o), info);
    }
    T fetch_add(T v, mo_site s) { return value_.fetch_add(v, order(s, access::rmw), rl_info(s.loc)); }
    T fetch_sub(T v, mo_site s) { return value_.fetch_sub(v, order(s, access::rmw), rl_info(s.loc)); }
    T fetch_or(T v, mo_site s) { return value_.fetch_or(v, order(s, access::rmw), rl_info(s.loc)); }
    T fetch_and(T v, mo_site s) { return value_.fetch_and(v, order(s, access::rmw), rl_info(s.loc)); }

    [[nodiscard]] rl::atomic<T>& raw() noexcept { return value_; }

private:
    static rl::memory_order order(const mo_site& s, access kind) {
        return to_rl(model_control::effective(s, kind));
    }
    static rl::memory_order failure(rl::memory_order success) {
        if (success == rl::mo_acq_rel) return rl::mo_acquire;
        if (success == rl::mo_release) return rl::mo_relaxed;
        return success;
    }

    mutable rl::atomic<T> value_;
};

template <class T>
class relacy_cell {
public:
    relacy_cell() : guard_(0) {}
    relacy_cell(const relacy_cell&) = delete;
    relacy_cell& operator=(const relacy_cell&) = delete;

    [[nodiscard]] T load(std::source_location loc = std::source_location::current()) const {
        note_read(loc);
        return value_;
    }
    void store(const T& v, std::source_location loc = std::source_location::current()) {
        note_write(loc);
        value_ = v;
    }
    [[nodiscard]] T& write_ref(std::source_location loc = std::source_location::current()) {
        note_write(loc);
        return value_;
    }
    [[nodiscard]] const T& read_ref(std::source_location loc = std::source_location::current()) const {
        note_read(loc);
        return value_;
    }

private:
    void note_read(const std::source_location& loc) const {
        const int seen = guard_(rl_info(loc));
        (void)seen;
    }
    void note_write(const std::source_location& loc) { guard_(rl_info(loc)) = 1; }

    T value_{};
    mutable rl::var<int> guard_;
};

/// Statistics are not synchronisation: Relacy threads are fibers of one OS thread, so a
/// plain integer is exact and adds no states to explore.
class relacy_counter {
public:
    void add(std::uint64_t n = 1) noexcept { value_ += n; }
    void set(std::uint64_t v) noexcept { value_ = v; }
    [[nodiscard]] std::uint64_t get() const noexcept { return value_; }

private:
    std::uint64_t value_ = 0;
};

struct relacy {
    static constexpr const char* name = "relacy";
    static constexpr bool is_model = true;

    template <class T>
    using atomic = relacy_atomic<T>;
    template <class T>
    using cell = relacy_cell<T>;
    using counter = relacy_counter;
    using futex_word = relacy_atomic<std::int32_t>;

    static void fence(mo_site s) {
        const std::memory_order o = model_control::effective(s, access::fence);
        if (o != std::memory_order_relaxed) rl::atomic_thread_fence(to_rl(o), rl_info(s.loc));
    }
    /// Both halves of an asymmetric fence are modelled as the seq_cst fences they stand for.
    static void asymmetric_fence_light(mo_site s) { fence(s); }
    static void asymmetric_fence_heavy(mo_site s) { fence(s); }

    static void pause(std::source_location loc = std::source_location::current()) {
        rl::yield(1, rl_info(loc));
    }
    static void yield(std::source_location loc = std::source_location::current()) {
        rl::yield(1, rl_info(loc));
    }
    /// Relacy has no clock: time advances by one microsecond per reading, so deadlines
    /// expire after a bounded number of polls.
    [[nodiscard]] static std::uint64_t now_ns() {
        clock_ns_ += 1000;
        return clock_ns_;
    }
    static void sleep_ns(std::uint64_t ns, std::source_location loc = std::source_location::current()) {
        clock_ns_ += ns;
        rl::yield(1, rl_info(loc));
    }

    static futex_status futex_wait(futex_word& word, std::int32_t expected,
                                   std::uint64_t timeout_ns = no_timeout,
                                   std::source_location loc = std::source_location::current()) {
        static const timespec any_timeout{0, 1};
        const int rc = rl::rl_futex(&word.raw(),
                                    rl::RL_FUTEX_WAIT, expected,
                                    timeout_ns == no_timeout ? nullptr : &any_timeout, nullptr, 0,
                                    rl_info(loc));
        if (rc == 0) return futex_status::woken;
        if (rc == rl::RL_ETIMEDOUT) return futex_status::timed_out;
        return futex_status::value_changed;
    }
    static void futex_wake(futex_word& word, std::int32_t count,
                           std::source_location loc = std::source_location::current()) {
        rl::rl_futex(&word.raw(), rl::RL_FUTEX_WAKE, count,
                     nullptr, nullptr, 0, rl_info(loc));
    }

    static void check(bool ok, const char* what,
                      std::source_location loc = std::source_location::current()) {
        if (!ok) rl::ctx().fail_test(what, rl::test_result_user_assert_failed, rl_info(loc));
    }

    [[nodiscard]] static bool canary(const char* name) { return model_control::canary(name); }

private:
    static inline std::uint64_t clock_ns_ = 0;
};

}  // namespace ringlab::sync
