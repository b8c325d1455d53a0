// multi_producer_sequencer.hpp: hands out positions to any number of producer threads,
// never more than `capacity` ahead of the slowest gating consumer.
//
// Threading contract: any number of producers; any thread may read claimed().
// Progress: claim() is wait-free (one fetch_add) and then waits for room; try_claim() is
// lock-free (a compare-and-swap retried only when another producer claimed first);
// claim_with_room() is the first while the ring has room to spare and the second near full.
//
// There is no shared "published up to" counter: a producer publishes by stamping its own
// slots (ring_buffer, [R1]), so producers never wait for each other to publish, and a
// consumer finds the published prefix from the stamps.
//
// Synchronisation edges:
//   [M1]  claim_ fetch_add / compare-and-swap: hands out positions; relaxed, because the
//         slots are ordered by their stamps and by the gating sequences, not by the claim.
//   [M2]  release  a producer stores the gating minimum it read (with acquire, [S1a]) into
//                  the shared cache -> pairs with [M2a] acquire: another producer that trusts
//                  the cache is ordered after the consumers' reads of the slots it reuses.
//
// Invariant (W1): as for the single-producer sequencer, a claim [begin, end) never has
// end - capacity above the gating minimum read by the claiming producer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "ringlab/platform.hpp"
#include "ringlab/sequence.hpp"
#include "ringlab/sync/native.hpp"

namespace ringlab {

template <class Sync = sync::native>
class multi_producer_sequencer {
public:
    using sync_type = Sync;

    explicit multi_producer_sequencer(std::size_t capacity) : capacity_(capacity) {}
    multi_producer_sequencer(const multi_producer_sequencer&) = delete;
    multi_producer_sequencer& operator=(const multi_producer_sequencer&) = delete;

    [[nodiscard]] gating_set<Sync>& gating() noexcept { return gating_; }

    /// Claims [begin, begin + n) only if it laps nobody; returns begin. Never blocks and
    /// never leaves a claim behind when it fails.
    [[nodiscard]] std::optional<std::uint64_t> try_claim(std::size_t n) {
        // relaxed: a first guess; the compare-and-swap below decides [M1].
        std::uint64_t begin = claim_.load(at("multi_producer_sequencer.M1.read", mo::relaxed));
        for (;;) {
            if (!has_room(begin + n)) return std::nullopt;
            if (claim_.compare_exchange_weak(begin, begin + n,
                                             at("multi_producer_sequencer.M1.try_claim", mo::relaxed))) {
                return begin;
            }
        }
    }

    /// Claims [begin, begin + n) at once (the claim cannot be taken back: publish it);
    /// the caller then waits until has_room(begin + n) before writing the slots.
    [[nodiscard]] std::uint64_t claim(std::size_t n) {
        return claim_.fetch_add(n, at("multi_producer_sequencer.M1.claim", mo::relaxed));
    }

    /// Whether a claim ending at `end` laps nobody. Reads the shared cache first and the
    /// gating sequences only when the cache says it would.
    [[nodiscard]] bool has_room(std::uint64_t end) {
        const std::uint64_t cached = gating_cache_.load(at("multi_producer_sequencer.M2a.cache", mo::acquire));
        if (end <= cached + capacity_) return true;
        const std::uint64_t lowest = gating_.minimum(claimed());
        gating_cache_.store(lowest, at("multi_producer_sequencer.M2.cache", mo::release));
        return end <= lowest + capacity_;
    }

    /// Claims n positions for a producer that waits for room (ring_buffer::next): while more
    /// than a quarter of the ring is free, by fetch_add, so producers never retry each
    /// other; near full, by compare-and-swap and only when the claim laps nobody. Returns
    /// nothing when the ring is full: the producer then waits for room holding no claim, and
    /// claims by fetch_add once has_room(claimed() + n). A claim by fetch_add may still have
    /// to wait until has_room(begin + n): other producers can take the room between the
    /// check and the fetch_add.
    [[nodiscard]] std::optional<std::uint64_t> claim_with_room(std::size_t n) {
        // relaxed, both: they only choose the path; has_room() decides, with [M2a].
        const std::uint64_t guess = claim_.load(at("multi_producer_sequencer.M1.guess", mo::relaxed));
        const std::uint64_t cached = gating_cache_.load(at("multi_producer_sequencer.spare", mo::relaxed));
        if (guess + n + capacity_ / 4 <= cached + capacity_) return claim(n);
        return try_claim(n);
    }

    /// The end of everything claimed so far (not necessarily published).
    [[nodiscard]] std::uint64_t claimed() const {
        // relaxed: a position, ordered with nothing; readers that need the slots read stamps.
        return claim_.load(at("multi_producer_sequencer.claimed", mo::relaxed));
    }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    const std::uint64_t capacity_;
    alignas(false_sharing_bytes) typename Sync::template atomic<std::uint64_t> claim_{0};
    alignas(false_sharing_bytes) typename Sync::template atomic<std::uint64_t> gating_cache_{0};
    gating_set<Sync> gating_;
};

}  // namespace ringlab
