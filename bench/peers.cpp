// bench/peers.cpp: the queues we measure ourselves against, through the same kernels.
//
//   atomic_queue        AtomicQueue<u64, 65536, NIL=0, ..., SPSC=true>: its fastest SPSC form
//   boost_spsc_queue    boost::lockfree::spsc_queue<u64, capacity<65536>>
#include <atomic_queue/atomic_queue.h>
#include <boost/lockfree/spsc_queue.hpp>

#include "harness.hpp"

namespace ringlab::bench {
namespace {

struct atomic_queue_spsc {
    atomic_queue::AtomicQueue<std::uint64_t, 65536, 0, true, true, false, true> q;
    bool try_push(std::uint64_t v) { return q.try_push(v); }
    bool try_pop(std::uint64_t& v) { return q.try_pop(v); }
};

struct boost_spsc {
    boost::lockfree::spsc_queue<std::uint64_t, boost::lockfree::capacity<65536>> q;
    bool try_push(std::uint64_t v) { return q.push(v); }
    bool try_pop(std::uint64_t& v) { return q.pop(v); }
};

template <class Q>
void peer_throughput(benchmark::State& state) {
    throughput(state, [] { return std::make_unique<Q>(); });
}
template <class Q>
void peer_round_trip(benchmark::State& state) {
    round_trip(state, [] { return std::make_unique<Q>(); });
}

BENCHMARK(peer_throughput<atomic_queue_spsc>)->Name("throughput/peer/atomic_queue")->UseManualTime();
BENCHMARK(peer_round_trip<atomic_queue_spsc>)->Name("round_trip/peer/atomic_queue")->UseRealTime();
BENCHMARK(peer_throughput<boost_spsc>)->Name("throughput/peer/boost_spsc_queue")->UseManualTime();
BENCHMARK(peer_round_trip<boost_spsc>)->Name("round_trip/peer/boost_spsc_queue")->UseRealTime();

}  // namespace
}  // namespace ringlab::bench
