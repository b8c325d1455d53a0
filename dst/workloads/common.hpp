// dst/workloads/common.hpp: what every workload draws the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "dst/scheduler.hpp"
#include "ringlab/sync/sim.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab::dst {

using sim = sync::sim;

/// DST-sized configuration of a wait strategy: short spins and yields (each poll is a
/// scheduling point), time limits in virtual nanoseconds. `side` prefixes the knobs' names
/// where one run draws two strategies ("producer.": the producers' of a disruptor).
template <template <class> class Wait>
typename Wait<sim>::config sim_wait_config(run_context& ctx, std::string_view side = {}) {
    const auto knob = [&](const char* name, std::uint64_t lo, std::uint64_t hi) {
        return ctx.knob((std::string(side) + name).c_str(), lo, hi);
    };
    const auto knob_flag = [&](const char* name, std::uint64_t numerator, std::uint64_t denominator) {
        return ctx.knob_flag((std::string(side) + name).c_str(), numerator, denominator);
    };
    typename Wait<sim>::config cfg{};
    if constexpr (requires { cfg.spin_limit; }) {
        cfg.spin_limit = static_cast<std::uint32_t>(knob("wait.spin_limit", 0, 4));
    }
    if constexpr (requires { cfg.yield_ns; }) cfg.yield_ns = knob("wait.yield_ns", 0, 200);
    if constexpr (requires { cfg.yield_max_ns; }) cfg.yield_max_ns = knob("wait.yield_max_ns", 0, 1600);
    if constexpr (requires { cfg.idle_spin_limit; }) {
        cfg.idle_spin_limit = static_cast<std::uint32_t>(knob("wait.idle_spin_limit", 0, 4));
        cfg.yield_limit = static_cast<std::uint32_t>(knob("wait.yield_limit", 0, 4));
        cfg.sleep_ns_min = 50;
        cfg.sleep_ns_max = 800;
    }
    if constexpr (requires { cfg.blocking; }) {
        cfg.blocking.spin_limit = static_cast<std::uint32_t>(knob("wait.spin_limit", 0, 4));
        cfg.blocking.yield_ns = knob("wait.yield_ns", 0, 200);
        cfg.blocking.yield_max_ns = knob("wait.yield_max_ns", 0, 1600);
        cfg.timeout_ns = knob("wait.timeout_ns", 100, 5000);
    }
    // Half the blocking runs park at the first miss: the sleep/wake protocol, where a
    // lost wake-up hides, is then on every wait instead of on the few that outlast a spin.
    if constexpr (requires { cfg.blocking; }) {
        if (knob_flag("wait.park_at_once", 1, 2)) cfg.blocking = {0, 0};
    } else if constexpr (std::string_view(Wait<sim>::name) == "blocking") {
        if (knob_flag("wait.park_at_once", 1, 2)) cfg = {0, 0};
    }
    return cfg;
}

/// The number knob `wait` prints for a strategy (0 busy spin, 1 yielding, 2 backoff,
/// 3 blocking, 4 timeout blocking).
template <template <class> class Wait>
constexpr std::uint64_t wait_code() {
    constexpr std::string_view name = Wait<sim>::name;
    return name == "busy_spin" ? 0 : name == "yielding" ? 1 : name == "backoff" ? 2 : name == "blocking" ? 3 : 4;
}

/// Calls fn.template operator()<Wait>() with a wait strategy drawn from the seed. Blocking
/// strategies are drawn more often: their sleep/wake protocol has the most to get wrong.
template <class Fn>
void with_wait_strategy(run_context& ctx, Fn&& fn) {
    switch (ctx.knob_pick("wait", {0, 1, 2, 3, 3, 3, 4})) {
        case 0:
            fn.template operator()<busy_spin_wait>();
            break;
        case 1:
            fn.template operator()<yielding_wait>();
            break;
        case 2:
            fn.template operator()<backoff_wait>();
            break;
        case 3:
            fn.template operator()<blocking_wait>();
            break;
        default:
            fn.template operator()<timeout_blocking_wait>();
            break;
    }
}

/// An executor (see thread_executor.hpp) whose threads are logical DST threads, so a
/// disruptor wires and runs under the simulator exactly as it does on real threads.
class executor {
public:
    explicit executor(run_context& ctx) noexcept : ctx_(ctx) {}
    std::size_t spawn(std::string name, std::function<void()> body) {
        return ctx_.spawn(std::move(name), std::move(body));
    }
    void join(std::size_t id) { ctx_.join(static_cast<std::uint32_t>(id)); }

private:
    run_context& ctx_;
};

/// The ways a producer hands over an item, drawn per run.
enum class push_api : std::uint8_t { try_push, blocking_push, batch, claim };
/// The ways a consumer takes one.
enum class pop_api : std::uint8_t { try_pop, blocking_pop, batch, consume };

}  // namespace ringlab::dst
