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
//   [G2]  heavy asymmetric fence after [G1], before the joiner reads its start   <-> [G2a],
//         the light fence a producer takes before it scans the gating set (sequencers);
//         a single producer announces its claims before it [C1] (single_producer_sequencer)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

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
/// Joining at the ring's cursor. A producer that scans the gating set without seeing a new
/// member can still lap it: the fixed consumers may have moved past any start the member
/// picked before it became visible. So a join is a handshake with the producers' scans:
/// the member sets a provisional start, becomes active [G1], takes a heavy asymmetric fence
/// [G2], and then reads the cursor again for its real start. A producer takes the light
/// half [G2a] just before it scans. Either the scan sees the member, at one of its two
/// starts, or the member's second cursor read counts every claim made before that scan;
/// a scan's minimum is never above the claims made before it, so nothing at or after the
/// member's start is overwritten on the strength of a scan that missed it.
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

    /// Adds a member that starts at the cursor: `cursor()` counts at least every claim made
    /// before the producers' last scan of the gating set, and never goes down on one thread
    /// (ring_buffer::cursor). Returns the member's index, or nothing when the group is full.
    /// The member's sequence holds its start on return.
    template <class Cursor>
    [[nodiscard]] std::optional<std::size_t> join(Cursor&& cursor) {
        for (std::size_t i = 0; i < size_; ++i) {
            std::uint32_t expected = free_slot;
            // relaxed: claiming an empty slot orders nothing; [G1] publishes the member.
            if (members_[i].state.compare_exchange_strong(expected, claimed,
                                                          at("sequence_group.claim", mo::relaxed))) {
                members_[i].seq.set(cursor());  // provisional: at or below the real start
                members_[i].state.store(active, at("sequence_group.G1.activate", mo::release));
                if (Sync::canary("sequence_group.join_without_handshake")) return i;  // planted bug
                Sync::asymmetric_fence_heavy(at("sequence_group.G2.join_fence", mo::seq_cst));
                members_[i].seq.set(cursor());
                return i;
            }
        }
        return std::nullopt;
    }

    /// The member's own sequence (its owner sets it as it consumes).
    [[nodiscard]] sequence<Sync>& at_index(std::size_t index) { return members_[checked(index)].seq; }

    void leave(std::size_t index) {
        checked(index);
        // release: pairs with the scan's acquire [G1a]: a producer that sees the slot free
        // has seen what the member did before it left.
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
    std::size_t checked(std::size_t index) const {
        if (index >= size_) {
            throw config_error("sequence_group: member " + std::to_string(index) + " does not exist (the group has " +
                               std::to_string(size_) + ")");
        }
        return index;
    }

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
    /// nothing gates it) when there is none. Takes the light asymmetric fence [G2a] first,
    /// the producers' half of the join handshake (sequence_group).
    [[nodiscard]] std::uint64_t minimum(std::uint64_t fallback) const {
        Sync::asymmetric_fence_light(at("sequence_group.G2a.scan_fence", mo::seq_cst));
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
