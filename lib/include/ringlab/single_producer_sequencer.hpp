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
//
// The claimed count is published with a relaxed store ([C1], a plain store on x86) so that
// a consumer joining at the cursor can read it (sequence_group's join handshake orders it).
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
        const std::uint64_t begin = next_;
        if (!has_room(begin + n)) return std::nullopt;
        next_ = begin + n;
        // relaxed: a position for joiners; the join handshake's fences order it [C1].
        claimed_.store(next_, at("single_producer_sequencer.C1.claim", mo::relaxed));
        return begin;
    }

    /// Whether a claim ending at `end` would lap nobody, refreshing the cached gating
    /// minimum only when the cache says it would.
    [[nodiscard]] bool has_room(std::uint64_t end) {
        if (end <= cached_gating_ + capacity_) [[likely]] return true;
        return refresh_room(end);
    }

    /// The end of everything claimed so far (the next position to claim), from any thread.
    [[nodiscard]] std::uint64_t claimed() const {
        // relaxed: see [C1].
        return claimed_.load(at("single_producer_sequencer.C1a.claimed", mo::relaxed));
    }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    // has_room() once the cache says full, out of line: the fast path stays in the caller.
    [[gnu::noinline]] bool refresh_room(std::uint64_t end) {
        cached_gating_ = gating_.minimum(next_);
        if (Sync::canary("single_producer_sequencer.wrap_check_off_by_one")) {
            // Planted bug: lets the producer reuse the slot the slowest consumer is reading.
            return end <= cached_gating_ + capacity_ + 1;
        }
        return end <= cached_gating_ + capacity_;
    }

    const std::uint64_t capacity_;
    std::uint64_t next_ = 0;  // the producer's own copy of claimed_
    std::uint64_t cached_gating_ = 0;
    alignas(false_sharing_bytes) typename Sync::template atomic<std::uint64_t> claimed_{0};
    alignas(false_sharing_bytes) char tail_pad_[1]{};
    gating_set<Sync> gating_;
};

}  // namespace ringlab
