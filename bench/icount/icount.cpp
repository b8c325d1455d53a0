// bench/icount/icount.cpp: single-threaded kernels with a fixed amount of work, run under
// valgrind (callgrind) by the matrix runner. Their instruction counts are identical run to
// run, so `scripts/compare` gates on them with a margin of a few percent where wall-clock
// numbers on a shared machine move by tens of percent.
//
//   ringlab-bench-icount --list           kernel names, one a line
//   ringlab-bench-icount KERNEL EVENTS    runs KERNEL over EVENTS events inside
//                                         ringlab_icount_run(), the function the runner
//                                         counts with --toggle-collect
//
// Each kernel moves EVENTS values through a queue on one thread in rounds of 64 (fill,
// then drain), so both the "full" and "empty" paths run; construction is outside the
// counted function. The Disruptor kernels (ring_buffer.*) publish into a ring_buffer and
// consume it through an event_poller on the same thread. Built for a fixed ISA
// (x86-64-v2), not -march=native: valgrind 3.19 knows no AVX-512, and counts must compare
// across hosts.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../histogram.hpp"
#include "../peers.hpp"
#include "ringlab/batch_event_processor.hpp"
#include "ringlab/event_poller.hpp"
#include "ringlab/mpsc_ring.hpp"
#include "ringlab/ring_buffer.hpp"
#include "ringlab/sequence_barrier.hpp"
#include "ringlab/spsc_ring.hpp"

namespace {

using u64 = std::uint64_t;
constexpr std::size_t round_size = 64;

u64 sink = 0;  // every kernel folds what it read into this, so nothing is optimised away

template <class Q>
void try_push_pop(Q& q, u64 events) {
    for (u64 done = 0; done < events; done += round_size) {
        for (u64 i = 1; i <= round_size; ++i) {
            if (!q.try_push(done + i)) std::abort();
        }
        for (std::size_t i = 0; i < round_size; ++i) {
            u64 v = 0;
            if (!q.try_pop(v)) std::abort();
            sink += v;
        }
    }
}

template <class Q>
void push_pop(Q& q, u64 events) {
    for (u64 done = 0; done < events; done += round_size) {
        for (u64 i = 1; i <= round_size; ++i) (void)q.push(done + i);
        for (std::size_t i = 0; i < round_size; ++i) {
            u64 v = 0;
            (void)q.pop(v);
            sink += v;
        }
    }
}

template <class Q>
void batch_push_pop(Q& q, u64 events) {
    u64 in[round_size];
    u64 out[round_size];
    for (u64 done = 0; done < events; done += round_size) {
        for (std::size_t i = 0; i < round_size; ++i) in[i] = done + i + 1;
        if (q.try_push_batch(in, round_size) != round_size) std::abort();
        if (q.try_pop_batch(out, round_size) != round_size) std::abort();
        sink += out[round_size - 1];
    }
}

void histogram_record(u64 events) {
    static ringlab::bench::latency_histogram hist;
    for (u64 i = 0; i < events; ++i) hist.record((i * 2654435761u) & 0xfffff);
    sink += hist.count();
}

/// A Disruptor ring with one consumer that polls it on the same thread (event_poller):
/// the producer's next/publish and the consumer's barrier and progress, with no stage
/// thread around them.
template <class Producer, template <class> class Wait>
struct polled_ring {
    struct event {
        u64 value = 0;
    };
    using ring_type = ringlab::ring_buffer<event, Producer, Wait>;

    explicit polled_ring(std::size_t capacity) : ring(capacity), poller(make_poller(ring, progress)) {}

    static ringlab::event_poller<ring_type> make_poller(ring_type& r, ringlab::sequence<>& progress) {
        r.gating().add(progress);
        return ringlab::event_poller<ring_type>(ringlab::sequence_barrier<ring_type>(r), progress);
    }

    /// Consumes everything published (the round's events), folding them into `sink`.
    void drain(u64 events) {
        u64 got = 0;
        while (got < events) {
            if (poller.poll([&](const event& e, u64, bool) {
                    sink += e.value;
                    ++got;
                    return true;
                }) != ringlab::poll_state::processing) {
                std::abort();
            }
        }
    }

    ring_type ring;
    ringlab::sequence<> progress;
    ringlab::event_poller<ring_type> poller;
};

/// One event a claim: next(), write, publish, then the consumer polls the round.
template <class R>
void next_publish_poll(R& r, u64 events) {
    for (u64 done = 0; done < events; done += round_size) {
        for (u64 i = 1; i <= round_size; ++i) {
            const ringlab::claimed_range c = r.ring.next();
            if (!c.ok()) std::abort();
            r.ring.write(c.begin).value = done + i;
            r.ring.publish(c.begin, c.end);
        }
        r.drain(round_size);
    }
}

/// The round in one claim: next(64), 64 writes, one publish, then the poll.
template <class R>
void batch_publish_poll(R& r, u64 events) {
    for (u64 done = 0; done < events; done += round_size) {
        const ringlab::claimed_range c = r.ring.next(round_size);
        if (!c.ok()) std::abort();
        for (u64 p = c.begin; p < c.end; ++p) r.ring.write(p).value = done + (p - c.begin) + 1;
        r.ring.publish(c.begin, c.end);
        r.drain(round_size);
    }
}

/// A Disruptor stage's loop on the producer's thread: each round publishes `round` events
/// (one claim each), then a batch_event_processor drains them and returns (a processor
/// stops for good, so each round runs a fresh one over the same progress). Rounds longer
/// than the default prefetch distance let the stage ask for lines ahead
/// (processor_options::prefetch); `prefetch` 0 turns that off, unset keeps the default.
struct drained_ring {
    struct event {
        u64 value = 0;
    };
    struct summing {
        u64 sum = 0;
        void operator()(const event& e, u64, bool) { sum += e.value; }
    };
    using ring_type = ringlab::ring_buffer<event, ringlab::single_producer, ringlab::busy_spin_wait>;

    drained_ring(std::size_t capacity, std::optional<std::uint32_t> prefetch)
        : ring(capacity, {.producer_prefetch = prefetch}) {
        ring.gating().add(progress);
        stage.prefetch = prefetch;
    }

    ring_type ring;
    ringlab::sequence<> progress;
    ringlab::processor_options stage;
    summing handler;
};

template <std::size_t Round>
void publish_drain(drained_ring& r, u64 events) {
    using ring_type = drained_ring::ring_type;
    for (u64 done = 0; done < events; done += Round) {
        const u64 round = std::min<u64>(Round, events - done);
        for (u64 i = 1; i <= round; ++i) {
            const ringlab::claimed_range c = r.ring.next();
            if (!c.ok()) std::abort();
            r.ring.write(c.begin).value = done + i;
            r.ring.publish(c.begin, c.end);
        }
        ringlab::batch_event_processor<ring_type, drained_ring::summing> stage(
            ringlab::sequence_barrier<ring_type>(r.ring), r.handler, r.progress, r.stage);
        stage.drain_to(r.ring.claimed());
        stage.run();
    }
    sink += r.handler.sum;
}

/// A named kernel: `prepare` builds its queue (uncounted) and returns the body to count.
struct kernel {
    std::string name;
    std::function<std::function<void(u64)>()> prepare;
};

template <class Q, class... Args>
std::function<std::function<void(u64)>()> with(void (*body)(Q&, u64), Args... args) {
    return [=] {
        std::shared_ptr<Q> q = std::make_shared<Q>(args...);
        return std::function<void(u64)>([q, body](u64 n) { body(*q, n); });
    };
}

template <template <class> class Wait>
void add_wait_kernels(std::vector<kernel>& all, const std::string& wait) {
    using spsc = ringlab::spsc_ring<u64, Wait>;
    using mpsc = ringlab::mpsc_ring<u64, Wait>;
    all.push_back({"spsc_ring." + wait + ".push_pop", with<spsc>(&push_pop<spsc>, std::size_t{1024})});
    all.push_back({"mpsc_ring." + wait + ".push_pop", with<mpsc>(&push_pop<mpsc>, std::size_t{1024})});
    using sp = polled_ring<ringlab::single_producer, Wait>;
    using mp = polled_ring<ringlab::multi_producer, Wait>;
    all.push_back({"ring_buffer.single_producer." + wait + ".next_publish_poll",
                   with<sp>(&next_publish_poll<sp>, std::size_t{1024})});
    all.push_back({"ring_buffer.multi_producer." + wait + ".next_publish_poll",
                   with<mp>(&next_publish_poll<mp>, std::size_t{1024})});
}

std::vector<kernel> kernels() {
    using spsc = ringlab::spsc_ring<u64>;
    using mpsc = ringlab::mpsc_ring<u64>;
    namespace peers = ringlab::bench::peers;
    std::vector<kernel> all;
    all.push_back({"spsc_ring.try_push_pop", with<spsc>(&try_push_pop<spsc>, std::size_t{1024})});
    all.push_back({"spsc_ring.batch_64", with<spsc>(&batch_push_pop<spsc>, std::size_t{1024})});
    all.push_back({"spsc_ring.release_every_16",
                   with<spsc>(&try_push_pop<spsc>, std::size_t{1024}, ringlab::busy_spin_wait<>::config{},
                              ringlab::spsc_options{16})});
    all.push_back({"mpsc_ring.try_push_pop", with<mpsc>(&try_push_pop<mpsc>, std::size_t{1024})});
    all.push_back({"mpsc_ring.batch_64", with<mpsc>(&batch_push_pop<mpsc>, std::size_t{1024})});
    using sp = polled_ring<ringlab::single_producer, ringlab::busy_spin_wait>;
    using mp = polled_ring<ringlab::multi_producer, ringlab::busy_spin_wait>;
    all.push_back({"ring_buffer.single_producer.batch_64", with<sp>(&batch_publish_poll<sp>, std::size_t{1024})});
    all.push_back({"ring_buffer.multi_producer.batch_64", with<mp>(&batch_publish_poll<mp>, std::size_t{1024})});
    // The stage's loop with its defaults (prefetching) and with prefetching off, in rounds
    // of 256 events.
    all.push_back(
        {"batch_event_processor.drain_256",
         with<drained_ring>(&publish_drain<256>, std::size_t{1024}, std::optional<std::uint32_t>{})});
    all.push_back(
        {"batch_event_processor.prefetch_0.drain_256",
         with<drained_ring>(&publish_drain<256>, std::size_t{1024}, std::optional<std::uint32_t>{0})});
    add_wait_kernels<ringlab::busy_spin_wait>(all, "busy_spin_wait");
    add_wait_kernels<ringlab::yielding_wait>(all, "yielding_wait");
    add_wait_kernels<ringlab::backoff_wait>(all, "backoff_wait");
    add_wait_kernels<ringlab::blocking_wait>(all, "blocking_wait");
    add_wait_kernels<ringlab::timeout_blocking_wait>(all, "timeout_blocking_wait");
    all.push_back({"histogram.record", [] { return std::function<void(u64)>(histogram_record); }});
    all.push_back({"peer.atomic_queue.try_push_pop", with<peers::atomic_queue_spsc>(&try_push_pop<peers::atomic_queue_spsc>)});
    all.push_back({"peer.boost_spsc_queue.try_push_pop", with<peers::boost_spsc_queue>(&try_push_pop<peers::boost_spsc_queue>)});
    all.push_back({"peer.moodycamel_rwq.try_push_pop", with<peers::moodycamel_rwq>(&try_push_pop<peers::moodycamel_rwq>)});
    all.push_back({"peer.moodycamel_cq.try_push_pop", with<peers::moodycamel_cq>(&try_push_pop<peers::moodycamel_cq>)});
    all.push_back({"peer.tbb_bounded_queue.try_push_pop", with<peers::tbb_bounded_queue>(&try_push_pop<peers::tbb_bounded_queue>)});
    return all;
}

}  // namespace

/// The one function the runner counts (valgrind --toggle-collect=ringlab_icount_run).
extern "C" __attribute__((noinline)) void ringlab_icount_run(const std::function<void(u64)>* body, u64 events) {
    (*body)(events);
}

int main(int argc, char** argv) {
    const std::vector<kernel> all = kernels();
    if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
        for (const kernel& k : all) std::printf("%s\n", k.name.c_str());
        return 0;
    }
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s --list | KERNEL EVENTS\n", argv[0]);
        return 2;
    }
    const u64 events = std::strtoull(argv[2], nullptr, 10);
    if (events == 0 || events % round_size != 0) {
        std::fprintf(stderr, "EVENTS must be a positive multiple of %zu\n", round_size);
        return 2;
    }
    for (const kernel& k : all) {
        if (k.name != argv[1]) continue;
        const std::function<void(u64)> body = k.prepare();
        body(round_size);  // warm: first-touch page faults and lazy setup stay uncounted
        ringlab_icount_run(&body, events);
        std::printf("%s %llu %llu\n", k.name.c_str(), static_cast<unsigned long long>(events),
                    static_cast<unsigned long long>(sink));
        return 0;
    }
    std::fprintf(stderr, "no kernel named %s (--list)\n", argv[1]);
    return 2;
}
