// bench/disruptor.cpp: the five classic Disruptor topologies, as LMAX names its perf tests,
// under every wait strategy; LMAX Disruptor 3.4.4 runs the same rows from bench/lmax/
// (an external runner, bench/external/lmax.json), so the matrix puts them side by side.
//
//   disruptor.unicast     P ──▶ [ring] ──▶ A                        (1P-1C)
//   disruptor.pipeline    P ──▶ [ring] ──▶ A ──▶ B ──▶ C            (1P-3C pipeline)
//   disruptor.multicast   P ──▶ [ring] ──▶ {A, B, C}                (1P-3C multicast)
//   disruptor.diamond     P ──▶ [ring] ──▶ {A, B} ──▶ C             (1P-3C diamond)
//   disruptor.sequencer   {P1, P2, P3} ──▶ [ring] ──▶ A             (3P-1C)
//
// The sequencer's producers: with more threads than CPUs, they share one CPU and leave the
// stage a CPU of its own; otherwise each takes the plan's CPU (producer_cpus below). Both
// placements also run as rows of their own: knobs `producer_cpus_1` and `spread_producers_1`.
// Every topology also runs with busy-spinning consumers and producers that yield on a full
// ring (wait `busy_spin_wait+yielding_producer`), the nearest shape to LMAX's busy-spin rows,
// with busy-spinning stages that slip (knob `slip_2048`, processor_options::slip), with
// busy-spinning stages and a single producer that do not prefetch slot lines (knob
// `prefetch_0`; by default both ask 32 positions ahead, ring_buffer.hpp), with busy spins
// that never yield (knob `pure_spin_1`; by default a busy spin on a shared CPU yields,
// wait_strategy.hpp), and with blocking
// stages that do not slip (knob `slip_0`; blocking_wait slips by default).
//
//   round_trip/disruptor.unicast: main ──▶ [ring A] ──▶ echo stage ──▶ [ring B] ──▶ main
//   (main reads ring B through an event_poller: ping-pong through two 1P-1C disruptors)
//
// Throughput counts from the first publish until every last stage has seen the last event:
// each iteration publishes 2^16 events, the last one waits for the drain (as harness.hpp).
// Events carry one 64-bit value; handlers add it up, as LMAX's perf handlers do.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "harness.hpp"
#include "registry.hpp"
#include "ringlab/disruptor.hpp"
#include "ringlab/event_poller.hpp"
#include "ringlab/thread_executor.hpp"
#include "topology.hpp"

namespace ringlab::bench {

namespace {

using u64 = std::uint64_t;
constexpr u64 events_per_iteration = u64{1} << 16;
constexpr std::size_t ring_capacity = 65536;

struct value_event {
    u64 value = 0;
};

// Each handler on lines of its own: they sit side by side in the benchmark's frame, and
// every stage writes its sum on every event.
struct alignas(false_sharing_bytes) summing_handler {
    u64 sum = 0;
    u64 batches = 0;
    void operator()(const value_event& e, u64, bool end_of_batch) {
        sum += e.value;
        batches += end_of_batch ? 1 : 0;
    }
};

enum class shape { unicast, pipeline, multicast, diamond, sequencer };

const char* name_of(shape s) {
    switch (s) {
    case shape::unicast: return "unicast";
    case shape::pipeline: return "pipeline";
    case shape::multicast: return "multicast";
    case shape::diamond: return "diamond";
    case shape::sequencer: return "sequencer";
    }
    return "?";
}

int threads_of(shape s) { return s == shape::unicast ? 2 : 4; }

/// Wires `s` on `d`; returns the stages nothing comes after (what the drain waits for).
template <class D>
std::vector<typename D::stage_id> wire(D& d, shape s, summing_handler (&h)[3], const processor_options& o) {
    switch (s) {
    case shape::unicast:
    case shape::sequencer:
        return {d.handle_events_with("A", h[0], {}, o)};
    case shape::pipeline: {
        const auto a = d.handle_events_with("A", h[0], {}, o);
        const auto b = d.handle_events_with("B", h[1], {a}, o);
        return {d.handle_events_with("C", h[2], {b}, o)};
    }
    case shape::multicast:
        return {d.handle_events_with("A", h[0], {}, o), d.handle_events_with("B", h[1], {}, o),
                d.handle_events_with("C", h[2], {}, o)};
    case shape::diamond: {
        const auto a = d.handle_events_with("A", h[0], {}, o);
        const auto b = d.handle_events_with("B", h[1], {}, o);
        return {d.handle_events_with("C", h[2], {a, b}, o)};
    }
    }
    return {};
}

template <class Ring>
[[gnu::always_inline]] inline void publish_one(Ring& ring, u64 value) {
    claimed_range c = ring.next();
    while (c.result == wait_result::timed_out) c = ring.next();
    ring.write(c.begin).value = value;
    ring.publish(c.begin, c.end);
}

/// Where the sequencer's two other producers run: on the plan's CPUs after the stage (each
/// on a core of its own when there are enough), or on the first producer's CPU: three
/// producers that share a core never pull the claim line and the slot lines from each
/// other, and with more threads than cores the consumer keeps a core to itself. `fitting`
/// picks by the plan (default_producer_cpus).
enum class producer_cpus { fitting, planned, shared };

/// With more threads than CPUs, the producers share one and the stage gets the other to
/// itself: every producer wait gives the CPU away while it waits for room on a CPU it shares
/// (busy_spin_wait too, once it sees the sharing: wait_strategy.hpp). Measured on 2 vCPUs
/// (reports/METHODOLOGY.md): sharing won under every wait on far-apart vCPUs.
producer_cpus default_producer_cpus(const thread_plan& plan) {
    return plan.oversubscribed ? producer_cpus::shared : producer_cpus::planned;
}

template <template <class> class Wait, class Producer, template <class> class ProducerWait = Wait>
void topology_throughput(benchmark::State& state, shape s, const processor_options& options,
                         producer_cpus where = producer_cpus::fitting,
                         std::optional<std::uint32_t> producer_prefetch = std::nullopt,
                         bool pure_spin = false) {
    using disruptor_t = disruptor<value_event, Producer, Wait, sync::native, ProducerWait>;
    const thread_plan plan = plan_threads(threads_of(s));
    if (where == producer_cpus::fitting) where = default_producer_cpus(plan);
    typename disruptor_t::ring_type::options ring_options;
    ring_options.producer_prefetch = producer_prefetch;
    if (pure_spin) {
        // Busy spin that never yields, even on a CPU it shares (wait_strategy.hpp).
        if constexpr (std::is_same_v<Wait<sync::native>, busy_spin_wait<sync::native>>)
            ring_options.consumer_wait.preempted_gap_ns = 0;
        if constexpr (std::is_same_v<ProducerWait<sync::native>, busy_spin_wait<sync::native>>)
            ring_options.producer_wait.preempted_gap_ns = 0;
    }
    auto d = std::make_unique<disruptor_t>(ring_capacity, ring_options);
    summing_handler handlers[3];
    const auto leaves = wire(*d, s, handlers, options);
    // The producer takes the plan's first CPU; the stages and other producers the rest.
    thread_executor executor(std::vector<int>(plan.cpus.begin() + 1, plan.cpus.end()));
    d->start(executor);
    auto drained_to = [&] {
        u64 lowest = ~u64{0};
        for (const auto leaf : leaves) lowest = std::min(lowest, d->progress(leaf));
        return lowest;
    };
    std::atomic<bool> stop{false};
    std::vector<std::thread> others;  // sequencer: two more free-running producers
    if (s == shape::sequencer) {
        for (int p = 0; p < 2; ++p) {
            const int cpu =
                where == producer_cpus::shared ? plan.cpus[0] : plan.cpus[static_cast<std::size_t>(2 + p)];
            others.emplace_back([&, cpu] {
                (void)pin_current_thread(cpu);
                while (!stop.load(std::memory_order_acquire)) publish_one(d->ring(), 1);
            });
        }
    }
    (void)pin_current_thread(plan.cpus[0]);
    const double cpu0 = process_cpu_seconds();
    const u64 start = d->ring().cursor();
    const u64 drained0 = drained_to();
    auto t_prev = std::chrono::steady_clock::now();
    for (auto _ : state) {
        for (u64 i = 0; i < events_per_iteration; ++i) publish_one(d->ring(), i);
        if (state.iterations() + 1 >= state.max_iterations) {
            if (s == shape::sequencer) stop.store(true, std::memory_order_release);
            for (auto& t : others) t.join();
            const u64 end = d->ring().cursor();
            while (drained_to() < end) spin_pause();
        }
        const auto t = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t - t_prev).count());
        t_prev = t;
    }
    const double cpu = process_cpu_seconds() - cpu0;
    stop.store(true, std::memory_order_release);
    for (auto& t : others) {
        if (t.joinable()) t.join();
    }
    const auto events = static_cast<double>(drained_to() - drained0);
    (void)start;
    (void)d->shutdown(executor);
    state.SetItemsProcessed(static_cast<std::int64_t>(events));
    state.counters["cpu_ns_per_event"] = events > 0 ? cpu * 1e9 / events : 0;
    state.counters["footprint_bytes"] = static_cast<double>(d->ring().footprint_bytes());
    // The first stage's mean batch: near 1 when it reads right behind the producers, large
    // when it lags them.
    state.counters["events_per_batch"] =
        handlers[0].batches > 0 ? events / static_cast<double>(handlers[0].batches) : 0;
    // Futex wakes (system calls) a blocking strategy made on each side of the ring, per event.
    auto count_wakes = [&](const char* counter, const auto& wait) {
        if constexpr (requires { wait.wakes(); }) {
            state.counters[counter] = events > 0 ? static_cast<double>(wait.wakes()) / events : 0;
        }
    };
    count_wakes("consumer_wakes_per_event", d->ring().consumer_wait());
    count_wakes("producer_wakes_per_event", d->ring().producer_wait());
    label_plan(state, plan.oversubscribed, threads_of(s));
}

/// The echo stage of the round trip: every event of ring A is published into ring B.
template <class Ring>
struct alignas(false_sharing_bytes) echo_handler {
    Ring* out;
    void operator()(const value_event& e, u64, bool) { publish_one(*out, e.value); }
};

template <template <class> class Wait>
void unicast_round_trip(benchmark::State& state) {
    using disruptor_t = disruptor<value_event, single_producer, Wait>;
    using ring_t = typename disruptor_t::ring_type;
    const cpu_pair plan = pair_plan();
    auto there = std::make_unique<disruptor_t>(ring_capacity);
    auto back = std::make_unique<ring_t>(ring_capacity);
    sequence<> back_progress;
    back->gating().add(back_progress);
    event_poller<ring_t> poller(sequence_barrier<ring_t>(*back), back_progress);
    echo_handler<ring_t> echo{back.get()};
    there->handle_events_with("echo", echo);
    thread_executor executor({plan.second});
    there->start(executor);
    (void)pin_current_thread(plan.first);
    u64 next = 1;
    u64 received = 0;
    auto take = [&](const value_event& e, u64, bool) {
        received = e.value;
        return true;
    };
    const double cpu0 = process_cpu_seconds();
    for (auto _ : state) {
        publish_one(there->ring(), next);
        while (received != next) {
            if (poller.poll(take) != poll_state::processing) spin_pause();
        }
        ++next;
    }
    const double cpu = process_cpu_seconds() - cpu0;
    (void)there->shutdown(executor);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["cpu_ns_per_event"] =
        state.iterations() > 0 ? cpu * 1e9 / static_cast<double>(state.iterations()) : 0;
    state.counters["footprint_bytes"] = static_cast<double>(there->ring().footprint_bytes() + back->footprint_bytes());
    label_plan(state, plan);
}

/// One throughput row per topology: consumers wait with `Wait`, producers with `ProducerWait`;
/// the stages run with `options`, a single producer prefetches `producer_prefetch` ahead
/// (unset: the ring's default), and busy spins never yield when `pure_spin`; `knobs` name
/// what is not the default.
template <template <class> class Wait, template <class> class ProducerWait = Wait>
void add_topology_rows(const char* wait, std::vector<knob> knobs = {}, processor_options options = {},
                       std::optional<std::uint32_t> producer_prefetch = std::nullopt,
                       bool pure_spin = false) {
    for (const shape s : {shape::unicast, shape::pipeline, shape::multicast, shape::diamond, shape::sequencer}) {
        const std::string pattern = std::string("disruptor.") + name_of(s);
        row_spec spec{row_kind::throughput, pattern, wait, pattern, knobs};
        spec.threads = threads_of(s);
        add_row(spec, [s, options, producer_prefetch, pure_spin](benchmark::State& state) {
            if (s == shape::sequencer) {
                // Several producers claim by fetch_add: only the stages prefetch.
                topology_throughput<Wait, multi_producer, ProducerWait>(
                    state, s, options, producer_cpus::fitting, std::nullopt, pure_spin);
            } else {
                topology_throughput<Wait, single_producer, ProducerWait>(
                    state, s, options, producer_cpus::fitting, producer_prefetch, pure_spin);
            }
        });
    }
}

}  // namespace

RINGLAB_BENCH_ROWS(disruptor_rows) {
    for_each_wait([]<template <class> class Wait>(const char* wait) {
        add_topology_rows<Wait>(wait);
        add_row({row_kind::round_trip, "disruptor.unicast", wait, "disruptor.unicast"},
                [](benchmark::State& state) { unicast_round_trip<Wait>(state); });
        // 3P-1C with each placement of the producers, whatever the default (producer_cpus above).
        for (const auto& [where, knob_name] : {std::pair{producer_cpus::shared, "producer_cpus"},
                                               std::pair{producer_cpus::planned, "spread_producers"}}) {
            row_spec placed{
                row_kind::throughput, "disruptor.sequencer", wait, "disruptor.sequencer", {{knob_name, 1}}};
            placed.threads = threads_of(shape::sequencer);
            add_row(placed, [where = where](benchmark::State& state) {
                topology_throughput<Wait, multi_producer>(state, shape::sequencer, {}, where);
            });
        }
    });
    // Busy-spinning consumers beside producers that yield on a full ring: the nearest shape
    // to LMAX's busy-spin rows (its producers park on a full ring whatever the consumers'
    // strategy). With more threads than cores, a producer that spins there burns the slice
    // a consumer (or a preempted producer holding an unpublished claim) needs.
    add_topology_rows<busy_spin_wait, yielding_wait>("busy_spin_wait+yielding_producer");
    // Temporal slipping (processor_options::slip): a streaming stage that finds a short run
    // lets its upstream get slip_distance positions ahead before it reads on.
    processor_options slipping;
    slipping.slip = slip_options{slip_distance};
    add_topology_rows<busy_spin_wait>("busy_spin_wait", {{"slip", slip_distance}}, slipping);
    // Prefetching off (ring_buffer.hpp): by default the producer asks for the slot line 32
    // positions past its claims, owned, and each stage for the line 32 positions past the
    // events it hands over; these rows ask for nothing.
    processor_options not_prefetching;
    not_prefetching.prefetch = 0;
    add_topology_rows<busy_spin_wait>("busy_spin_wait", {{"prefetch", 0}}, not_prefetching, 0);
    // Busy spin that never yields (busy_spin_wait::config::preempted_gap_ns = 0), as LMAX's
    // BusySpinWaitStrategy: by default a busy-spinning waiter that finds its CPU shared
    // yields (wait_strategy.hpp), which decides the rows with more threads than CPUs.
    add_topology_rows<busy_spin_wait>("busy_spin_wait", {{"pure_spin", 1}}, {}, std::nullopt, true);
    // blocking_wait slips by default (streaming_slip): the same stages with the slip off.
    processor_options not_slipping;
    not_slipping.slip = slip_options{};
    add_topology_rows<blocking_wait>("blocking_wait", {{"slip", 0}}, not_slipping);
}

}  // namespace ringlab::bench
