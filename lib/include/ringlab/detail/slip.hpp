// detail/slip.hpp: temporal slipping, a throughput mode for a consumer that streams right
// behind its producers (FastForward, Giacomoni et al., PPoPP 2008). Used by spsc_ring
// (spsc_options::slip, opt-in) and batch_event_processor (processor_options::slip: opt-in,
// except under the wait strategies that declare a default, batch_event_processor.hpp).
//
// Why. A consumer that keeps up with its producer reads each slot's line while the
// producer is still writing the rest of it: every few events the line crosses between the
// two cores and back, and the producer's stores wait for it. A consumer that stays a few
// thousand positions behind reads lines the producer has finished with, and both sides
// run at the speed of their own caches. Which of the two regimes a free-running pair
// settles in is otherwise chance; the matrix rows .../slip_2048 measure the difference
// beside the default rows, and .../blocking_wait/slip_0 beside the blocking rows that slip
// by default (neither can remove what the machine adds: on a VM whose vCPUs sit far apart,
// every line costs more in both).
//
// What. A consumer that has been streaming (it took at least `after` events since it last
// found none ready) and now finds fewer than `distance` ready first waits, with a pause
// between polls, until the position `distance` ahead is ready, or for at most `polls`
// polls, whichever comes first; then it goes on as usual. An spsc_ring's pop() takes one
// event at a time and slips only when it finds none; a batch_event_processor slips when
// its run is short, which also breaks the steady state in which a stage chases its
// producers a few events behind without ever finding the ring empty. The producers get a
// head start, and the consumer then reads lines they have finished with. A consumer woken
// from idleness by one event (as in a request and its reply) never slips, so the round
// trip is unchanged; an event that arrives while a slip polls waits at most `polls` pauses
// more. A pair that chases without ever finding a run of `after` starts slipping only once
// one comes along (a preemption, a burst); from then on, every run is one.
//
// The poll is only a hint (spsc_ring's is relaxed; the barrier's is its own available()):
// what the consumer then reads is ordered by the structure's acquire edges, exactly as
// without slipping.
#pragma once

#include <cstdint>
#include <string>

#include "ringlab/platform.hpp"

namespace ringlab {

/// Temporal slipping for a streaming consumer (off while `distance` is 0).
struct slip_options {
    /// How far ahead the producers get before a streaming consumer goes on: 0 (off), or at
    /// least 2 and below what one run can hold (the ring's capacity, a stage's max_batch).
    /// Stages that slip one after another (a pipeline) share one ring: give each less than
    /// capacity / stages, or the later ones' slips run to their poll bound.
    std::uint32_t distance = 0;
    /// The most polls a slip waits (each with a pause between), at least 1. A slip counts
    /// against no timeout and does not look at alerts: a wait or a shutdown takes at most
    /// this many pauses longer.
    std::uint32_t polls = 64;
    /// A consumer slips only after taking at least this many events since it last found
    /// none: at least 2, so that a consumer woken by one event (a request, a reply) never
    /// slips. A value above `distance` counts as `distance`, so that a consumer that just
    /// slipped and took its run slips again.
    std::uint32_t after = 16;

    [[nodiscard]] constexpr bool enabled() const noexcept { return distance != 0; }
};

namespace detail {

/// Checks `s` for a structure of `capacity` positions whose consumer reads at most
/// `batch` at a time (the distance must be reachable); returns it with `after` at most
/// `distance`; throws config_error.
inline slip_options validated_slip(const char* who, slip_options s, std::uint64_t capacity,
                                   std::uint64_t batch) {
    if (!s.enabled()) return s;
    const std::uint64_t reach = capacity < batch ? capacity : batch;
    if (s.distance < 2 || s.distance >= reach) {
        throw config_error(std::string(who) + ": slip distance " + std::to_string(s.distance) +
                           " is invalid; it must be at least 2 and below " + std::to_string(reach) +
                           (capacity <= batch ? " (the capacity)" : " (the largest batch)"));
    }
    if (s.polls == 0 || s.after < 2) {
        throw config_error(std::string(who) + ": slip polls must be at least 1 and after at least 2 " +
                           "(got " + std::to_string(s.polls) + " and " + std::to_string(s.after) + ")");
    }
    if (s.after > s.distance) s.after = s.distance;
    return s;
}

/// A streaming consumer's slip: polls `ahead()` (true once the position `distance` ahead is
/// available) up to `polls` times, with a pause between polls. Returns whether the
/// producers got the whole head start.
template <class Sync, class Ahead>
bool slip_wait(const slip_options& s, Ahead&& ahead) {
    for (std::uint32_t i = 0;; ++i) {
        if (ahead()) return true;
        // The canary is a planted bug: an unbounded slip waits for ever on a producer that
        // stopped short of the distance.
        if (i + 1 >= s.polls && !Sync::canary("slip.unbounded")) return false;
        Sync::pause();
    }
}

}  // namespace detail
}  // namespace ringlab
