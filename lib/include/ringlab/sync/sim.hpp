// sync/sim.hpp: the deterministic-simulation backend of the sync seam, for dst/.
//
// Every operation here is a scheduling point of the DST scheduler: before an atomic load,
// store, read-modify-write or fence, before each access of plain data, before a futex wait
// or wake, a pause, a yield or a clock read, the running logical thread hands control to
// the scheduler, which picks who runs next from the run's seed. Logical threads are fibers
// on one OS thread, so an operation, once it runs, runs alone.
//
// Memory orders are not erased: the scheduler keeps a vector clock per logical thread and a
// released clock per atomic, and checks each plain-data access (cell<T>) against the last
// conflicting access. An acquire load that reads a relaxed store creates no edge, so a
// weakened order shows up as a data race on the payload even though the run itself is
// sequentially consistent.
//
// The hooks are declared here and defined by the scheduler (dst/, library ringlab_dst);
// a binary that instantiates a primitive with `sync::sim` links it.
#pragma once

#include <cstdint>
#include <source_location>
#include <type_traits>

#include "ringlab/sync/model_control.hpp"
#include "ringlab/sync/site.hpp"

namespace ringlab::sync {

/// Logical threads one simulated run may have (vector clocks are this wide).
inline constexpr int sim_max_threads = 16;

struct sim_vclock {
    std::uint32_t tick[sim_max_threads] = {};
};

/// What the scheduler keeps per atomic object.
struct sim_atomic_meta {
    sim_vclock released;        // the clock an acquire of the current value joins
    std::uint32_t object_id = 0;  // assigned on first use, names the object in traces
};

/// What the scheduler keeps per plain-data cell.
struct sim_cell_meta {
    std::uint32_t writer = 0;      // writing thread + 1; 0: never written
    std::uint32_t write_tick = 0;  // the writer's own clock entry at the write
    sim_vclock reads;              // per thread: its own clock entry at its last read
    std::uint32_t object_id = 0;
    std::source_location write_loc{};  // where the last write happened, for race reports
};

enum class sim_op : std::uint8_t {
    load,
    store,
    rmw,
    cas_fail,
    fence,
    cell_read,
    cell_write,
    futex_wait,
    futex_wake,
    pause,
    yield,
    now,
    sleep,
};

/// Hooks into the scheduler (defined in dst/).
namespace sim_hooks {
/// A scheduling point: the scheduler may run other threads before returning.
void point(sim_op op, const char* label, const std::source_location& loc);
/// Happens-before bookkeeping for an atomic access that just ran with `order`.
void atomic_done(sim_atomic_meta& meta, sim_op op, std::memory_order order, std::uint64_t value);
void fence_done(std::memory_order order);
/// Happens-before for an asymmetric heavy fence: a full fence in every thread at once.
void heavy_fence_done();
/// Race check and bookkeeping for a plain-data access.
void cell_access(sim_cell_meta& meta, bool is_write, const std::source_location& loc);
/// Blocks the running thread on `word` (the caller checked its value) until woken, a
/// timeout, or a spurious wake-up the scheduler injects.
futex_status futex_block(const void* word, std::uint64_t timeout_ns);
int futex_wake(const void* word, int count);
std::uint64_t now_ns();
/// True when a compare_exchange_weak should fail spuriously (a fault the scheduler injects).
bool weak_cas_fails();
void sleep_ns(std::uint64_t ns);
[[noreturn]] void check_failed(const char* what, const std::source_location& loc);
}  // namespace sim_hooks

template <class T>
[[nodiscard]] constexpr std::uint64_t sim_trace_value(const T& v) noexcept {
    if constexpr (sizeof(T) <= sizeof(std::uint64_t) && std::is_trivially_copyable_v<T>) {
        std::uint64_t out = 0;
        __builtin_memcpy(&out, &v, sizeof(T));
        return out;
    } else {
        return 0;
    }
}

template <class T>
class sim_atomic {
public:
    using value_type = T;

    sim_atomic() noexcept : value_{} {}
    explicit sim_atomic(T initial) noexcept : value_{initial} {}
    sim_atomic(const sim_atomic&) = delete;
    sim_atomic& operator=(const sim_atomic&) = delete;

    [[nodiscard]] T load(mo_site s) const {
        sim_hooks::point(sim_op::load, s.label, s.loc);
        const T v = value_;
        sim_hooks::atomic_done(meta_, sim_op::load, model_control::effective(s, access::load),
                               sim_trace_value(v));
        return v;
    }
    void store(T v, mo_site s) {
        sim_hooks::point(sim_op::store, s.label, s.loc);
        value_ = v;
        sim_hooks::atomic_done(meta_, sim_op::store, model_control::effective(s, access::store),
                               sim_trace_value(v));
    }
    T exchange(T v, mo_site s) {
        return rmw(s, [v](T) { return v; });
    }
    bool compare_exchange_weak(T& expected, T desired, mo_site s) {
        return cas(expected, desired, s, true);
    }
    bool compare_exchange_strong(T& expected, T desired, mo_site s) {
        return cas(expected, desired, s, false);
    }
    T fetch_add(T v, mo_site s) {
        return rmw(s, [v](T old) { return static_cast<T>(old + v); });
    }
    T fetch_sub(T v, mo_site s) {
        return rmw(s, [v](T old) { return static_cast<T>(old - v); });
    }
    T fetch_or(T v, mo_site s) {
        return rmw(s, [v](T old) { return static_cast<T>(old | v); });
    }
    T fetch_and(T v, mo_site s) {
        return rmw(s, [v](T old) { return static_cast<T>(old & v); });
    }

    /// The value without a scheduling point, for the scheduler's own futex check.
    [[nodiscard]] T peek() const noexcept { return value_; }

private:
    bool cas(T& expected, T desired, const mo_site& s, bool weak) {
        sim_hooks::point(sim_op::rmw, s.label, s.loc);
        const std::memory_order o = model_control::effective(s, access::rmw);
        if (value_ == expected && !(weak && sim_hooks::weak_cas_fails())) {
            value_ = desired;
            sim_hooks::atomic_done(meta_, sim_op::rmw, o, sim_trace_value(desired));
            return true;
        }
        expected = value_;
        sim_hooks::atomic_done(meta_, sim_op::cas_fail, cas_failure_order(o),
                               sim_trace_value(expected));
        return false;
    }

    template <class Op>
    T rmw(const mo_site& s, Op op) {
        sim_hooks::point(sim_op::rmw, s.label, s.loc);
        const T old = value_;
        value_ = op(old);
        sim_hooks::atomic_done(meta_, sim_op::rmw, model_control::effective(s, access::rmw),
                               sim_trace_value(value_));
        return old;
    }

    T value_;
    mutable sim_atomic_meta meta_;
};

template <class T>
class sim_cell {
public:
    sim_cell() = default;
    sim_cell(const sim_cell&) = delete;
    sim_cell& operator=(const sim_cell&) = delete;

    [[nodiscard]] T load(std::source_location loc = std::source_location::current()) const {
        access(false, loc);
        return value_;
    }
    void store(const T& v, std::source_location loc = std::source_location::current()) {
        access(true, loc);
        value_ = v;
    }
    [[nodiscard]] T& write_ref(std::source_location loc = std::source_location::current()) {
        access(true, loc);
        return value_;
    }
    [[nodiscard]] const T& read_ref(std::source_location loc = std::source_location::current()) const {
        access(false, loc);
        return value_;
    }

private:
    void access(bool is_write, const std::source_location& loc) const {
        sim_hooks::point(is_write ? sim_op::cell_write : sim_op::cell_read, "cell", loc);
        sim_hooks::cell_access(meta_, is_write, loc);
    }

    T value_{};
    mutable sim_cell_meta meta_;
};

/// Statistics are not synchronisation and not scheduling points.
class sim_counter {
public:
    void add(std::uint64_t n = 1) noexcept { value_ += n; }
    void set(std::uint64_t v) noexcept { value_ = v; }
    [[nodiscard]] std::uint64_t get() const noexcept { return value_; }

private:
    std::uint64_t value_ = 0;
};

struct sim {
    static constexpr const char* name = "sim";
    static constexpr bool is_model = true;

    template <class T>
    using atomic = sim_atomic<T>;
    template <class T>
    using cell = sim_cell<T>;
    using counter = sim_counter;
    using futex_word = sim_atomic<std::int32_t>;

    static void fence(mo_site s) {
        sim_hooks::point(sim_op::fence, s.label, s.loc);
        sim_hooks::fence_done(model_control::effective(s, access::fence));
    }
    /// The light half is a compiler barrier: a scheduling point and no ordering of its own.
    /// The heavy half (membarrier) acts as a full fence in every other thread at the point
    /// it has reached, so it orders both ways with everything those threads did and do.
    /// A mutant that removes the heavy half leaves only the scheduling point.
    /// (Interleavings here are sequentially consistent, so the store-buffer effects the pair
    /// exists for are the Relacy backend's to check; here it orders plain data.)
    static void asymmetric_fence_light(mo_site s) {
        sim_hooks::point(sim_op::fence, s.label, s.loc);
        (void)model_control::effective(s, access::fence);
    }
    static void asymmetric_fence_heavy(mo_site s) {
        sim_hooks::point(sim_op::fence, s.label, s.loc);
        if (model_control::effective(s, access::fence) == std::memory_order_seq_cst) {
            sim_hooks::heavy_fence_done();
        }
    }

    static void pause(std::source_location loc = std::source_location::current()) {
        sim_hooks::point(sim_op::pause, "pause", loc);
    }
    static void yield(std::source_location loc = std::source_location::current()) {
        sim_hooks::point(sim_op::yield, "yield", loc);
    }
    [[nodiscard]] static std::uint64_t now_ns(std::source_location loc = std::source_location::current()) {
        sim_hooks::point(sim_op::now, "clock", loc);
        return sim_hooks::now_ns();
    }
    /// The checker's threads share no CPU with another process's: never switched out.
    [[nodiscard]] static bool switched_out_since_asked() noexcept { return false; }
    static void sleep_ns(std::uint64_t ns, std::source_location loc = std::source_location::current()) {
        sim_hooks::point(sim_op::sleep, "sleep", loc);
        sim_hooks::sleep_ns(ns);
    }

    static futex_status futex_wait(futex_word& word, std::int32_t expected,
                                   std::uint64_t timeout_ns = no_timeout,
                                   std::source_location loc = std::source_location::current()) {
        sim_hooks::point(sim_op::futex_wait, "futex", loc);
        if (word.peek() != expected) return futex_status::value_changed;
        return sim_hooks::futex_block(&word, timeout_ns);
    }
    static void futex_wake(futex_word& word, std::int32_t count,
                           std::source_location loc = std::source_location::current()) {
        sim_hooks::point(sim_op::futex_wake, "futex", loc);
        sim_hooks::futex_wake(&word, count);
    }

    static void check(bool ok, const char* what,
                      std::source_location loc = std::source_location::current()) {
        if (!ok) sim_hooks::check_failed(what, loc);
    }

    [[nodiscard]] static bool canary(const char* name) { return model_control::canary(name); }
};

}  // namespace ringlab::sync
