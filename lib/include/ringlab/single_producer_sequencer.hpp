// single_producer_sequencer.hpp: hands out positions to one producer thread, never more
// than `capacity` ahead of the slowest gating consumer (wrap prevention).
//
// Threading contract: one producer thread calls try_claim/claimed; any thread may read
// cursor-related state through the ring buffer. Progress: wait-free.
//
// The fast path touches only the producer's own line: its next position and a cached copy
// of the slowest gating consumer's count. The gating sequences are read ([S1a], acquire)
// only when the cache says the claim would lap someone, and no read-modify-write is ever
// needed, because nobody else claims.
//
// Invariant (W1): for every claim [begin, end), end - capacity <= min(gating) at the time
// of the claim: the slots it reuses held positions every gating consumer has finished.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "ringlab/platform.hpp"
#include "ringlab/sequence.hpp"
#include "ringlab/sync/native.hpp"

namespace ringlab {

template <class Sync = sync::native>
class single_producer_sequencer {
public:
    using sync_type = Sync;

    explicit single_producer_sequencer(std::size_t capacity) : capacity_(capacity) {}
    single_producer_sequencer(const single_producer_sequencer&) = delete;
    single_producer_sequencer& operator=(const single_producer_sequencer&) = delete;

    [[nodiscard]] gating_set<Sync>& gating() noexcept { return gating_; }

    /// Claims [begin, begin + n) if that laps nobody; returns begin. Never blocks.
    [[nodiscard]] std::optional<std::uint64_t> try_claim(std::size_t n) {
        const std::uint64_t begin = next_.get();
        if (!has_room(begin + n)) return std::nullopt;
        next_.set(begin + n);
        return begin;
    }

    /// Whether a claim ending at `end` would lap nobody, refreshing the cached gating
    /// minimum only when the cache says it would.
    [[nodiscard]] bool has_room(std::uint64_t end) {
        if (end <= cached_gating_ + capacity_) return true;
        cached_gating_ = gating_.minimum(next_.get());
        if (Sync::canary("single_producer_sequencer.wrap_check_off_by_one")) {
            // Planted bug: lets the producer reuse the slot the slowest consumer is reading.
            return end <= cached_gating_ + capacity_ + 1;
        }
        return end <= cached_gating_ + capacity_;
    }

    /// The end of everything claimed so far (the next position to claim).
    [[nodiscard]] std::uint64_t claimed() const noexcept { return next_.get(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    const std::uint64_t capacity_;
    typename Sync::counter next_;  // written by the producer only; a counter so others may read it
    std::uint64_t cached_gating_ = 0;
    gating_set<Sync> gating_;
};

}  // namespace ringlab
