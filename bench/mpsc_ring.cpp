// bench/mpsc_ring.cpp: mpsc_ring under every wait strategy. With one producer the claim is
// still a compare-and-swap: the price of the MPSC contract next to spsc_ring.
//
//   producer ──mpsc_ring──▶ consumer                          throughput, one_way, idle
//   main ──ping──▶ partner ──pong──▶ main                     round_trip, round_trip_dist
//   producer 1..P ──┐
//                   ├──mpsc_ring──▶ consumer                  throughput/.../producers_<P>
//   main ───────────┘
//
// producers_<P> rows run P + 1 threads: more than this machine's CPUs is measured anyway
// and marked oversubscribed.
#include "ringlab/mpsc_ring.hpp"
#include "rows.hpp"

namespace ringlab::bench {

RINGLAB_BENCH_ROWS(mpsc_ring_rows) {
    for_each_wait([]<template <class> class Wait>(const char* wait) {
        const auto make = [] { return std::make_unique<mpsc_ring<std::uint64_t, Wait>>(65536); };
        add_standard_rows({"mpsc_ring", wait, "mpsc"}, make);
        add_producer_rows({"mpsc_ring", wait, "mpsc"}, make, 2);
    });
    const row_base busy{"mpsc_ring", "busy_spin_wait", "mpsc"};
    const auto make = [] { return std::make_unique<mpsc_ring<std::uint64_t>>(65536); };
    add_producer_rows(busy, make, 4);
    add_batch_rows<64>(busy, make);
}

}  // namespace ringlab::bench
