// bench/registry.hpp: how a suite adds rows to the matrix without touching the runner.
//
// A row is one Google Benchmark benchmark whose name follows
//
//     <kind>/<pattern>[/<wait>][/<knob>_<value>]...
//
//   kind     what is measured, which fixes the counters the runner reads (row_kind below)
//   pattern  a ringlab stem (spsc_ring, mpsc_ring, ...), `peer.<queue>` for a peer, or the
//            floor probe's name
//   wait     the wait strategy's type name (busy_spin_wait, ...); peers: `spin` (try_* with
//            a pause between tries) or `blocking` (the queue's own blocking calls)
//   knobs    integers, in registration order: capacity, batch, producers, payload, rate ...
//
// and whose metadata (group, peer, threads, knobs) the binary prints for the runner with
// `ringlab-bench --ringlab_rows`. `group` names the table the row goes in: rows of one
// group are compared with each other (a pattern next to the peers with the same contract).
// The counters each kind sets are listed in reports/README.md.
//
//   RINGLAB_BENCH_ROWS(spsc_ring_rows) {
//       add_row({row_kind::throughput, "spsc_ring", "busy_spin_wait", "spsc"}, kernel);
//   }
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace ringlab::bench {

enum class row_kind {
    throughput,       // free running; items_per_second, cpu_ns_per_event (manual time)
    round_trip,       // ping-pong; real_time is the mean round trip
    round_trip_dist,  // ping-pong with every round trip timed: the latency histogram
    one_way,          // paced producer, timestamp in the event, CO corrected histogram
    idle,             // nothing flows: the consumer's CPU share while it waits
    floor,            // the hardware floor (probed around every row by the runner)
};

[[nodiscard]] const char* to_string(row_kind kind) noexcept;

struct knob {
    std::string name;
    std::uint64_t value = 0;
};

struct row_spec {
    row_kind kind = row_kind::throughput;
    std::string pattern;
    std::string wait;   // empty: no wait segment in the name
    std::string group;  // the table the row belongs to (spsc, mpsc, floor, ...)
    std::vector<knob> knobs = {};
    int threads = 2;
    bool peer = false;
    /// Bytes moved per event, for the throughput-to-memcpy ratio (the payload size).
    std::uint64_t bytes_per_event = 8;
    /// Measured only by `matrix --full` (and by a --filter that names it): the far corners
    /// of a pattern's knob space, which the default run samples instead of sweeping.
    bool full_only = false;
};

/// `<kind>/<pattern>[/<wait>][/<knob>_<value>]...`, values written 10k, 1M when exact.
[[nodiscard]] std::string row_name(const row_spec& spec);

/// Registers one row; sets its time mode from the kind (manual time for throughput, real
/// time for the rest). Returns the benchmark for extra settings.
benchmark::internal::Benchmark* add_row(const row_spec& spec, std::function<void(benchmark::State&)> fn);

/// Every registered row's metadata as JSON (the runner's list of rows).
void write_rows_json(std::ostream& out);

/// Calls fn.template operator()<W>("W") for each of ringlab's wait strategies, so a suite
/// registers one set of rows per strategy and a new strategy reaches every suite.
template <class Fn>
void for_each_wait(Fn&& fn);

namespace detail {
struct static_rows {
    explicit static_rows(void (*add)()) { add(); }
};
}  // namespace detail

}  // namespace ringlab::bench

/// Defines a function that registers rows, run before main().
#define RINGLAB_BENCH_ROWS(ident)                                                     \
    static void ident();                                                              \
    [[maybe_unused]] static const ::ringlab::bench::detail::static_rows ident##_rows{ident}; \
    static void ident()

#include "ringlab/wait_strategy.hpp"

template <class Fn>
void ringlab::bench::for_each_wait(Fn&& fn) {
    fn.template operator()<busy_spin_wait>("busy_spin_wait");
    fn.template operator()<yielding_wait>("yielding_wait");
    fn.template operator()<backoff_wait>("backoff_wait");
    fn.template operator()<blocking_wait>("blocking_wait");
    fn.template operator()<timeout_blocking_wait>("timeout_blocking_wait");
}
