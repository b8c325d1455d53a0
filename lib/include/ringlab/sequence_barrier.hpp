// sequence_barrier.hpp: what a consumer waits on: the producers' stamps when it reads
// straight from the ring, or the sequences of the stages it comes after.
//
// Threading contract: used by one consumer thread; reads shared state only.
// Progress: available() is wait-free; wait_for() waits through the ring's consumer wait
// strategy and returns on data, on the consumer's stop position, on alert or on timeout.
//
// Without dependents the available run is found from the slots' stamps ([R1a]); with
// dependents it is the slowest dependent's count ([S1a]): every position below it was
// published, or the dependent could not have finished it. Either way a stage never passes
// the stages it depends on (invariant B1).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>

#include "ringlab/detail/slip.hpp"
#include "ringlab/platform.hpp"
#include "ringlab/sequence.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab {

/// "No stop requested" for a consumer's stop position.
inline constexpr std::uint64_t run_forever = std::numeric_limits<std::uint64_t>::max();

template <class Ring>
class sequence_barrier {
    using Sync = typename Ring::sync_type;

public:
    static constexpr std::size_t max_dependents = 8;

    explicit sequence_barrier(Ring& ring, std::initializer_list<const sequence<Sync>*> dependents = {})
        : ring_(&ring) {
        for (const sequence<Sync>* d : dependents) add_dependent(*d);
    }

    void add_dependent(const sequence<Sync>& s) {
        if (count_ == max_dependents) {
            throw config_error("sequence_barrier: more than " + std::to_string(max_dependents) + " dependents");
        }
        dependents_[count_++] = &s;
    }
    [[nodiscard]] std::size_t dependents() const noexcept { return count_; }
    [[nodiscard]] Ring& ring() const noexcept { return *ring_; }

    /// The end of what is available from `position`, no further than `limit` (never
    /// blocks): `position` itself when nothing is.
    [[nodiscard]] std::uint64_t available(std::uint64_t position, std::uint64_t limit) const {
        if (count_ == 0) return ring_->published_end(position, limit);
        std::uint64_t lowest = limit;
        for (std::size_t i = 0; i < count_; ++i) lowest = std::min(lowest, dependents_[i]->get());
        if (Sync::canary("sequence_barrier.ignores_dependents")) {
            // Planted bug: a stage runs ahead of the stages it comes after.
            return ring_->published_end(position, limit);
        }
        return std::max(lowest, position);
    }

    struct waited {
        wait_result result;
        std::uint64_t end;  // available run is [position, end); end == position: none
        bool idled;         // nothing was available at first
        bool slipped;       // it slipped first (see below)
    };

    /// Waits until something is available at `position` (up to `limit`), or `stop` (the
    /// consumer's stop position) is at or below `position`.
    ///
    /// A streaming consumer passes `slip` (detail/slip.hpp): when fewer than slip->distance
    /// positions are available, and `limit` leaves room for more than that many, it first
    /// polls for the position slip->distance ahead, at most slip->polls times (outside
    /// `timeout_ns`, and without looking at the alert).
    template <class StopAtomic>
    waited wait_for(std::uint64_t position, std::uint64_t limit, const StopAtomic& stop,
                    std::uint64_t timeout_ns = no_timeout, const slip_options* slip = nullptr) const {
        std::uint64_t end = available(position, limit);
        const bool idled = end == position;
        const bool slipping =
            slip != nullptr && end - position < slip->distance && limit - position > slip->distance;
        if (slipping) {
            const std::uint64_t target = position + slip->distance;
            (void)detail::slip_wait<Sync>(*slip, [&] { return available(target, target + 1) > target; });
            end = available(position, limit);
        }
        if (end > position) return {wait_result::ready, end, idled, slipping};
        const wait_result r = ring_->consumer_wait().wait_until(
            [&] {
                end = available(position, limit);
                // relaxed: the stop position carries no data; the events are ordered by
                // [R1a] and [S1a], the wake-up by the wait strategy.
                return end > position ||
                       stop.load(at("sequence_barrier.stop_poll", mo::relaxed)) <= position;
            },
            timeout_ns);
        return {r, end, true, slipping};
    }

private:
    Ring* ring_;
    const sequence<Sync>* dependents_[max_dependents] = {};
    std::size_t count_ = 0;
};

}  // namespace ringlab
