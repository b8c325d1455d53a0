// bench/peers.cpp: the peers' rows, through the same kernels as ringlab's own (peers.hpp).
//
//   producer ──peer──▶ consumer                    throughput, one_way, idle
//   main ──ping──▶ partner ──pong──▶ main          round_trip, round_trip_dist
//   producer x2 ──peer──▶ consumer                 throughput/.../producers_2 (mpsc group)
#include "peers.hpp"

#include "rows.hpp"

namespace ringlab::bench {
namespace {

template <class Q>
auto maker() {
    return [] { return std::make_unique<Q>(); };
}

template <class Q>
void add_peer(const char* name, const char* wait, const char* group, bool producers = false) {
    const row_base base{std::string("peer.") + name, wait, group, true};
    add_standard_rows(base, maker<Q>());
    if (producers) add_producer_rows(base, maker<Q>(), 2);
}

}  // namespace

RINGLAB_BENCH_ROWS(peer_rows) {
    add_peer<peers::atomic_queue_spsc>("atomic_queue", "spin", "spsc");
    add_peer<peers::boost_spsc_queue>("boost_spsc_queue", "spin", "spsc");
    add_peer<peers::moodycamel_rwq>("moodycamel_rwq", "spin", "spsc");
    add_peer<peers::moodycamel_brwq>("moodycamel_brwq", "blocking", "spsc");

    add_peer<peers::atomic_queue_mpmc>("atomic_queue_mpmc", "spin", "mpsc", true);
    add_peer<peers::boost_queue>("boost_queue", "spin", "mpsc", true);
    add_peer<peers::moodycamel_cq>("moodycamel_cq", "spin", "mpsc", true);
    add_peer<peers::tbb_bounded_queue>("tbb_bounded_queue", "spin", "mpsc", true);
    add_peer<peers::tbb_bounded_queue_blocking>("tbb_bounded_queue", "blocking", "mpsc", true);
}

}  // namespace ringlab::bench
