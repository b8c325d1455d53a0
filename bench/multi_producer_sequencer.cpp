// bench/multi_producer_sequencer.cpp: how a multi-producer ring should say "published":
// lap stamps in the slots (what ring_buffer<multi_producer> does) or a parity bitmap (one bit
// per slot in a separate array, flipped with fetch_xor each lap, as some Disruptor ports do).
// Both claim with fetch_add and gate on the consumer the same way; only availability
// differs, so these rows are the measurement behind ring_buffer's choice.
//
//   {P1, P2, ...} ──▶ ring ──▶ consumer    throughput/multi_producer_sequencer.<scheme>/spin/producers_<n>
#include <atomic>
#include <bit>
#include <memory>
#include <vector>

#include "harness.hpp"
#include "registry.hpp"
#include "rows.hpp"
#include "ringlab/ring_buffer.hpp"

namespace ringlab::bench {
namespace {

using u64 = std::uint64_t;
constexpr std::size_t capacity = 65536;

/// ring_buffer<multi_producer>: stamps colocated with the events.
class lap_stamps {
public:
    lap_stamps() { ring_.gating().add(consumed_); }
    bool try_push(u64 v) {
        const auto p = ring_.try_next();
        if (!p) return false;
        ring_.write(*p) = v;
        ring_.publish(*p);
        return true;
    }
    bool try_pop(u64& v) {
        if (!ring_.published(next_)) return false;
        v = ring_.read(next_);
        consumed_.set(++next_);
        return true;
    }
    [[nodiscard]] std::size_t footprint_bytes() const noexcept { return ring_.footprint_bytes(); }

private:
    ring_buffer<u64, multi_producer> ring_{capacity};
    sequence<> consumed_;
    u64 next_ = 0;
};

/// The same claim and gating, with availability as one bit per slot: set to the lap's
/// parity by the publishing producer's fetch_xor.
class parity_bitmap {
public:
    parity_bitmap() : words_(capacity / 64), events_(capacity) {}
    bool try_push(u64 v) {
        u64 p = claim_.load(std::memory_order_relaxed);
        do {
            if (p + 1 > consumed_.load(std::memory_order_acquire) + capacity) return false;
        } while (!claim_.compare_exchange_weak(p, p + 1, std::memory_order_relaxed));
        events_[p & (capacity - 1)] = v;
        const u64 index = p & (capacity - 1);
        words_[index / 64].fetch_xor(u64{1} << (index % 64), std::memory_order_release);
        return true;
    }
    bool try_pop(u64& v) {
        const u64 index = next_ & (capacity - 1);
        const u64 lap_parity = (next_ / capacity) & 1;  // a bit flips once per lap: 0 -> 1 on lap 0
        const u64 bit = (words_[index / 64].load(std::memory_order_acquire) >> (index % 64)) & 1;
        if (bit == lap_parity) return false;
        v = events_[index];
        consumed_.store(++next_, std::memory_order_release);
        return true;
    }
    [[nodiscard]] std::size_t footprint_bytes() const noexcept {
        return sizeof(*this) + words_.size() * sizeof(u64) + events_.size() * sizeof(u64);
    }

private:
    alignas(false_sharing_bytes) std::atomic<u64> claim_{0};
    alignas(false_sharing_bytes) std::atomic<u64> consumed_{0};
    alignas(false_sharing_bytes) u64 next_ = 0;
    std::vector<std::atomic<u64>> words_;
    std::vector<u64> events_;
};

}  // namespace

RINGLAB_BENCH_ROWS(multi_producer_sequencer_rows) {
    auto add = [](const char* scheme, auto make) {
        const row_base base{std::string("multi_producer_sequencer.") + scheme, "spin", "multi_producer_sequencer"};
        add_row(make_spec(base, row_kind::throughput), [make](benchmark::State& s) { throughput(s, make); });
        for (const int producers : {2, 3}) {
            row_spec spec = make_spec(base, row_kind::throughput, {{"producers", static_cast<u64>(producers)}});
            spec.threads = producers + 1;
            add_row(spec, [make, producers](benchmark::State& s) { throughput_producers(s, make, producers); });
        }
    };
    add("lap_stamps", [] { return std::make_unique<lap_stamps>(); });
    add("parity_bitmap", [] { return std::make_unique<parity_bitmap>(); });
}

}  // namespace ringlab::bench
