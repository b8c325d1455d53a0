// scenarios/disruptor_props.cpp: RapidCheck properties of the Disruptor core over generated
// topologies.
//
//   dag          a generated DAG of stages (each after a random subset of the earlier ones),
//                capacity, max_batch, slipping, producer kind and event count, on real threads: every
//                stage sees every position exactly once and in order, with the value its
//                producer wrote (so no producer lapped it), no stage ever handles a position
//                its upstream has not finished, and shutdown loses nothing. In a third of
//                the cases one stage's handler throws at a drawn position (exception_policy::
//                halt) and the producers try to publish past a ring beyond it: that stage and
//                every stage after it stop no later, each producer that finds the ring full
//                is alerted (never before the failure), the other stages process everything
//                published (up to the first claim an alerted producer left unpublished), and
//                shutdown returns and says what was not processed. In a third of the cases a
//                consumer joins at a drawn cursor and leaves at a later one while the
//                producers run: it starts no later than the cursor it joined at, reads
//                every event after in order, and its leaving alerts no producer; in half
//                of those its handler throws after a few events: it then stops gating
//                (the producers go on past it, none of them alerted) and its progress
//                stays where it failed. A third of the stages release their events early
//                (early_release), every 1-3 events, through the event they handle or the
//                one before it: the same properties hold, and a stage that releases every
//                event counts one release per event. In a third of the cases on rings of
//                two or more, the stages prefetch (processor_options::prefetch) and a single
//                producer too (producer_prefetch), at drawn distances: nothing changes
//   dag_dst      the same under DST with a generated seed (RapidCheck shrinks both)
// Canaries (each must make dag_dst fail on the check its bug breaks, support/canary.hpp): a
// barrier that ignores its dependents, a single-producer wrap check that is off by one, a
// slip without its bound, a failed stage that leaves the producers waiting for room, a
// consumer whose removal alerts the producers, a failed run-time consumer that keeps
// gating them, an early release one event past the event being handled, and a prefetching
// stage that never hands over the first event within its distance of a run's end.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ringlab/ringlab.hpp"
#include "support/canary.hpp"
#include "support/concurrent.hpp"
#include "support/gen_slip.hpp"
#if RINGLAB_WITH_DST
#include "support/dst_executor.hpp"
#endif

namespace ringlab::scenarios {
namespace {

struct event {
    std::uint64_t value = 0;
};

constexpr std::uint64_t value_of(std::uint64_t position) { return position * 3 + 1; }

struct dag_params {
    std::vector<std::vector<std::size_t>> after;  // per stage: the earlier stages it follows
    std::size_t capacity;
    std::uint64_t max_batch;
    slip_options slip;      // every stage's (off, or a distance below capacity and max_batch)
    std::size_t producers;  // 1: single_producer; 2: multi_producer
    std::uint64_t events;
    std::optional<std::size_t> failing;  // a stage whose handler throws at fail_at
    std::uint64_t fail_at = 0;
    // A consumer added at run time once the cursor reaches join_at, removed once it reaches
    // leave_at (or once the producers are done, whichever comes first).
    bool joiner = false;
    std::uint64_t join_at = 0;
    std::uint64_t leave_at = 0;
    // The joiner's handler throws at the event after this many (exception_policy::halt):
    // it stops gating the producers, and alerts none of them.
    std::optional<std::uint64_t> joiner_fails_after;
    // Per stage: 0, or it releases its events early every this many events.
    std::vector<std::uint64_t> release_every;
    // Every stage's processor_options::prefetch, and (one producer) the ring's
    // producer_prefetch: 0, or a distance below the capacity.
    std::uint32_t prefetch = 0;
    std::uint32_t producer_prefetch = 0;
};

/// Every stage that stops with a failing one: itself and every stage after it.
std::vector<bool> stopped_by_failure(const dag_params& p) {
    std::vector<bool> stopped(p.after.size(), false);
    if (!p.failing) return stopped;
    stopped[*p.failing] = true;
    for (std::size_t i = 0; i < p.after.size(); ++i) {
        for (const std::size_t dep : p.after[i]) stopped[i] = stopped[i] || stopped[dep];
    }
    return stopped;
}

/// A run-time consumer that joins and leaves while the producers run, with events enough
/// after it left for the producers to find the ring full again.
void gen_joiner(dag_params& p) {
    p.joiner = true;
    p.join_at = *rc::gen::inRange<std::uint64_t>(0, p.events + 1);
    p.leave_at = p.join_at + *rc::gen::inRange<std::uint64_t>(0, p.events - p.join_at + 1);
    if (*rc::gen::arbitrary<bool>()) p.joiner_fails_after = *rc::gen::inRange<std::uint64_t>(0, 8);
}

/// Prefetching stages, and a prefetching producer when there is one.
void gen_prefetch(dag_params& p) {
    const auto capacity = static_cast<std::uint32_t>(p.capacity);
    p.prefetch = *rc::gen::inRange<std::uint32_t>(1, capacity);
    p.producer_prefetch = p.producers == 1 ? *rc::gen::inRange<std::uint32_t>(0, capacity) : 0;
}

/// The ring's options for `p`.
template <class D>
typename D::ring_type::options ring_options_of(const dag_params& p) {
    typename D::ring_type::options o{};
    o.producer_prefetch = p.producer_prefetch;
    return o;
}

dag_params gen_dag(std::uint64_t max_events) {
    dag_params p;
    const auto stages = *rc::gen::inRange<std::size_t>(1, 6);
    for (std::size_t i = 0; i < stages; ++i) {
        std::vector<std::size_t> deps;
        for (std::size_t d = 0; d < i; ++d) {
            if (*rc::gen::inRange(0, 3) == 0) deps.push_back(d);
        }
        p.after.push_back(deps);
        p.release_every.push_back(*rc::gen::inRange(0, 3) == 0 ? *rc::gen::inRange<std::uint64_t>(1, 4) : 0);
    }
    p.capacity = std::size_t{1} << *rc::gen::inRange(0, 7);
    p.max_batch = *rc::gen::inRange<std::uint64_t>(1, 9);
    const std::uint64_t reach = std::min<std::uint64_t>(p.capacity, p.max_batch);
    p.slip = reach > 2 && *rc::gen::arbitrary<bool>() ? gen_slip(reach) : slip_options{};
    p.producers = *rc::gen::inRange<std::size_t>(1, 3);
    p.events = *rc::gen::inRange<std::uint64_t>(0, max_events);
    if (p.events > 0 && *rc::gen::inRange(0, 3) == 0) {
        p.failing = *rc::gen::inRange<std::size_t>(0, stages);
        p.fail_at = *rc::gen::inRange<std::uint64_t>(0, p.events);
        // Often more than a ring past the failure: the producers must find the ring full.
        p.events += *rc::gen::inRange<std::uint64_t>(0, 2 * p.capacity + 2);
    }
    if (*rc::gen::inRange(0, 3) == 0) gen_joiner(p);
    if (p.capacity > 1 && *rc::gen::inRange(0, 3) == 0) gen_prefetch(p);
    return p;
}

/// One stage's handler: checks order, values and that the stages it follows are ahead.
struct dag_handler {
    findings* seen = nullptr;
    std::string name;
    std::vector<std::function<std::uint64_t()>> upstream;
    std::uint64_t expected = 0;
    std::uint64_t throw_at = ~std::uint64_t{0};
    std::atomic<bool>* failed = nullptr;  // set before the throw: producers may be alerted from then on
    std::uint64_t batch_ends = 0;         // events handed over with end_of_batch

    void operator()(const event& e, std::uint64_t position, bool end_of_batch) {
        if (position == throw_at) {
            failed->store(true);
            throw std::runtime_error(name + " failed at " + std::to_string(position));
        }
        if (end_of_batch) ++batch_ends;
        if (position != expected) seen->fail(name + " got position " + std::to_string(position));
        if (e.value != value_of(position)) seen->fail(name + " read a lapped or torn event at " + std::to_string(position));
        for (const auto& progress_of : upstream) {
            if (progress_of() <= position) seen->fail(name + " passed a stage it comes after at " + std::to_string(position));
        }
        ++expected;
    }
};

/// A stage that releases its events early: every `every` events, once it has checked the
/// event it handles, it releases through that event, or (every 3) through the one before.
struct releasing_handler {
    dag_handler* inner = nullptr;
    std::uint64_t every = 1;

    template <class Release>
    void operator()(const event& e, std::uint64_t position, bool end_of_batch, Release& release) {
        (*inner)(e, position, end_of_batch);
        if ((position + 1) % every == 0)
            release.through(every == 3 && position > 0 ? position - 1 : position);
    }
};

/// The run-time consumer: from its first position on, every position in order, each with
/// the value its producer wrote (until it throws, when it is drawn to fail).
struct joiner_handler {
    findings* seen = nullptr;
    std::optional<std::uint64_t> first;
    std::uint64_t expected = 0;
    std::optional<std::uint64_t> throw_after;
    bool threw = false;

    void operator()(const event& e, std::uint64_t position, bool) {
        if (!first) first = expected = position;
        if (throw_after && expected - *first == *throw_after) {
            threw = true;
            throw std::runtime_error("the joiner failed at " + std::to_string(position));
        }
        if (position != expected) seen->fail("the joiner got position " + std::to_string(position));
        if (e.value != value_of(position))
            seen->fail("the joiner read a lapped or torn event at " + std::to_string(position));
        ++expected;
    }
};

/// Adds the run-time consumer at join_at and removes it at leave_at (or when the producers
/// are done): it starts no later than the cursor it joined at and reads every event after.
template <class D, class Executor>
void run_joiner(const dag_params& p, D& d, Executor& executor, findings& seen,
                const std::atomic<std::size_t>& done) {
    using Sync = typename D::ring_type::sync_type;
    auto wait_for_cursor = [&](std::uint64_t at) {
        while (d.ring().cursor() < at && done.load() < p.producers) Sync::yield();
    };
    joiner_handler joiner;
    joiner.seen = &seen;
    joiner.throw_after = p.joiner_fails_after;
    wait_for_cursor(p.join_at);
    const auto id = d.add_consumer(executor, "joiner", joiner);
    const std::uint64_t joined_at = d.ring().cursor();
    if (!id) {
        seen.fail("add_consumer refused the only joiner");
        return;
    }
    // A failed joiner no longer gates: the producers go on past it to leave_at.
    wait_for_cursor(p.leave_at);
    d.remove_consumer(executor, *id);
    if (joiner.first && *joiner.first > joined_at) {
        seen.fail("the joiner started at " + std::to_string(*joiner.first) + ", after the cursor " +
                  std::to_string(joined_at) + " it joined at");
    }
    // Its progress stays where it stopped: before the event it failed at, if it did.
    if (joiner.first && d.joined_progress(*id) != joiner.expected) {
        seen.fail("the joiner's progress reads " + std::to_string(d.joined_progress(*id)) +
                  "; it processed up to " + std::to_string(joiner.expected) +
                  (joiner.threw ? " and failed there" : ""));
    }
}

/// Builds the DAG on `d`, runs it with `executor`, produces, shuts down; returns findings.
template <class D, class Executor, class Spawn, class Join>
void run_dag(const dag_params& p, D& d, Executor& executor, findings& seen, std::vector<dag_handler>& handlers,
             Spawn spawn_producer, Join join_producer) {
    std::vector<typename D::stage_id> ids;
    std::atomic<bool> failed{false};
    std::vector<releasing_handler> releasing(p.after.size());  // never reallocated: stages hold them
    for (std::size_t i = 0; i < p.after.size(); ++i) {
        handlers[i].seen = &seen;
        handlers[i].name = "stage" + std::to_string(i);
        handlers[i].failed = &failed;
        if (p.failing == i) handlers[i].throw_at = p.fail_at;
        for (const std::size_t dep : p.after[i]) {
            const auto dep_id = ids[dep];
            handlers[i].upstream.push_back([&d, dep_id] { return d.progress(dep_id); });
        }
        std::vector<typename D::stage_id> after;
        for (const std::size_t dep : p.after[i]) after.push_back(ids[dep]);
        processor_options options;
        options.max_batch = p.max_batch;
        options.slip = p.slip;
        options.prefetch = p.prefetch;
        if (p.release_every[i] != 0) {
            releasing[i] = {&handlers[i], p.release_every[i]};
            ids.push_back(d.handle_events_with_ids(handlers[i].name, releasing[i], after, options));
        } else {
            ids.push_back(d.handle_events_with_ids(handlers[i].name, handlers[i], after, options));
        }
    }
    d.start(executor);
    std::vector<std::size_t> producers;
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> alerted{0};
    std::atomic<std::size_t> done{0};  // producers that returned
    for (std::size_t k = 0; k < p.producers; ++k) {
        const std::uint64_t share = p.events / p.producers + (k < p.events % p.producers ? 1 : 0);
        producers.push_back(spawn_producer([&, share] {
            struct finish {
                std::atomic<std::size_t>& done;
                ~finish() { ++done; }
            } counted{done};
            for (std::uint64_t i = 0; i < share; ++i) {
                const wait_result r = d.ring().publish_event(
                    [](event& e, std::uint64_t position) { e.value = value_of(position); });
                if (r != wait_result::ready) {
                    if (!failed.load())
                        seen.fail("a producer was told " + std::string(to_string(r)) +
                                  " before any stage failed");
                    ++alerted;
                    return;
                }
                ++published;
            }
        }));
    }
    if (p.joiner) run_joiner(p, d, executor, seen, done);
    for (const std::size_t id : producers) join_producer(id);
    const auto report = d.shutdown(executor);
    const bool failure = p.failing && p.fail_at < p.events;
    if (report.drained == failure) {
        seen.fail(failure ? "shutdown says it drained past a failed stage"
                          : "shutdown lost " + std::to_string(report.unprocessed) + " positions");
    }
    // Each alerted producer leaves at most one claim unpublished (several producers only).
    if (report.final_position < published || report.final_position > published + alerted ||
        (p.producers == 1 && report.final_position != published)) {
        seen.fail("shutdown counts " + std::to_string(report.final_position) + " claimed positions; " +
                  std::to_string(published.load()) + " were published, " + std::to_string(alerted.load()) +
                  " producers alerted");
    }
    const std::vector<bool> stopped = stopped_by_failure(p);
    for (std::size_t i = 0; i < handlers.size(); ++i) {
        const dag_handler& h = handlers[i];
        const bool ok =
            !failure     ? h.expected == p.events
            : stopped[i] ? h.expected <= p.fail_at && (p.failing != i || h.expected == p.fail_at)
                         : h.expected == report.published_end && (p.producers > 1 || h.expected == published);
        if (!ok) {
            seen.fail(h.name + " saw " + std::to_string(h.expected) + " events of " +
                      std::to_string(published.load()) + " published" +
                      (failure ? " (stage" + std::to_string(*p.failing) + " failed at " +
                                     std::to_string(p.fail_at) + ")"
                               : ""));
        }
        if ((report.stages[i].error != nullptr) != (failure && p.failing == i)) {
            seen.fail(
                h.name +
                (report.stages[i].error != nullptr ? " has an error in" : "'s exception is missing from") +
                " the shutdown report");
        }
        // Its counters: every event it passed, and one batch per end_of_batch it was handed
        // (the failing stage's last batch ends at its exception instead).
        const processor_counters& stats = report.stages[i].stats;
        const bool failed_here = failure && p.failing == i && h.expected == p.fail_at;
        if (stats.processed != h.expected ||
            (stats.batches != h.batch_ends && !(failed_here && stats.batches == h.batch_ends + 1))) {
            seen.fail(h.name + " counted " + std::to_string(stats.processed) + " events in " +
                      std::to_string(stats.batches) + " batches; it was handed " +
                      std::to_string(h.expected) + " with " + std::to_string(h.batch_ends) +
                      " ends of batch");
        }
        // Releasing every event, each release moves the progress by one (a failed stage's
        // event is not released).
        const std::uint64_t expected_releases = p.release_every[i] == 1 ? h.expected : 0;
        if ((p.release_every[i] == 1 || p.release_every[i] == 0) && stats.releases != expected_releases) {
            seen.fail(h.name + " counted " + std::to_string(stats.releases) +
                      " early releases; it released " + std::to_string(expected_releases) +
                      " events one by one");
        }
    }
}

template <class P>
outcome dag_on_threads(const dag_params& p) {
    using disruptor_t = disruptor<event, P, yielding_wait>;
    disruptor_t d(p.capacity, ring_options_of<disruptor_t>(p));
    std::vector<dag_handler> handlers(p.after.size());
    thread_executor executor;
    std::vector<std::thread> producers;
    findings seen;
    run_dag(
        p, d, executor, seen, handlers,
        [&](std::function<void()> body) {
            producers.emplace_back(std::move(body));
            return producers.size() - 1;
        },
        [&](std::size_t id) { producers[id].join(); });
    return {seen.ok(), seen.first()};
}

#if RINGLAB_WITH_DST
template <class P>
outcome dag_under_dst(const dag_params& p, std::uint64_t seed) {
    findings seen;
    dst::run_options options;
    options.seed = seed;
    options.max_steps = std::uint64_t{1} << 22;
    const dst::run_result r = dst::run_once(
        [&](dst::run_context& ctx) {
            using disruptor_t = disruptor<event, P, busy_spin_wait, sync::sim>;
            disruptor_t d(p.capacity, ring_options_of<disruptor_t>(p));
            std::vector<dag_handler> handlers(p.after.size());
            dst_executor executor(ctx);
            ctx.spawn("driver", [&] {
                run_dag(
                    p, d, executor, seen, handlers,
                    [&](std::function<void()> body) { return ctx.spawn("producer", std::move(body)); },
                    [&](std::size_t id) { ctx.join(static_cast<std::uint32_t>(id)); });
            });
            ctx.run();
        },
        options);
    if (r.kind != dst::verdict::pass) {
        return {false, std::string("DST ") + dst::to_string(r.kind) + ": " + r.message + " (seed " + std::to_string(seed) + ")"};
    }
    return {seen.ok(), seen.first()};
}

outcome dag_dst(const dag_params& p, std::uint64_t seed) {
    return p.producers == 1 ? dag_under_dst<single_producer>(p, seed) : dag_under_dst<multi_producer>(p, seed);
}
#endif

}  // namespace

RC_GTEST_PROP(disruptor_props, dag, ()) {
    const dag_params p = gen_dag(3000);
    const outcome o = p.producers == 1 ? dag_on_threads<single_producer>(p) : dag_on_threads<multi_producer>(p);
    require(o);
}

#if RINGLAB_WITH_DST
RC_GTEST_PROP(disruptor_props, dag_dst, ()) {
    const dag_params p = gen_dag(40);
    const outcome o = dag_dst(p, *rc::gen::arbitrary<std::uint64_t>());
    require(o);
}

/// Runs dag_dst with `canary` planted, on parameters drawn by `draw` (the cases its bug shows
/// in, drawn directly rather than discarded); caught when it fails naming one of `expected`.
template <class Draw>
catch_report dag_catches(const char* canary, std::initializer_list<std::string_view> expected, Draw draw) {
    const canary_scope bug(canary);
    return caught(std::string("dag_dst with ") + canary, expected, [&] {
        const dag_params p = draw();
        const outcome o = dag_dst(p, *rc::gen::arbitrary<std::uint64_t>());
        require(o);
    });
}

TEST(disruptor_canaries, the_dag_catches_a_barrier_that_ignores_its_dependents) {
    const catch_report report =
        dag_catches("sequence_barrier.ignores_dependents",
                    {"passed a stage it comes after", "write by 'producer'"}, [] { return gen_dag(40); });
    EXPECT_TRUE(report) << "a stage ran ahead of its upstream and no property noticed: " << report;
}

TEST(disruptor_canaries, the_dag_catches_a_producer_that_laps) {
    const catch_report report =
        dag_catches("single_producer_sequencer.wrap_check_off_by_one", {"DST correctness: data race"}, [] {
            dag_params p = gen_dag(40);
            p.producers = 1;
            // A lapped joiner waits for ever on the stamp it lost (liveness), rather than racing.
            p.joiner = false;
            return p;
        });
    EXPECT_TRUE(report) << "the producer lapped a consumer and no property noticed: " << report;
}

TEST(disruptor_canaries, the_dag_catches_an_end_of_batch_on_the_wrong_event) {
    const catch_report report =
        dag_catches("batch_event_processor.end_of_batch_early", {"ends of batch"}, [] {
            dag_params p = gen_dag(40);
            p.events = std::max<std::uint64_t>(p.events, 1);
            return p;
        });
    EXPECT_TRUE(report)
        << "a stage's handler was told a batch ended on the wrong event and no property noticed: " << report;
}

TEST(disruptor_canaries, the_dag_catches_a_failed_batch_left_uncounted) {
    const catch_report report =
        dag_catches("batch_event_processor.failed_batch_uncounted", {"ends of batch"}, [] {
            // A handler that fails after the first event of a batch.
            dag_params p = gen_dag(40);
            p.max_batch = std::max<std::uint64_t>(p.max_batch, 2);
            p.failing = *rc::gen::inRange<std::size_t>(0, p.after.size());
            p.fail_at = *rc::gen::inRange<std::uint64_t>(1, 40);
            p.events = std::max(p.events, p.fail_at + 1);
            return p;
        });
    EXPECT_TRUE(report) << "a stage's counters missed the events before its handler failed and no property "
                           "noticed: "
                        << report;
}

TEST(disruptor_canaries, the_dag_catches_a_slip_without_its_bound) {
    const catch_report report = dag_catches("slip.unbounded", {"DST liveness"}, [] {
        // Slipping stages.
        dag_params p = gen_dag(40);
        p.capacity = std::max<std::size_t>(p.capacity, 4);
        p.max_batch = std::max<std::uint64_t>(p.max_batch, 3);
        p.events = std::max<std::uint64_t>(p.events, 1);
        p.slip = gen_slip(std::min<std::uint64_t>(p.capacity, p.max_batch));
        return p;
    });
    EXPECT_TRUE(report) << "a stage slipped for ever and no property noticed: " << report;
}

TEST(disruptor_canaries, the_dag_catches_producers_stranded_behind_a_failed_stage) {
    const catch_report report =
        dag_catches("disruptor.failed_stage_leaves_producers_waiting", {"DST liveness"}, [] {
            // A failure, and more than a ring past it.
            dag_params p = gen_dag(40);
            p.failing = *rc::gen::inRange<std::size_t>(0, p.after.size());
            p.fail_at = *rc::gen::inRange<std::uint64_t>(0, 40);
            p.events = p.fail_at + p.capacity + *rc::gen::inRange<std::uint64_t>(1, 2 * p.capacity + 2);
            return p;
        });
    EXPECT_TRUE(report) << "producers waited for ever behind a failed stage and no property noticed: "
                        << report;
}

TEST(disruptor_canaries, the_dag_catches_a_removal_that_alerts_the_producers) {
    const catch_report report =
        dag_catches("disruptor.remove_alerts_producers", {"before any stage failed"}, [] {
            // No failure, a joiner, and more than a ring of events after it leaves: a producer
            // that then finds the ring full is alerted.
            dag_params p = gen_dag(40);
            p.failing.reset();
            p.joiner = true;
            p.join_at = *rc::gen::inRange<std::uint64_t>(0, 20);
            p.leave_at = p.join_at + *rc::gen::inRange<std::uint64_t>(0, 10);
            p.events = p.leave_at + p.capacity + *rc::gen::inRange<std::uint64_t>(1, 2 * p.capacity + 2);
            return p;
        });
    EXPECT_TRUE(report) << "a consumer's removal alerted the producers and no property noticed: " << report;
}

TEST(disruptor_canaries, the_dag_catches_an_early_release_past_the_event_handled) {
    const catch_report report = dag_catches("batch_event_processor.release_one_too_far",
                                            {"DST correctness: data race", "read a lapped or torn event",
                                             "early releases", "got position", "DST liveness"},
                                            [] {
                                                // Stages that release every event, and more than a ring of
                                                // events.
                                                dag_params p = gen_dag(40);
                                                p.failing.reset();
                                                p.joiner = false;
                                                p.release_every.assign(p.after.size(), 1);
                                                p.events = std::max<std::uint64_t>(p.events, p.capacity + 2);
                                                return p;
                                            });
    EXPECT_TRUE(report) << "a stage released an event before handling it and no property noticed: " << report;
}

TEST(disruptor_canaries, the_dag_catches_a_prefetching_stage_that_skips_an_event) {
    const catch_report report =
        dag_catches("batch_event_processor.prefetch_tail_skipped", {"got position", "DST liveness"}, [] {
            // Prefetching stages, with runs longer than the distance.
            dag_params p = gen_dag(40);
            p.capacity = std::max<std::size_t>(p.capacity, 4);
            p.max_batch = std::max<std::uint64_t>(p.max_batch, 4);
            p.events = std::max<std::uint64_t>(p.events, 8);
            gen_prefetch(p);
            p.prefetch = *rc::gen::inRange<std::uint32_t>(
                1, static_cast<std::uint32_t>(std::min<std::uint64_t>(p.capacity, p.max_batch)));
            return p;
        });
    EXPECT_TRUE(report) << "a prefetching stage never handed an event over and no property noticed: "
                        << report;
}

TEST(disruptor_canaries, the_dag_catches_a_failed_joiner_that_keeps_gating) {
    const catch_report report = dag_catches("disruptor.failed_joiner_keeps_gating", {"DST liveness"}, [] {
        // A joiner that fails, stays a member until the producers are done, and more than a
        // ring of events after its failure.
        dag_params p = gen_dag(40);
        p.failing.reset();
        p.joiner = true;
        p.join_at = *rc::gen::inRange<std::uint64_t>(0, 20);
        p.joiner_fails_after = *rc::gen::inRange<std::uint64_t>(0, 8);
        p.events = p.join_at + *p.joiner_fails_after + p.capacity +
                   *rc::gen::inRange<std::uint64_t>(1, p.capacity + 2);
        p.leave_at = p.events;
        return p;
    });
    EXPECT_TRUE(report) << "a failed joiner held the producers back and no property noticed: " << report;
}
#endif

}  // namespace ringlab::scenarios
