// scenarios/support/concurrent.hpp: run the same scenario on real threads (native backend)
// or as logical threads under DST (sim backend), and collect what the threads saw.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ringlab/sync/model_control.hpp"
#include "ringlab/sync/native.hpp"
#include "ringlab/sync/sim.hpp"

#if RINGLAB_WITH_DST
#include "dst/scheduler.hpp"
#endif

namespace ringlab::scenarios {

/// What the threads of a scenario report: the first broken expectation wins.
class findings {
public:
    void fail(std::string what) {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (first_.empty()) first_ = std::move(what);
    }
    [[nodiscard]] bool ok() const { return first_.empty(); }
    [[nodiscard]] const std::string& first() const { return first_; }

private:
    std::mutex mutex_;
    std::string first_;
};

struct outcome {
    bool ok = true;
    std::string message;
};

using body = std::function<void()>;

/// Real threads.
inline outcome run_threads(const std::vector<body>& bodies, findings& seen) {
    std::vector<std::thread> threads;
    threads.reserve(bodies.size());
    for (const body& b : bodies) threads.emplace_back(b);
    for (auto& t : threads) t.join();
    return {seen.ok(), seen.first()};
}

#if RINGLAB_WITH_DST
/// Logical threads under DST with one seed: a failure carries the replay token.
inline outcome run_dst(const std::vector<body>& bodies, findings& seen, std::uint64_t seed,
                       dst::strategy_kind strategy = dst::strategy_kind::random_walk) {
    dst::run_options options;
    options.seed = seed;
    options.strategy = strategy;
    options.max_steps = std::uint64_t{1} << 22;
    const dst::run_result r = dst::run_once(
        [&](dst::run_context& ctx) {
            for (std::size_t i = 0; i < bodies.size(); ++i) ctx.spawn("t" + std::to_string(i), bodies[i]);
            ctx.run();
        },
        options);
    if (r.kind != dst::verdict::pass) {
        return {false, std::string("DST ") + dst::to_string(r.kind) + ": " + r.message + " (seed " +
                           std::to_string(seed) + ", strategy " + dst::to_string(strategy) + ")"};
    }
    return {seen.ok(), seen.first()};
}

#endif

template <class Sync>
outcome run_concurrently(const std::vector<body>& bodies, findings& seen, std::uint64_t seed) {
#if RINGLAB_WITH_DST
    if constexpr (std::is_same_v<Sync, sync::sim>) return run_dst(bodies, seen, seed);
#endif
    (void)seed;
    return run_threads(bodies, seen);
}

/// A spin that is a scheduling point under DST and a yield on real threads (tests share
/// two cores with each other: a pause loop would starve the thread it waits for).
template <class Sync>
void relax() {
    Sync::yield();
}

/// Switches a planted bug or a mutant on for one scope (checking backends only).
class canary_scope {
public:
    explicit canary_scope(const char* canary, const char* mutant = nullptr) {
        sync::model_control::set_canary(canary);
        sync::model_control::set_mutant(mutant);
    }
    ~canary_scope() {
        sync::model_control::set_canary(nullptr);
        sync::model_control::set_mutant(nullptr);
    }
    canary_scope(const canary_scope&) = delete;
    canary_scope& operator=(const canary_scope&) = delete;
};

}  // namespace ringlab::scenarios
