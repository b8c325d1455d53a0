// wait_strategy.hpp: how a consumer (or a producer facing a full ring) waits.
//
// A wait strategy has exactly two operations, as in the Disruptor:
//   wait_until(ready [, timeout_ns])  loops until ready() is true, the strategy is alerted,
//                                     or the timeout passes; returns which of the three.
//   signal()                          called by a publisher after it made something ready;
//                                     free unless the strategy can put waiters to sleep.
// plus alert()/clear_alert(), which wake every waiter and make waits return `alerted`
// until cleared: the clean-shutdown signal.
//
// Threading contract: any number of waiters and signallers. Progress: waiting is
// obstruction-free; signal() is wait-free.
//
//   busy_spin_wait      pause between polls. Lowest latency, one core per waiter. A waiter
//                       that finds its CPU shared (below) yields between polls instead,
//                       until the sharing ends.
//   yielding_wait       spin_limit polls with pause, then sched_yield between polls.
//   backoff_wait        idle_spin_limit pauses, yield_limit yields, then sleeps that double
//                       from sleep_ns_min up to sleep_ns_max.
//   blocking_wait       spins, yields for yield_ns, then parks on a futex. A publisher pays
//                       a compiler barrier and one load per signal, and a system call only
//                       when a waiter asked for a wake ([W1]) since the last one: the first
//                       signal after the request takes it ([W4a], as LMAX's lite blocking
//                       strategy), so the signals that come while a woken waiter gets back
//                       on a CPU (microseconds on a virtual machine) make no system call. A
//                       waiter woken with its condition still false spins and yields again
//                       before it parks and asks again, so signals that come faster than it
//                       can use them (progress that is not yet enough, others' claims) do
//                       not each pay a wake; a wake that comes sooner than the window the
//                       waiter yielded before it parked doubles that wait's window, up to
//                       yield_max_ns, so a wait that outlasts a stream of signals (a
//                       consumer stalled on a preempted producer's unpublished claim while
//                       the other producers publish) parks and is woken once per window,
//                       not once every yield_ns.
//   timeout_blocking_wait
//                       blocking_wait whose waits return timed_out after a default timeout.
//
// A strategy may declare `streaming_slip`, the distance a Disruptor stage that waits with it
// slips while streaming unless its options say otherwise (batch_event_processor.hpp,
// default_slip). The two that park declare 2,048: a stage that chases several producers a
// few events behind pulls every line across while it is written, and the matrix's
// disruptor.sequencer rows under these strategies ran about a fifth faster slipping. The
// others declare nothing: busy_spin and yielding users pay CPU for latency, which a slip
// spends (up to its polls of pauses on an event); backoff_wait was not measured for one.
//
// A busy spin on a shared CPU. With more spinning threads than CPUs, a waiter's pauses take
// the CPU from the thread it waits for, until the scheduler's time slice ends: a stage
// whose upstream shares its CPU sees at most one ring's worth of events per time slice,
// whatever the ring does (the Disruptor topologies on two CPUs ran at 8M events/s so, for
// LMAX as for ringlab). So busy_spin_wait reads the clock every 64 polls; a gap of at least
// `preempted_gap_ns` between two reads during which the OS switched this thread out for
// another (an involuntary context switch, Sync::switched_out_since_asked) says the CPU is
// shared. Every waiter of the strategy then yields between polls instead of pausing, once
// its wait has spun `shared_spin_ns`, until `shared_window_ns` after the last sign of
// sharing; a yield that gave the CPU away for at least the gap is such a sign. The spin
// before yielding keeps short waits on the CPU: a consumer that chases producers on the
// other CPU a few events behind would otherwise hand its CPU to a producer that never
// waits (the 3P-1C sequencer ran at half its rate without it, and a longer spin slowed the
// pipeline: 10 us measured best of 0, 2, 5, 10, 20 and 100). A thread alone on its CPU
// makes no system call: interrupts and a hypervisor's steal are gaps without a switch, and
// the switch count is read only after a gap. Its cost there is a clock read every 64 polls
// and a test of the config on every poll; `preempted_gap_ns = 0` turns
// the yielding off (a pure spin, as LMAX's BusySpinWaitStrategy).
//
// Synchronisation edges of the alert flag (every strategy):
//   [A1]  alerter:   flag_.store(1) release  publishes what the alerter wrote before alert()
//   [A1a] waiter:    flag_.load() acquire    pairs with [A1]: a wait that returns `alerted`
//                                            sees it
//   [A2]  clearer:   flag_.store(0) relaxed  publishes nothing: a wait that reads the cleared
//                                            flag goes on waiting for ready(), whose own edges
//                                            order the data it then reads
//
// Synchronisation edges of blocking_wait (the sites' labels say W1..W5). One futex word
// holds both the request and the epoch: bit 0 says a waiter asked for a wake, the bits
// above count the wakes. A waiter sleeps on the word it asked with, so a wake that took
// its request (which changes the word) can never be slept through.
//   [W1]  waiter:    word_.fetch_or(1)       asks for a wake before every sleep
//   [W2]  waiter:    heavy fence             orders [W1] before the waiter's re-check of ready()
//   [W3]  publisher: light fence             orders the publication before the read [W4]
//   [W4]  publisher: word_.load              sees [W1] unless the waiter will see the data
//   [W4a] publisher: word_.compare_exchange  takes the request and bumps the epoch in one
//                                            step: of the publishers that saw it, one wakes.
//                                            The others' loads [W4] read a word older than
//                                            the woken waiter's next request [W1], so by the
//                                            fence-fence rule its next re-check sees their
//                                            publications
//   [W5]  alerter:   word_.fetch_add(2)      bumps the epoch, request or not, to wake every
//                                            sleeper (alert(), wake_all()); release: the
//                                            alerter runs no light fence, so a waiter whose
//                                            request [W1] reads the bump sees what came
//                                            before it (the alert flag, a recovered
//                                            position) through [W2], a seq_cst fence and so
//                                            an acquire fence; a request that reads an older
//                                            word sleeps on it, and the bump ends the sleep
// [W1], [W4] and [W4a] are relaxed: the request and the publication are ordered by the
// asymmetric pair [W2]/[W3] below, and the futex word by its own modification order.
// [W2] and [W3] are the two halves of a store-buffering (Dekker) pattern: by the fence-fence
// rule, either the waiter's re-check sees the publication or the publisher sees the waiter.
// They are an asymmetric pair (sync seam): the publisher's half is a compiler barrier, and
// the waiter, which is about to make a futex system call anyway, pays a membarrier that
// puts a full barrier on every running thread. A plain seq_cst fence on the publisher
// would drain its store buffer on every signal, behind the cache miss of the slot it just
// wrote: tens of nanoseconds per event. blocking_wait is therefore for threads of one
// process; memory shared between processes needs plain fences.
#pragma once

#include <climits>
#include <cstdint>
#include <optional>

#include "ringlab/platform.hpp"
#include "ringlab/sync/native.hpp"
#include "ringlab/sync/site.hpp"

namespace ringlab {

using sync::at;
namespace mo = sync::mo;

enum class wait_result : std::uint8_t { ready, alerted, timed_out };

[[nodiscard]] constexpr const char* to_string(wait_result r) noexcept {
    switch (r) {
    case wait_result::ready: return "ready";
    case wait_result::alerted: return "alerted";
    case wait_result::timed_out: return "timed_out";
    }
    return "?";
}

using sync::no_timeout;

namespace detail {

/// The alert flag every strategy carries.
template <class Sync>
class alert_flag {
public:
    void raise() noexcept { flag_.store(1, at("wait.A1.raise", mo::release)); }
    // relaxed: clearing publishes nothing ([A2] in the header).
    void clear() noexcept { flag_.store(0, at("wait.A2.clear", mo::relaxed)); }
    [[nodiscard]] bool raised() const noexcept {
        return flag_.load(at("wait.A1a.poll", mo::acquire)) != 0;
    }

private:
    typename Sync::template atomic<std::uint32_t> flag_{0};
};

/// a + b, or the largest value when that wraps: a timeout near 2^64 ns is as good as none,
/// never one that ended already.
[[nodiscard]] constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
    return b > ~a ? ~std::uint64_t{0} : a + b;
}

/// A deadline computed lazily: a wait that finds ready() true at once reads no clock.
template <class Sync>
class deadline {
public:
    explicit deadline(std::uint64_t timeout_ns) noexcept : timeout_ns_(timeout_ns) {}

    [[nodiscard]] bool bounded() const noexcept { return timeout_ns_ != no_timeout; }

    /// Nanoseconds left (0 when passed); no_timeout when unbounded.
    [[nodiscard]] std::uint64_t remaining_ns() {
        if (!bounded()) return no_timeout;
        const std::uint64_t now = Sync::now_ns();
        if (end_ns_ == 0) end_ns_ = saturating_add(now, timeout_ns_);
        return now >= end_ns_ ? 0 : end_ns_ - now;
    }

    [[nodiscard]] bool passed() { return bounded() && remaining_ns() == 0; }

private:
    std::uint64_t timeout_ns_;
    std::uint64_t end_ns_ = 0;
};

/// The loop shared by the strategies that never sleep on a futex: poll, idle(i), poll...
/// The alert and the deadline are checked every `check_every` polls (a power of two), so
/// the common case, a poll that finds the condition ready, costs nothing else.
template <class Sync, class Ready, class Idle>
wait_result poll_loop(Ready& ready, const alert_flag<Sync>& alert, std::uint64_t timeout_ns,
                      std::uint32_t check_every, Idle&& idle) {
    if (ready()) return wait_result::ready;
    deadline<Sync> limit(timeout_ns);
    for (std::uint64_t i = 0;; ++i) {
        if ((i & (check_every - 1)) == 0) {
            if (alert.raised()) return wait_result::alerted;
            if (limit.passed()) return ready() ? wait_result::ready : wait_result::timed_out;
        }
        idle(i);
        if (ready()) return wait_result::ready;
    }
}

}  // namespace detail

/// Polls with a pause between polls; yields between them while its CPU is shared (header).
template <class Sync = sync::native>
class busy_spin_wait {
public:
    using sync_type = Sync;
    struct config {
        /// The shortest gap between two clock reads (64 polls apart) that, with an
        /// involuntary switch of the thread, says another thread shares its CPU; 0: never
        /// yield.
        std::uint64_t preempted_gap_ns = 50'000;
        /// How long the waiters yield after the last sign that a CPU is shared.
        std::uint64_t shared_window_ns = 20'000'000;
        /// How long a wait spins on a shared CPU before it yields.
        std::uint64_t shared_spin_ns = 10'000;
    };
    static constexpr const char* name = "busy_spin";
    static constexpr std::uint64_t clock_every = 64;  // polls between clock reads

    explicit busy_spin_wait(config cfg = {}) noexcept : cfg_(cfg) {}
    busy_spin_wait(const busy_spin_wait&) = delete;
    busy_spin_wait& operator=(const busy_spin_wait&) = delete;

    template <class Ready>
    wait_result wait_until(Ready&& ready, std::uint64_t timeout_ns = no_timeout) {
        std::uint64_t last_ns = 0;   // the last clock read of this wait; 0: none yet
        std::uint64_t first_ns = 0;  // the first; 0: none yet
        bool yielding = false;
        return detail::poll_loop<Sync>(ready, alert_, timeout_ns, 16, [&](std::uint64_t i) {
            if (cfg_.preempted_gap_ns == 0) {
                Sync::pause();
            } else if (yielding) {
                // Time spent yielding is no gap: the next clock read starts afresh.
                yielding = yield_while_shared();
                if (!yielding) last_ns = 0;
            } else if (i % clock_every == clock_every - 1) {
                const std::uint64_t now = Sync::now_ns();
                if (last_ns != 0 && now - last_ns >= cfg_.preempted_gap_ns &&
                    Sync::switched_out_since_asked() &&
                    !Sync::canary("busy_spin_wait.ignores_a_shared_cpu")) {
                    shared_from(now);
                }
                last_ns = now;
                if (first_ns == 0) first_ns = now;
                if (now - first_ns >= cfg_.shared_spin_ns && now < shared_until_ns()) {
                    yielding = yield_while_shared();
                    if (!yielding) last_ns = 0;
                } else {
                    Sync::pause();
                }
            } else {
                Sync::pause();
            }
        });
    }
    void signal() noexcept {}
    void alert() noexcept { alert_.raise(); }
    void clear_alert() noexcept { alert_.clear(); }
    [[nodiscard]] bool is_alerted() const noexcept { return alert_.raised(); }

    /// Until when (Sync::now_ns) the waiters yield between polls; 0 before any sharing.
    [[nodiscard]] std::uint64_t shared_until_ns() const noexcept {
        return shared_until_.load(at("wait.S2.shared_poll", mo::relaxed));
    }

private:
    /// One yield; a yield that gave the CPU away for the gap or longer renews the window.
    /// Returns whether the waiter goes on yielding.
    bool yield_while_shared() {
        const std::uint64_t before = Sync::now_ns();
        Sync::yield();
        const std::uint64_t after = Sync::now_ns();
        if (after - before >= cfg_.preempted_gap_ns) {
            shared_from(after);
            return true;
        }
        return after < shared_until_ns();
    }

    /// A sign of sharing at `now`: the waiters yield until the window after it ends.
    void shared_from(std::uint64_t now) {
        const std::uint64_t until = detail::saturating_add(now, cfg_.shared_window_ns);
        shared_until_.store(until, at("wait.S1.shared", mo::relaxed));
    }

    config cfg_;
    detail::alert_flag<Sync> alert_;
    // Relaxed: a hint of how to idle, which orders nothing; a waiter that reads an older
    // value pauses or yields a little longer than it needed to.
    typename Sync::template atomic<std::uint64_t> shared_until_{0};
};

/// Spins `spin_limit` polls, then yields the CPU between polls.
template <class Sync = sync::native>
class yielding_wait {
public:
    using sync_type = Sync;
    struct config {
        std::uint32_t spin_limit = 100;
    };
    static constexpr const char* name = "yielding";

    explicit yielding_wait(config cfg = {}) noexcept : cfg_(cfg) {}
    yielding_wait(const yielding_wait&) = delete;
    yielding_wait& operator=(const yielding_wait&) = delete;

    template <class Ready>
    wait_result wait_until(Ready&& ready, std::uint64_t timeout_ns = no_timeout) {
        return detail::poll_loop<Sync>(ready, alert_, timeout_ns, 16, [this](std::uint64_t i) {
            if (i < cfg_.spin_limit) {
                Sync::pause();
            } else {
                Sync::yield();
            }
        });
    }
    void signal() noexcept {}
    void alert() noexcept { alert_.raise(); }
    void clear_alert() noexcept { alert_.clear(); }
    [[nodiscard]] bool is_alerted() const noexcept { return alert_.raised(); }

private:
    config cfg_;
    detail::alert_flag<Sync> alert_;
};

/// Spins, then yields, then sleeps with a doubling, bounded sleep.
template <class Sync = sync::native>
class backoff_wait {
public:
    using sync_type = Sync;
    struct config {
        std::uint32_t idle_spin_limit = 1000;
        std::uint32_t yield_limit = 100;
        std::uint64_t sleep_ns_min = 1'000;
        std::uint64_t sleep_ns_max = 200'000;
    };
    static constexpr const char* name = "backoff";

    explicit backoff_wait(config cfg = {}) : cfg_(validated(cfg)) {}
    backoff_wait(const backoff_wait&) = delete;
    backoff_wait& operator=(const backoff_wait&) = delete;

    template <class Ready>
    wait_result wait_until(Ready&& ready, std::uint64_t timeout_ns = no_timeout) {
        std::uint64_t sleep_ns = cfg_.sleep_ns_min;
        const std::uint64_t yield_end = std::uint64_t{cfg_.idle_spin_limit} + cfg_.yield_limit;
        return detail::poll_loop<Sync>(ready, alert_, timeout_ns, 1, [&](std::uint64_t i) {
            if (i < cfg_.idle_spin_limit) {
                Sync::pause();
            } else if (i < yield_end) {
                Sync::yield();
            } else {
                Sync::sleep_ns(sleep_ns);
                sleep_ns = sleep_ns * 2 > cfg_.sleep_ns_max ? cfg_.sleep_ns_max : sleep_ns * 2;
            }
        });
    }
    void signal() noexcept {}
    void alert() noexcept { alert_.raise(); }
    void clear_alert() noexcept { alert_.clear(); }
    [[nodiscard]] bool is_alerted() const noexcept { return alert_.raised(); }

private:
    static config validated(config cfg) {
        if (cfg.sleep_ns_min == 0 || cfg.sleep_ns_min > cfg.sleep_ns_max) {
            throw config_error("backoff_wait: sleep_ns_min must be in [1, sleep_ns_max]; got " +
                               std::to_string(cfg.sleep_ns_min) + " and sleep_ns_max " +
                               std::to_string(cfg.sleep_ns_max));
        }
        return cfg;
    }

    config cfg_;
    detail::alert_flag<Sync> alert_;
};

/// Spins, yields for up to yield_ns, then parks on a futex until signalled.
template <class Sync = sync::native>
class blocking_wait {
public:
    using sync_type = Sync;
    struct config {
        std::uint32_t spin_limit = 256;
        /// Time spent yielding before parking. A futex wake of an idle vCPU costs tens of
        /// microseconds on a virtual machine; a waiter that parks sooner than that pays more
        /// latency than the CPU it saves.
        std::uint64_t yield_ns = 50'000;
        /// The longest yield window. A wake that leaves the condition false and comes
        /// sooner than the window yielded before the park doubles the window of that wait,
        /// up to this bound (yield_ns if that is larger); a later one starts it over at
        /// yield_ns. Signals that keep coming while the condition stays false (the other
        /// producers' events while one producer's claim is unpublished) then cost a park
        /// and a wake per window, not one every yield_ns, and a waiter whose futile wakes
        /// are sparse yields no longer than before. A wait that parks at once (yield_ns 0)
        /// keeps parking at once.
        std::uint64_t yield_max_ns = 1'000'000;
    };
    static constexpr const char* name = "blocking";
    static constexpr std::uint32_t streaming_slip = 2048;

    explicit blocking_wait(config cfg = {}) noexcept : cfg_(cfg) {}
    blocking_wait(const blocking_wait&) = delete;
    blocking_wait& operator=(const blocking_wait&) = delete;

    /// Out of line: most callers poll once inline before they wait (the rings, the barrier),
    /// and this loop inlined into their hot paths made their layout, and so their rates, a
    /// matter of chance (reports/METHODOLOGY.md, "Wakes under the parking waits").
    template <class Ready>
    [[gnu::noinline]] wait_result wait_until(Ready&& ready, std::uint64_t timeout_ns = no_timeout) {
        detail::deadline<Sync> limit(timeout_ns);
        std::uint64_t yield_end_ns = 0;
        std::uint64_t window_ns = cfg_.yield_ns;
        bool asked = false;  // for the planted bug asks_once (park)
        for (std::uint64_t i = 0;; ++i) {
            if (ready()) return wait_result::ready;
            if (alert_.raised()) return wait_result::alerted;
            if (i < cfg_.spin_limit) {
                Sync::pause();
                continue;
            }
            // One clock read per yield: the yield is a system call, the read is not.
            const std::uint64_t now = Sync::now_ns();
            if (yield_end_ns == 0) yield_end_ns = detail::saturating_add(now, window_ns);
            if (limit.passed()) return wait_result::timed_out;
            if (now < yield_end_ns) {
                Sync::yield();
                continue;
            }
            if (const std::optional<wait_result> r = park(ready, limit, asked)) return *r;
            const std::uint64_t woken = Sync::now_ns();
            // Woken with the condition still false (another waiter's wake, or progress that
            // is not yet enough): spin and yield again before parking again. A signal's wake
            // took its request ([W4a]), so the signals meanwhile make no system call (after
            // an alert's wake or a spurious return the request is still up: one more wake).
            i = 0;
            yield_end_ns = 0;
            // A wake sooner than the window: signals come faster than the waiter can use
            // them, and yielding through the next one costs less than parking for it.
            // Planted bug: the window never grows, and signals that keep coming while the
            // condition stays false cost a park and a wake every yield_ns.
            const bool soon = woken - now < window_ns;
            window_ns = soon && !Sync::canary("blocking_wait.futile_wakes_keep_the_window")
                            ? longer_window(window_ns)
                            : cfg_.yield_ns;
        }
    }

    /// Wakes the parked waiters if one asked for a wake since the last; otherwise a fence
    /// and a load. Inline, and the wake out of line (wake_for): every publish calls it, and
    /// a call per event stood in loops whose rate is their producers' (reports/METHODOLOGY.md,
    /// "Wakes under the parking waits").
    [[gnu::always_inline]] void signal() noexcept {
        Sync::asymmetric_fence_light(at("blocking_wait.W3.signal_fence", mo::seq_cst));
        // relaxed: [W3] orders the load ([W4]).
        const std::int32_t word = word_.load(at("blocking_wait.W4.signal_wanted", mo::relaxed));
        if ((word & asked_bit) == 0) return;
        // A request: cold and out of line, as the wake is a system call.
        wake_for(word);
    }

    void alert() noexcept {
        alert_.raise();
        wake_all();
    }
    /// Wakes every sleeper, whether it asked or not: for the successor of a signaller that
    /// died (a crashed publisher, recovered) after it took a request and before its wake.
    void wake_all() noexcept {
        (void)word_.fetch_add(2, at("blocking_wait.W5.bump_epoch", mo::release));
        wakes_.add();
        Sync::futex_wake(word_, INT_MAX);
    }
    void clear_alert() noexcept { alert_.clear(); }
    [[nodiscard]] bool is_alerted() const noexcept { return alert_.raised(); }

    /// Waiters parked or about to park (for tests and counters).
    [[nodiscard]] std::uint32_t parked_waiters() const noexcept {
        // relaxed: an observation for tests, ordered with nothing.
        return waiters_.load(at("blocking_wait.parked_waiters", mo::relaxed));
    }
    /// Futex wakes made (system calls), by signals and alerts.
    [[nodiscard]] std::uint64_t wakes() const noexcept { return wakes_.get(); }
    /// Wakes asked for, one before each sleep. A signal makes a wake only for a request,
    /// so wakes() <= requests() + the alert() and wake_all() calls.
    [[nodiscard]] std::uint64_t requests() const noexcept { return requests_.get(); }

private:
    /// signal() once a waiter asked for a wake: takes the request and wakes. Out of line: a
    /// system call, rare beside the signals that find no request.
    [[gnu::noinline]] [[gnu::cold]] void wake_for(std::int32_t word) noexcept {
        // relaxed below: the fences order what a take needs ([W4a]).
        if (Sync::canary("blocking_wait.every_signal_wakes")) {
            // Planted bug: bumps the epoch and leaves the request up, so every signal until
            // the waiter runs again makes a wake (a system call).
            (void)word_.fetch_add(2, at("blocking_wait.canary_bump", mo::relaxed));
        } else if (!word_.compare_exchange_strong(word, taken(word),
                                                  at("blocking_wait.W4a.take", mo::relaxed))) {
            return;  // another publisher took it, or an alert bumped the epoch: that one wakes
        }
        wakes_.add();
        Sync::futex_wake(word_, INT_MAX);
    }

    /// Parks until the condition holds, an alert, the deadline, or a wake: nothing after a
    /// wake (or a spurious return) that left the condition false. Out of line: it makes
    /// system calls, and the polls before it stay small in the caller.
    template <class Ready>
    [[gnu::noinline]] std::optional<wait_result> park(Ready& ready, detail::deadline<Sync>& limit, bool& asked) {
        // relaxed: the count is for observers only.
        waiters_.fetch_add(1, at("blocking_wait.count", mo::relaxed));
        std::optional<wait_result> result = wait_result::ready;
        for (;;) {
            // Before every sleep: a wake that took the last request changed the word, and
            // sleeping on the new one needs a new request.
            // Planted bug: only a wait's first park asks for a wake, so a waiter woken with
            // its condition still false sleeps through the signal that would make it true.
            std::int32_t word = 0;
            if (!asked || !Sync::canary("blocking_wait.asks_once")) {
                // relaxed: [W2] orders the request before the re-check below.
                word = word_.fetch_or(asked_bit, at("blocking_wait.W1.announce", mo::relaxed)) | asked_bit;
                requests_.add();
                asked = true;
            } else {
                word = word_.load(at("blocking_wait.canary_word", mo::relaxed));
            }
            Sync::asymmetric_fence_heavy(at("blocking_wait.W2.announce_fence", mo::seq_cst));
            if (ready()) break;
            if (alert_.raised()) {
                result = wait_result::alerted;
                break;
            }
            const std::uint64_t remaining = limit.remaining_ns();
            if (remaining == 0) {
                result = ready() ? wait_result::ready : wait_result::timed_out;
                break;
            }
            if (Sync::canary("blocking_wait.sleep_without_recheck")) {
                // Planted bug: sleeps on whatever word it reads now, after the re-check, so
                // a wake between the re-check and the read is lost.
                const std::int32_t late = word_.load(at("blocking_wait.canary_epoch", mo::relaxed));
                (void)Sync::futex_wait(word_, late, remaining);
                continue;
            }
            if (Sync::futex_wait(word_, word, remaining) != sync::futex_status::timed_out) {
                result.reset();
                break;
            }
        }
        // relaxed: leaving needs no ordering. The request stays up (another waiter may have
        // asked too): a waiter that leaves without a wake costs the next signal one spurious
        // wake.
        waiters_.fetch_sub(1, at("blocking_wait.leave", mo::relaxed));
        return result;
    }

    /// The yield window after a wake that left the condition false and came sooner than
    /// `window`: twice `window`, at most the larger of the two bounds.
    [[nodiscard]] std::uint64_t longer_window(std::uint64_t window) const noexcept {
        const std::uint64_t bound = cfg_.yield_max_ns > cfg_.yield_ns ? cfg_.yield_max_ns : cfg_.yield_ns;
        return window >= bound / 2 ? bound : window * 2;
    }

    static constexpr std::int32_t asked_bit = 1;
    /// The word after a take: the request cleared, the epoch one up (the same as adding 1
    /// to a word whose request bit is set), computed unsigned so that it wraps.
    static constexpr std::int32_t taken(std::int32_t word) noexcept {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(word) + 1U);
    }

    config cfg_;
    detail::alert_flag<Sync> alert_;
    // Read by every signal; written only by waiters that park, the signal that takes a
    // request, and alerts.
    alignas(false_sharing_bytes) typename Sync::futex_word word_{0};
    typename Sync::template atomic<std::uint32_t> waiters_{0};
    typename Sync::counter wakes_;
    typename Sync::counter requests_;
};

/// A blocking_wait whose waits time out after `timeout_ns` unless the caller passes its own.
template <class Sync = sync::native>
class timeout_blocking_wait {
public:
    using sync_type = Sync;
    struct config {
        typename blocking_wait<Sync>::config blocking{};
        std::uint64_t timeout_ns = 1'000'000;
    };
    static constexpr const char* name = "timeout_blocking";
    static constexpr std::uint32_t streaming_slip = blocking_wait<Sync>::streaming_slip;

    explicit timeout_blocking_wait(config cfg = {}) : inner_(cfg.blocking), timeout_ns_(cfg.timeout_ns) {
        if (timeout_ns_ == 0 || timeout_ns_ == no_timeout) {
            throw config_error("timeout_blocking_wait: timeout_ns must be finite and positive");
        }
    }

    template <class Ready>
    wait_result wait_until(Ready&& ready) {
        // Planted bug: the configured default is lost, and a wait on a never-ready condition
        // hangs.
        if (Sync::canary("timeout_blocking_wait.forgets_its_timeout")) return inner_.wait_until(ready);
        return inner_.wait_until(ready, timeout_ns_);
    }
    /// An explicit timeout wins; no_timeout means "the configured default".
    template <class Ready>
    wait_result wait_until(Ready&& ready, std::uint64_t timeout_ns) {
        return inner_.wait_until(ready, timeout_ns == no_timeout ? timeout_ns_ : timeout_ns);
    }
    [[gnu::always_inline]] void signal() noexcept { inner_.signal(); }
    void alert() noexcept { inner_.alert(); }
    void clear_alert() noexcept { inner_.clear_alert(); }
    [[nodiscard]] bool is_alerted() const noexcept { return inner_.is_alerted(); }
    [[nodiscard]] std::uint32_t parked_waiters() const noexcept { return inner_.parked_waiters(); }
    [[nodiscard]] std::uint64_t wakes() const noexcept { return inner_.wakes(); }
    [[nodiscard]] std::uint64_t requests() const noexcept { return inner_.requests(); }
    void wake_all() noexcept { inner_.wake_all(); }

private:
    blocking_wait<Sync> inner_;
    std::uint64_t timeout_ns_;
};

}  // namespace ringlab
