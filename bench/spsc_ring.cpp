// bench/spsc_ring.cpp: spsc_ring under every wait strategy, and the knobs that matter.
//
//   producer ──spsc_ring──▶ consumer               throughput, one_way, idle
//   main ──ping──▶ partner ──pong──▶ main          round_trip, round_trip_dist
//
// Every wait strategy gets the standard rows (rows.hpp) at capacity 65536. The knobs are
// measured with busy_spin_wait, where the queue itself is the bottleneck:
//   capacity_<N>        throughput at other capacities
//   batch_<B>           try_push_batch / try_pop_batch, B values per call
//   payload_<bytes>     an event of that size (the sequence in its first 8 bytes)
//   release_every_16    single pops publish the consumer's position every 16 pops
//   slip_2048           the consumer slips (spsc_options::slip): throughput, and the round
//                       trip it must leave alone
#include <array>
#include <cstddef>

#include "ringlab/spsc_ring.hpp"
#include "rows.hpp"

namespace ringlab::bench {
namespace {

using u64 = std::uint64_t;

/// An event of `Bytes` bytes whose first word is the sequence the kernels check.
template <std::size_t Bytes>
struct payload {
    static_assert(Bytes > sizeof(u64) && Bytes % sizeof(u64) == 0, "A payload is whole words, more than one.");
    u64 sequence;
    std::array<u64, Bytes / sizeof(u64) - 1> body;
};

/// spsc_ring of payload<Bytes> behind the u64 adapter interface.
template <std::size_t Bytes>
class payload_ring {
public:
    explicit payload_ring(std::size_t capacity) : ring_(capacity) {}
    bool try_push(u64 v) { return ring_.try_push(event(v)); }
    bool try_pop(u64& v) {
        payload<Bytes> p;
        if (!ring_.try_pop(p)) return false;
        v = p.sequence;
        return true;
    }
    wait_result push(u64 v) { return ring_.push(event(v)); }
    wait_result pop(u64& v) {
        payload<Bytes> p;
        const wait_result r = ring_.pop(p);
        v = p.sequence;
        return r;
    }
    [[nodiscard]] std::size_t footprint_bytes() const noexcept { return ring_.footprint_bytes(); }

private:
    static payload<Bytes> event(u64 v) {
        payload<Bytes> p{};
        p.sequence = v;
        return p;
    }
    spsc_ring<payload<Bytes>> ring_;
};

template <std::size_t Bytes>
void add_payload_row(const row_base& base) {
    row_spec spec = make_spec(base, row_kind::throughput, {{"payload", Bytes}});
    spec.bytes_per_event = Bytes;
    add_row(spec, [](benchmark::State& s) {
        throughput(s, [] { return std::make_unique<payload_ring<Bytes>>(65536); });
    });
}

}  // namespace

RINGLAB_BENCH_ROWS(spsc_ring_rows) {
    for_each_wait([]<template <class> class Wait>(const char* wait) {
        add_standard_rows({"spsc_ring", wait, "spsc"},
                          [] { return std::make_unique<spsc_ring<u64, Wait>>(65536); });
    });

    const row_base busy{"spsc_ring", "busy_spin_wait", "spsc"};
    for (const u64 capacity : {u64{1024}, u64{1} << 20}) {
        add_row(make_spec(busy, row_kind::throughput, {{"capacity", capacity}}), [capacity](benchmark::State& s) {
            throughput(s, [capacity] { return std::make_unique<spsc_ring<u64>>(capacity); });
        });
    }
    const auto make = [] { return std::make_unique<spsc_ring<u64>>(65536); };
    add_batch_rows<8>(busy, make);
    add_batch_rows<64>(busy, make);
    add_batch_rows<256>(busy, make);
    add_payload_row<64>(busy);
    add_payload_row<256>(busy);
    add_row(make_spec(busy, row_kind::throughput, {{"release_every", 16}}), [](benchmark::State& s) {
        throughput(s, [] { return std::make_unique<spsc_ring<u64>>(65536, busy_spin_wait<>::config{}, spsc_options{16}); });
    });
    // Temporal slipping: throughput, and the round trip it must leave alone.
    const auto slipping = [] {
        return std::make_unique<spsc_ring<u64>>(65536, busy_spin_wait<>::config{},
                                                spsc_options{1, slip_options{slip_distance}});
    };
    add_row(make_spec(busy, row_kind::throughput, {{"slip", slip_distance}}),
            [slipping](benchmark::State& s) { throughput(s, slipping); });
    add_row(make_spec(busy, row_kind::round_trip, {{"slip", slip_distance}}),
            [slipping](benchmark::State& s) { round_trip(s, slipping); });
}

}  // namespace ringlab::bench
