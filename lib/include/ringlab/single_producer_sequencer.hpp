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
// The claimed count is announced to other threads ([C1], a relaxed store, a plain store on
// x86) only when the producer scans the gating set, just before the scan's light fence
// [G2a], not on every claim: a join handshake (sequence_group) needs exactly the claims made
// before each scan that missed the joiner, and a store per claim, beside the event and its
// stamp, takes a third of the producer's store buffer: with the consumer on a far core, the
// slot lines in flight to it fall from six to four, and 1P-1C throughput by a fifth (the
// unicast rows, reports/METHODOLOGY.md). Between scans, the ring finds the rest of the
// cursor from the stamps (ring_buffer::cursor).
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
        return begin;
    }

    /// Whether a claim ending at `end` would lap nobody, refreshing the cached gating
    /// minimum only when the cache says it would.
    [[nodiscard]] bool has_room(std::uint64_t end) {
        if (room_known(end)) [[likely]]
            return true;
        return refresh_room(end);
    }

    /// Whether the cached gating minimum alone shows room up to `end`: reads nothing shared.
    [[nodiscard]] bool room_known(std::uint64_t end) const noexcept {
        return end <= cached_gating_ + capacity_;
    }

    /// The end of everything claimed so far (the next position to claim): the producer's
    /// thread only.
    [[nodiscard]] std::uint64_t claimed() const noexcept { return next_; }

    /// The claims announced at the producer's last scan of the gating set, from any thread
    /// (a relaxed load: possibly an earlier announcement). The latest is at most claimed(),
    /// and claimed() is at most a capacity past it: the producer claims no further than the
    /// scan's minimum plus the capacity, and that minimum is at most what it announced.
    [[nodiscard]] std::uint64_t announced() const {
        // relaxed: see [C1].
        return announced_.load(at("single_producer_sequencer.C1a.announced", mo::relaxed));
    }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    // has_room() once the cache says full, out of line: the fast path stays in the caller.
    [[gnu::noinline]] bool refresh_room(std::uint64_t end) {
        // relaxed: the scan's light fence [G2a] orders it before the scan, for joiners [C1].
        announced_.store(next_, at("single_producer_sequencer.C1.announce", mo::relaxed));
        cached_gating_ = gating_.minimum(next_);
        if (Sync::canary("single_producer_sequencer.wrap_check_off_by_one")) {
            // Planted bug: lets the producer reuse the slot the slowest consumer is reading.
            return end <= cached_gating_ + capacity_ + 1;
        }
        return room_known(end);
    }

    const std::uint64_t capacity_;
    std::uint64_t next_ = 0;  // everything claimed: the producer's own
    std::uint64_t cached_gating_ = 0;
    alignas(false_sharing_bytes) typename Sync::template atomic<std::uint64_t> announced_{0};
    alignas(false_sharing_bytes) char tail_pad_[1]{};
    gating_set<Sync> gating_;
};

}  // namespace ringlab
