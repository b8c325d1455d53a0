// bench/rows.hpp: the standard set of rows for one queue under one wait strategy, so that a
// new pattern gets every measurement the matrix knows with one call:
//
//   throughput/<pattern>/<wait>            free running (harness.hpp)
//   round_trip/<pattern>/<wait>            mean round trip (harness.hpp)
//   round_trip_dist/<pattern>/<wait>       every round trip timed (latency.hpp)
//   one_way/<pattern>/<wait>/rate_<R>      paced, CO corrected, for each offered rate R
//   idle/<pattern>/<wait>                  the consumer's CPU share with nothing flowing
//
// `make` builds one queue (a unique_ptr to something with the adapter interface of
// harness.hpp); it is copied into every row, so it must be cheap to copy.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "latency.hpp"
#include "registry.hpp"

namespace ringlab::bench {

/// Offered loads of the one-way rows, events per second.
inline constexpr std::array<std::uint64_t, 3> offered_rates{10'000, 100'000, 1'000'000};

/// What every row of one queue shares.
struct row_base {
    std::string pattern;
    std::string wait;
    std::string group;
    bool peer = false;
    std::vector<knob> knobs = {};
};

[[nodiscard]] inline row_spec make_spec(const row_base& base, row_kind kind, std::vector<knob> extra = {}) {
    row_spec spec{kind, base.pattern, base.wait, base.group, base.knobs};
    spec.peer = base.peer;
    for (knob& k : extra) spec.knobs.push_back(std::move(k));
    return spec;
}

template <class Make>
void add_standard_rows(const row_base& base, Make make) {
    add_row(make_spec(base, row_kind::throughput), [make](benchmark::State& s) { throughput(s, make); });
    add_row(make_spec(base, row_kind::round_trip), [make](benchmark::State& s) { round_trip(s, make); });
    add_row(make_spec(base, row_kind::round_trip_dist), [make](benchmark::State& s) { round_trip_dist(s, make); });
    for (const std::uint64_t rate : offered_rates) {
        add_row(make_spec(base, row_kind::one_way, {{"rate", rate}}), [make, rate](benchmark::State& s) {
            one_way(s, make, static_cast<double>(rate));
        });
    }
    add_row(make_spec(base, row_kind::idle), [make](benchmark::State& s) { idle(s, make); });
}

/// Batch rows: throughput and one-way latency (at 1M events/s) moving `Batch` events per
/// call (the queue must have try_push_batch/try_pop_batch).
template <std::size_t Batch, class Make>
void add_batch_rows(const row_base& base, Make make) {
    add_row(make_spec(base, row_kind::throughput, {{"batch", Batch}}),
            [make](benchmark::State& s) { throughput<Batch>(s, make); });
    add_row(make_spec(base, row_kind::one_way, {{"batch", Batch}, {"rate", 1'000'000}}),
            [make](benchmark::State& s) { one_way<Batch>(s, make, 1e6); });
}

/// Throughput with several producers (an MPSC or MPMC queue).
template <class Make>
void add_producer_rows(const row_base& base, Make make, int producers) {
    row_spec spec = make_spec(base, row_kind::throughput, {{"producers", static_cast<std::uint64_t>(producers)}});
    spec.threads = producers + 1;
    add_row(spec, [make, producers](benchmark::State& s) { throughput_producers(s, make, producers); });
}

}  // namespace ringlab::bench
