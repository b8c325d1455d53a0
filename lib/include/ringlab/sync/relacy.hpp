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
//
// Relacy has no asymmetric fence: relacy_asymmetric_fences models the pair on Relacy's
// vector clocks, with the guarantees of membarrier and a compiler barrier and no more.
// Its state, and the clock's, belong to one execution: the model-check harness calls
// iteration_begin() at the start of every Relacy iteration.
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

/// The asymmetric fence pair (native: a compiler barrier on the hot side, membarrier on the
/// cold side), modelled as what it guarantees and no more. A heavy fence H is a full fence
/// in its own thread that also forces a full fence into every other thread at that instant;
/// the light fence L only stops the compiler from moving accesses across that instant. So:
///   L before H: everything L's thread did before L happens before what follows H;
///   H before L: everything H's thread did before H happens before what follows L;
/// and L is neither a release nor an acquire fence for anything else (modelling it as a
/// seq_cst thread fence would make a relaxed store after L a release, and hide every order
/// that matters on hardware where a compiler barrier orders nothing).
/// Relacy's vector clocks carry it: L records its thread's clock and joins the heavy
/// fences' clock; H is a seq_cst fence that joins every thread's clock at its last L and
/// adds the result to the heavy fences' clock.
class relacy_asymmetric_fences {
public:
    static constexpr rl::thread_id_t max_threads = 16;

    static void reset() noexcept { std::memset(&state_, 0, sizeof state_); }

    /// `paired`: false for a mutant, which leaves a compiler barrier that pairs with nothing.
    static void light(bool paired, const rl::debug_info& info) {
        rl::context& c = rl::ctx();
        c.sched();
        if (c.collecting_history()) {
            c.exec_log_msg(info, paired ? "asymmetric fence (light)"
                                        : "asymmetric fence (light, MUTATED: pairs with nothing)");
        }
        if (!paired) return;
        rl::thread_info_base& self = current(c, info);
        const rl::thread_id_t n = c.get_thread_count();
        for (rl::thread_id_t i = 0; i < n; ++i) state_.light[self.index_][i] = self.acq_rel_order_[i];
        for (rl::thread_id_t i = 0; i < n; ++i) {
            self.acq_rel_order_[i] = std::max(self.acq_rel_order_[i], state_.heavy[i]);
        }
    }

    /// `order`: seq_cst pairs with the light fences; a weaker (mutated) order is that plain
    /// thread fence alone, or nothing when relaxed.
    static void heavy(std::memory_order order, const rl::debug_info& info) {
        if (order != std::memory_order_seq_cst) {
            rl::context& c = rl::ctx();
            c.sched();
            if (c.collecting_history()) {
                c.exec_log_msg(info, "asymmetric fence (heavy, MUTATED: pairs with nothing)");
            }
            if (order != std::memory_order_relaxed) rl::atomic_thread_fence(to_rl(order), info);
            return;
        }
        rl::atomic_thread_fence(rl::mo_seq_cst, info);  // a scheduling point, then the fence
        rl::context& c = rl::ctx();
        if (c.collecting_history()) c.exec_log_msg(info, "asymmetric fence (heavy)");
        rl::thread_info_base& self = current(c, info);
        const rl::thread_id_t n = c.get_thread_count();
        for (rl::thread_id_t t = 0; t < n; ++t) {
            if (t == self.index_) continue;
            for (rl::thread_id_t i = 0; i < n; ++i) {
                self.acq_rel_order_[i] = std::max(self.acq_rel_order_[i], state_.light[t][i]);
            }
        }
        for (rl::thread_id_t i = 0; i < n; ++i) {
            state_.heavy[i] = std::max(state_.heavy[i], self.acq_rel_order_[i]);
        }
    }

private:
    struct state {
        rl::timestamp_t light[max_threads][max_threads];  // each thread's clock at its last L
        rl::timestamp_t heavy[max_threads];               // the join of the clocks at every H
    };

    /// The running thread, after checking that the state belongs to this execution: a
    /// thread's own clock only grows within an iteration, so a recorded value above it is
    /// left over from an earlier one (a suite that does not go through the harness).
    static rl::thread_info_base& current(rl::context& c, const rl::debug_info& info) {
        rl::thread_info_base& self = *c.threadx_;
        if (c.get_thread_count() > max_threads) {
            c.fail_test("relacy backend: more threads than relacy_asymmetric_fences::max_threads",
                        rl::test_result_user_assert_failed, info);
        }
        if (state_.light[self.index_][self.index_] > self.own_acq_rel_order_ ||
            state_.heavy[self.index_] > self.own_acq_rel_order_) {
            c.fail_test(
                "relacy backend: asymmetric fence state from an earlier iteration; run the "
                "suite through ringlab::model::make_suite, which resets it",
                rl::test_result_user_assert_failed, info);
        }
        return self;
    }

    static inline state state_;  // zero-initialised, as a static
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
    /// The asymmetric pair orders its two halves like two seq_cst fences and orders nothing
    /// else: see relacy_asymmetric_fences. A mutant of either half drops the pairing.
    static void asymmetric_fence_light(mo_site s) {
        const std::memory_order o = model_control::effective(s, access::fence);
        relacy_asymmetric_fences::light(o == std::memory_order_seq_cst, rl_info(s.loc));
    }
    static void asymmetric_fence_heavy(mo_site s) {
        const std::memory_order o = model_control::effective(s, access::fence);
        relacy_asymmetric_fences::heavy(o, rl_info(s.loc));
    }

    /// Resets the backend's per-execution state; the model-check harness calls it at the
    /// start of every Relacy iteration, so that an iteration replays alone (initial_state).
    static void iteration_begin() noexcept {
        clock_ns_ = 0;
        relacy_asymmetric_fences::reset();
    }

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
    /// The checker's threads share no CPU with another process's: never switched out.
    [[nodiscard]] static bool switched_out_since_asked() noexcept { return false; }
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
