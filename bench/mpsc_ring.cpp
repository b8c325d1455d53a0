// bench/mpsc_ring.cpp: mpsc_ring throughput and round trip under every wait strategy, one
// producer (the claim is a compare-and-swap even then: this is the price of the MPSC
// contract next to spsc_ring).
//
//   producer ──mpsc_ring──▶ consumer               throughput/mpsc_ring/<wait>
//   main ──ping──▶ partner ──pong──▶ main          round_trip/mpsc_ring/<wait>
#include "harness.hpp"
#include "ringlab/mpsc_ring.hpp"

namespace ringlab::bench {
namespace {

template <template <class> class Wait>
void mpsc_throughput(benchmark::State& state) {
    const auto capacity = static_cast<std::size_t>(state.range(0));
    throughput(state, [&] { return std::make_unique<mpsc_ring<std::uint64_t, Wait>>(capacity); });
}

template <template <class> class Wait>
void mpsc_round_trip(benchmark::State& state) {
    const auto capacity = static_cast<std::size_t>(state.range(0));
    round_trip(state, [&] { return std::make_unique<mpsc_ring<std::uint64_t, Wait>>(capacity); });
}

#define RINGLAB_MPSC_ROWS(wait)                                                                  \
    BENCHMARK(mpsc_throughput<wait>)->Name("throughput/mpsc_ring/" #wait)->Arg(65536)->UseManualTime(); \
    BENCHMARK(mpsc_round_trip<wait>)->Name("round_trip/mpsc_ring/" #wait)->Arg(65536)->UseRealTime()

RINGLAB_MPSC_ROWS(busy_spin_wait);
RINGLAB_MPSC_ROWS(yielding_wait);
RINGLAB_MPSC_ROWS(backoff_wait);
RINGLAB_MPSC_ROWS(blocking_wait);
RINGLAB_MPSC_ROWS(timeout_blocking_wait);

}  // namespace
}  // namespace ringlab::bench
