// sequence.hpp: a padded monotonic counter, and the set of sequences a producer gates on.
//
// A sequence counts events: a consumer's sequence is how many events it has finished, so
// positions [0, sequence) are done with and the next one it needs is `sequence`. Counting
// (instead of the Disruptor's "last processed", starting at -1) keeps every range in ringlab
// half-open, [begin, end).
//
// Threading contract: one writer per sequence (its owner), any number of readers.
// Progress: wait-free.
//
// Synchronisation edges:
//   [S1]  release  the owner publishes its count   -> pairs with [S1a] acquire in get():
//                  a reader that sees count n also sees everything the owner did to the
//                  events before n (so a producer may overwrite them, a later stage read them)
//   [G1]  release  a member joins a sequence_group after its sequence is set -> [G1a]
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

#include "ringlab/detail/slot_array.hpp"
#include "ringlab/platform.hpp"
#include "ringlab/sync/native.hpp"
#include "ringlab/sync/site.hpp"

namespace ringlab {

using sync::at;
namespace mo = sync::mo;

template <class Sync = sync::native>
class sequence {
public:
    explicit sequence(std::uint64_t initial = 0) noexcept : value_(initial) {}
    sequence(const sequence&) = delete;
    sequence& operator=(const sequence&) = delete;

    [[nodiscard]] std::uint64_t get() const { return value_.load(at("sequence.S1a.get", mo::acquire)); }
    void set(std::uint64_t v) { value_.store(v, at("sequence.S1.set", mo::release)); }

private:
    // Alone on its lines: it is written by one thread and polled by others.
    alignas(false_sharing_bytes) typename Sync::template atomic<std::uint64_t> value_;
    char pad_[false_sharing_bytes - sizeof(typename Sync::template atomic<std::uint64_t>)]{};
};

/// Sequences that can join and leave while a producer reads them: the consumers added to
/// a running ring. Members are owned here (fixed capacity, set at construction), so a
/// join never allocates and a reader never follows a pointer that is being retired.
///
/// A member joins in two steps: claim a free slot, set its sequence, then mark it active
/// with release [G1]; a reader takes a member into account only after seeing it active
/// with acquire [G1a]. The caller chooses the start: joining at the ring's cursor is always
/// safe, because no producer overwrites a position at or after the slowest existing
/// consumer, and every consumer is at or before the cursor.
template <class Sync = sync::native>
class sequence_group {
    enum state : std::uint32_t { free_slot = 0, claimed = 1, active = 2 };
    struct member {
        sequence<Sync> seq;
        typename Sync::template atomic<std::uint32_t> state{free_slot};
    };

public:
    explicit sequence_group(std::size_t max_members) : members_(max_members), size_(max_members) {
        if (max_members == 0) throw config_error("sequence_group: max_members must be at least 1");
    }

    /// Adds a member that starts at `start`; returns its index, or nothing when full.
    [[nodiscard]] std::optional<std::size_t> join(std::uint64_t start) {
        for (std::size_t i = 0; i < size_; ++i) {
            std::uint32_t expected = free_slot;
            // relaxed: claiming an empty slot orders nothing; [G1] publishes the member.
            if (members_[i].state.compare_exchange_strong(expected, claimed,
                                                          at("sequence_group.claim", mo::relaxed))) {
                members_[i].seq.set(start);
                members_[i].state.store(active, at("sequence_group.G1.activate", mo::release));
                return i;
            }
        }
        return std::nullopt;
    }

    /// The member's own sequence (its owner sets it as it consumes).
    [[nodiscard]] sequence<Sync>& at_index(std::size_t index) { return members_[index].seq; }

    void leave(std::size_t index) {
        // release: a later joiner of this slot sees the slot's sequence written before.
        members_[index].state.store(free_slot, at("sequence_group.leave", mo::release));
    }

    /// The smallest sequence among active members, or `fallback` when there is none.
    [[nodiscard]] std::uint64_t minimum(std::uint64_t fallback) const {
        std::uint64_t lowest = fallback;
        for (std::size_t i = 0; i < size_; ++i) {
            if (members_[i].state.load(at("sequence_group.G1a.scan", mo::acquire)) == active) {
                lowest = std::min(lowest, members_[i].seq.get());
            }
        }
        return lowest;
    }

    [[nodiscard]] std::size_t active_members() const {
        std::size_t n = 0;
        for (std::size_t i = 0; i < size_; ++i) {
            // relaxed: a count for observers, ordered with nothing.
            n += members_[i].state.load(at("sequence_group.count", mo::relaxed)) == active ? 1 : 0;
        }
        return n;
    }

private:
    detail::slot_array<member> members_;
    std::size_t size_;
};

/// What a producer must not lap: the sequences of the consumers at the end of every chain,
/// wired before the ring starts (fixed), plus an optional group of consumers that join
/// and leave while it runs.
template <class Sync = sync::native>
class gating_set {
public:
    static constexpr std::size_t max_fixed = 32;

    /// Adds a fixed gating sequence; only before producers start.
    void add(const sequence<Sync>& s) {
        if (count_ == max_fixed) {
            throw config_error("gating_set: more than " + std::to_string(max_fixed) + " fixed gating sequences");
        }
        fixed_[count_++] = &s;
    }
    /// Removes every fixed gating sequence; only while no producer runs.
    void clear() noexcept { count_ = 0; }
    void attach(sequence_group<Sync>& group) noexcept { group_ = &group; }

    /// The slowest gating consumer's count, or `fallback` (the producer's own position:
    /// nothing gates it) when there is none.
    [[nodiscard]] std::uint64_t minimum(std::uint64_t fallback) const {
        std::uint64_t lowest = fallback;
        for (std::size_t i = 0; i < count_; ++i) lowest = std::min(lowest, fixed_[i]->get());
        return group_ != nullptr ? group_->minimum(lowest) : lowest;
    }

    [[nodiscard]] std::size_t fixed_count() const noexcept { return count_; }

private:
    const sequence<Sync>* fixed_[max_fixed] = {};
    std::size_t count_ = 0;
    sequence_group<Sync>* group_ = nullptr;
};

}  // namespace ringlab
