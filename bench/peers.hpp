// bench/peers.hpp: the queues ringlab is measured against, each behind the same small
// adapter (try_push(u64) / try_pop(u64&), and push/pop where the queue blocks by itself), so
// the kernels that measure ringlab measure them too, in the same binary and the same run.
//
//   group spsc (one producer, one consumer)
//     atomic_queue           AtomicQueue<u64, 65536, NIL=0, MINIMIZE_CONTENTION, MAXIMIZE_THROUGHPUT,
//                            TOTAL_ORDER=false, SPSC=true>: its fastest SPSC form
//     boost_spsc_queue       boost::lockfree::spsc_queue<u64, capacity<65536>>
//     moodycamel_rwq         moodycamel::ReaderWriterQueue<u64>(65536), try_enqueue (never allocates)
//     moodycamel_brwq        BlockingReaderWriterQueue: the consumer sleeps on a semaphore
//   group mpsc (many producers, one consumer; these are MPMC queues)
//     atomic_queue_mpmc      AtomicQueue<u64, 65536, NIL=0, true, true, false, SPSC=false>
//     boost_queue            boost::lockfree::queue<u64, capacity<65534>> (its most: 2^16 - 2)
//     moodycamel_cq          moodycamel::ConcurrentQueue<u64>(65536), try_enqueue (never allocates)
//     tbb_bounded_queue      tbb::concurrent_bounded_queue<u64>, capacity 65536; `spin` rows use
//                            try_push/try_pop, `blocking` rows its blocking push/pop
//
// LMAX Disruptor (Java) rows come from outside this binary: see "External rows" in
// reports/README.md.
#pragma once

#include <atomic_queue/atomic_queue.h>
#include <tbb/concurrent_queue.h>

#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <concurrentqueue/concurrentqueue.h>
#include <cstdint>
#include <readerwriterqueue/readerwriterqueue.h>

#include "ringlab/wait_strategy.hpp"

namespace ringlab::bench::peers {

using u64 = std::uint64_t;
inline constexpr std::size_t capacity = 65536;

struct atomic_queue_spsc {
    atomic_queue::AtomicQueue<u64, capacity, 0, true, true, false, true> q;
    bool try_push(u64 v) { return q.try_push(v); }
    bool try_pop(u64& v) { return q.try_pop(v); }
};

struct atomic_queue_mpmc {
    atomic_queue::AtomicQueue<u64, capacity, 0, true, true, false, false> q;
    bool try_push(u64 v) { return q.try_push(v); }
    bool try_pop(u64& v) { return q.try_pop(v); }
};

struct boost_spsc_queue {
    boost::lockfree::spsc_queue<u64, boost::lockfree::capacity<capacity>> q;
    bool try_push(u64 v) { return q.push(v); }
    bool try_pop(u64& v) { return q.pop(v); }
};

struct boost_queue {
    boost::lockfree::queue<u64, boost::lockfree::capacity<65534>> q;
    bool try_push(u64 v) { return q.bounded_push(v); }
    bool try_pop(u64& v) { return q.pop(v); }
};

struct moodycamel_rwq {
    moodycamel::ReaderWriterQueue<u64> q{capacity};
    bool try_push(u64 v) { return q.try_enqueue(v); }
    bool try_pop(u64& v) { return q.try_dequeue(v); }
};

struct moodycamel_brwq {
    moodycamel::BlockingReaderWriterQueue<u64> q{capacity};
    bool try_push(u64 v) { return q.try_enqueue(v); }
    bool try_pop(u64& v) { return q.try_dequeue(v); }
    wait_result pop(u64& v) {
        q.wait_dequeue(v);
        return wait_result::ready;
    }
};

struct moodycamel_cq {
    moodycamel::ConcurrentQueue<u64> q{capacity};
    bool try_push(u64 v) { return q.try_enqueue(v); }
    bool try_pop(u64& v) { return q.try_dequeue(v); }
};

struct tbb_bounded_queue {
    tbb::concurrent_bounded_queue<u64> q;
    tbb_bounded_queue() { q.set_capacity(capacity); }
    bool try_push(u64 v) { return q.try_push(v); }
    bool try_pop(u64& v) { return q.try_pop(v); }
};

/// The same queue through its own blocking calls.
struct tbb_bounded_queue_blocking : tbb_bounded_queue {
    wait_result push(u64 v) {
        q.push(v);
        return wait_result::ready;
    }
    wait_result pop(u64& v) {
        q.pop(v);
        return wait_result::ready;
    }
};

}  // namespace ringlab::bench::peers
