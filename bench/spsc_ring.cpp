// bench/spsc_ring.cpp: spsc_ring throughput and round trip under every wait strategy.
//
//   producer ──spsc_ring──▶ consumer               throughput/spsc_ring/<wait>
//   main ──ping──▶ partner ──pong──▶ main          round_trip/spsc_ring/<wait>
#include "harness.hpp"
#include "ringlab/spsc_ring.hpp"

namespace ringlab::bench {
namespace {

template <template <class> class Wait>
void spsc_throughput(benchmark::State& state) {
    const auto capacity = static_cast<std::size_t>(state.range(0));
    throughput(state, [&] { return std::make_unique<spsc_ring<std::uint64_t, Wait>>(capacity); });
}

template <template <class> class Wait>
void spsc_round_trip(benchmark::State& state) {
    const auto capacity = static_cast<std::size_t>(state.range(0));
    round_trip(state, [&] { return std::make_unique<spsc_ring<std::uint64_t, Wait>>(capacity); });
}

/// The batched-release configuration (spsc_options::release_every = 16).
void spsc_throughput_batched_release(benchmark::State& state) {
    throughput(state, [] {
        return std::make_unique<spsc_ring<std::uint64_t>>(65536, busy_spin_wait<>::config{}, spsc_options{16});
    });
}
BENCHMARK(spsc_throughput_batched_release)
    ->Name("throughput/spsc_ring/busy_spin_wait/release_every_16")
    ->UseManualTime();

#define RINGLAB_SPSC_ROWS(wait)                                                                  \
    BENCHMARK(spsc_throughput<wait>)->Name("throughput/spsc_ring/" #wait)->Arg(65536)->UseManualTime(); \
    BENCHMARK(spsc_round_trip<wait>)->Name("round_trip/spsc_ring/" #wait)->Arg(65536)->UseRealTime()

RINGLAB_SPSC_ROWS(busy_spin_wait);
RINGLAB_SPSC_ROWS(yielding_wait);
RINGLAB_SPSC_ROWS(backoff_wait);
RINGLAB_SPSC_ROWS(blocking_wait);
RINGLAB_SPSC_ROWS(timeout_blocking_wait);

}  // namespace
}  // namespace ringlab::bench
