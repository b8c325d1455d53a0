// dst/workloads/disruptor.cpp: the five classic topologies and a 3-producer diamond,
// shutdown that drains, and a consumer that joins and leaves mid-stream.
//
//   unicast     P -> A                      1P-1C
//   pipeline    P -> A -> B -> C            1P-3C
//   multicast   P -> A, P -> B, P -> C      1P-3C
//   diamond     P -> A, P -> B, (A,B) -> C  1P-3C
//   sequencer   P1,P2,P3 -> A               3P-1C (multi-producer)
//   3P-diamond  P1,P2,P3 -> the diamond     3P-3C (multi-producer, with stages that survive
//                                           a failure: see below)
//
// The producers wait on a full ring with the consumers' strategy, or with one of another
// kind: yielding, or blocking, where a producer asleep depends on consumers of another kind
// to wake it (progress_made, join_consumer): DST checks that no such wake-up is lost.
//
// A third of the runs' stages give back their events before their batches end
// (early_release): after checking each event, a stage releases through it, or through the
// one or two before it (a drawn lag), so that producers reuse the slots and later stages
// read on while a batch goes on. Everything below must hold as without, and a stage with no
// lag counts one release per event.
//
// Half the runs' stages slip (processor_options::slip, drawn distance, polls and run), and
// a quarter of the blocking runs without a joiner leave it unset on a ring of 16, so that
// the stages slip by their strategy's default (default_slip).
//
// A third of the runs on rings of two or more prefetch (processor_options::prefetch, and
// ring_buffer's producer_prefetch with one producer) at drawn distances (the others keep
// the defaults: none in these small rings). A hint that must change nothing, over the loop
// in which a stage hands a run over while prefetching ahead.
//
// The producers publish position p with the value 3p+1. Every stage checks it sees
// positions 0, 1, 2, ... in order with the value written for each (a stage that a producer
// lapped reads a later value). Invariants, checked between every two steps: no stage is
// ahead of a stage it comes after, no root stage is ahead of the ring, and (one producer)
// everything claimed (the producer's own count, read between steps) is never more than a
// ring ahead of the slowest leaf stage, nor of the joiner while it is a member and has not
// failed.
//
// Shutdown: after the producers finished, `shutdown` drains every stage to the end of what
// was published; each stage must have seen every event (nothing lost), and its counters in
// the report must agree (processed = progress, one batch per end_of_batch it was handed, no
// slips when its slip is off); while it runs, its counters never lag its progress (the
// joiner's neither, counted from where it joined). Optionally a consumer joins at the cursor
// while the producers run (two joiners in three are slow, so that the producers park on
// them), checks that it sees a gap-free run of positions starting no later than the cursor
// it joined at, and leaves before the end; the producers must not be gated by it once it
// left (or they would hang: a liveness failure). A third of the joiners fail: the handler
// throws after 0-7 events, and the joiner must stop gating there (the producers go on past
// it) without alerting a producer, its progress left where it stopped.
//
// A failing stage: in some runs without a joiner, one stage's handler throws at a drawn
// position (exception_policy::halt). That stage stops there, every stage after it stops
// no later, and shutdown returns with the error in its report (a stage left waiting on the
// failed one would hang it: a liveness failure). Such runs try to publish up to three
// rings: once the ring is full behind the stopped stage, each producer's wait must return
// `alerted` (a producer waiting for ever is a liveness failure), and only after the
// failure. The stages that did not stop drain everything published, up to the first claim
// an alerted producer left unpublished (3P-diamond: A or B survives C's failure, and one
// of them survives the other's). Such runs shut down with a timeout, which must not be
// waited out on the stages that stopped.
#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "dst/workload.hpp"
#include "dst/workloads/common.hpp"
#include "ringlab/disruptor.hpp"

namespace ringlab::dst {
namespace {

struct event {
    std::uint64_t value = 0;
};

constexpr std::uint64_t value_of(std::uint64_t position) { return position * 3 + 1; }

enum class topology : std::uint8_t { unicast, pipeline, multicast, diamond, sequencer, multi_diamond };

std::vector<stage_spec> stages_of(topology t) {
    switch (t) {
        case topology::unicast:
            return {{"A", {}}};
        case topology::pipeline:
            return {{"A", {}}, {"B", {"A"}}, {"C", {"B"}}};
        case topology::multicast:
            return {{"A", {}}, {"B", {}}, {"C", {}}};
        case topology::diamond:
        case topology::multi_diamond:
            return {{"A", {}}, {"B", {}}, {"C", {"A", "B"}}};
        case topology::sequencer:
            return {{"A", {}}};
    }
    return {};
}

struct checker {
    run_context* ctx = nullptr;
    std::string name;
    std::uint64_t expected = 0;
    bool joiner = false;
    bool started = false;
    std::uint64_t first = 0;
    std::uint64_t pauses = 0;  // scheduling points per event: a slow stage gates the producers
    std::uint64_t throw_at = ~std::uint64_t{0};
    bool threw = false;
    std::optional<std::uint64_t> throw_after;  // the joiner fails after this many events
    std::uint64_t batch_ends = 0;              // events handed with end_of_batch, not thrown at

    void operator()(const event& e, std::uint64_t position, bool end_of_batch) {
        for (std::uint64_t i = 0; i < pauses; ++i) sim::pause();
        if (joiner && !started) {
            started = true;
            first = position;
            expected = position;
            if (throw_after) throw_at = position + *throw_after;
        }
        if (position == throw_at) {
            threw = true;
            throw std::runtime_error(name + " failed at " + std::to_string(position));
        }
        ctx->check_that(position == expected, [&] {
            return name + " got position " + std::to_string(position) + ", expected " +
                   std::to_string(expected);
        });
        ctx->check_that(e.value == value_of(position), [&] {
            return name + " read value " + std::to_string(e.value) + " at position " +
                   std::to_string(position) + ": the slot was overwritten (lapped) or never published";
        });
        ++expected;
        if (end_of_batch) ++batch_ends;
    }

    /// A processor counts a batch where it marks its end, and once more where its handler
    /// failed mid-batch (the events before the failure are a batch without an end mark).
    [[nodiscard]] bool batches_agree(std::uint64_t batches) const {
        return batches == batch_ends || (threw && batches == batch_ends + 1);
    }
};

/// A stage that gives back its events early: after checking each event, it releases through
/// the event `lag` positions back.
struct releasing_checker {
    checker* inner = nullptr;
    std::uint64_t lag = 0;

    template <class Release>
    void operator()(const event& e, std::uint64_t position, bool end_of_batch, Release& release) {
        (*inner)(e, position, end_of_batch);
        if (position >= lag) release.through(position - lag);
    }
};

template <class Producer, template <class> class Wait, template <class> class ProducerWait>
void exercise(run_context& ctx, topology topo, std::size_t producers) {
    using disruptor_t = disruptor<event, Producer, Wait, sim, ProducerWait>;
    const bool with_joiner = ctx.knob_flag("joiner", 1, 2);
    // Stages that leave processor_options::slip unset take their wait strategy's default
    // (default_slip): the blocking strategies declare one, which is on only for rings of 16
    // and more and batches of 4 and more. One run in four of those takes such a ring and
    // leaves the slip unset.
    constexpr bool declares_slip = requires { Wait<sim>::streaming_slip; };
    const bool slip_by_default = declares_slip && !with_joiner && ctx.knob_flag("default_slip", 1, 4);
    // A joiner is lapped only by a producer that runs a ring ahead of it: small rings.
    const std::size_t capacity = slip_by_default ? 16
                                 : with_joiner   ? ctx.knob_pick("capacity", {1, 1, 2, 4})
                                                 : ctx.knob_pick("capacity", {1, 2, 4, 8});
    const bool with_failure = !with_joiner && ctx.knob_flag("failure", 1, 3);
    const std::uint64_t events =
        with_failure ? ctx.knob("events", 0, 3 * capacity) : ctx.knob("events", 0, 24);
    processor_options options;
    options.max_batch = slip_by_default ? ctx.knob("max_batch", 4, 8) : ctx.knob("max_batch", 1, 4);
    // Slipping stages (processor_options::slip): the distance must be below both the ring
    // and the largest batch.
    const std::uint64_t slip_reach = std::min<std::uint64_t>(capacity, options.max_batch);
    if (!slip_by_default && slip_reach > 2 && ctx.knob_flag("slip", 1, 2)) {
        slip_options slip;
        slip.distance = static_cast<std::uint32_t>(ctx.knob("slip.distance", 2, slip_reach - 1));
        slip.polls = static_cast<std::uint32_t>(ctx.knob("slip.polls", 1, 4));
        slip.after = static_cast<std::uint32_t>(ctx.knob("slip.after", 2, 4));
        options.slip = slip;
    }
    const bool slipping =
        options.slip
            .value_or(default_slip<Wait<sim>>(capacity, std::min<std::uint64_t>(capacity, options.max_batch)))
            .enabled();
    ctx.check(!slip_by_default || slipping,
              "the default slip is off for a ring of 16 and batches of 4 or more");
    const std::uint64_t join_at = ctx.knob("join_after_events", 0, events);
    const std::uint64_t leave_at = ctx.knob("leave_after_events", join_at, events);
    // Two joiners in three are slow: the producers park on them, and leaving must wake them.
    const std::uint64_t joiner_pauses =
        with_joiner && ctx.knob_flag("joiner.slow", 2, 3) ? ctx.knob("joiner.pauses", 1, 12) : 0;
    // A third of the joiners fail: they must stop gating, and alert no producer.
    const std::optional<std::uint64_t> joiner_fails_after =
        with_joiner && ctx.knob_flag("joiner.fails", 1, 3)
            ? std::optional(ctx.knob("joiner.fails_after", 0, 7))
            : std::nullopt;
    ctx.expect_steps(events * (60 + 2 * joiner_pauses) + 200);

    typename disruptor_t::ring_type::options ring_options{};
    ring_options.consumer_wait = sim_wait_config<Wait>(ctx);
    if constexpr (std::is_same_v<Wait<sim>, ProducerWait<sim>>) {
        ring_options.producer_wait = ring_options.consumer_wait;
    } else {
        ring_options.producer_wait = sim_wait_config<ProducerWait>(ctx, "producer.");
    }
    // Prefetching (see the header).
    const bool with_prefetch = capacity > 1 && ctx.knob_flag("prefetch", 1, 3);
    if (with_prefetch) {
        options.prefetch = static_cast<std::uint32_t>(ctx.knob("prefetch.stages", 1, capacity - 1));
        if constexpr (!disruptor_t::ring_type::multi_producer_ring) {
            ring_options.producer_prefetch =
                static_cast<std::uint32_t>(ctx.knob("prefetch.producer", 0, capacity - 1));
        }
    }
    disruptor_t d(capacity, ring_options);
    const std::vector<stage_spec> specs = stages_of(topo);
    std::vector<checker> handlers(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
        handlers[i].ctx = &ctx;
        handlers[i].name = specs[i].name;
    }
    // The failing stage and every stage after it (specs name only earlier stages).
    std::vector<bool> stopped(specs.size(), false);
    std::uint64_t fail_at = events;
    if (with_failure) {
        const std::size_t failing = ctx.knob("failure.stage", 0, specs.size() - 1);
        fail_at = ctx.knob("failure.at", 0, events);
        handlers[failing].throw_at = fail_at;
        stopped[failing] = fail_at < events;
        for (std::size_t i = 0; i < specs.size(); ++i) {
            for (const std::string& up : specs[i].after) {
                for (std::size_t j = 0; j < i; ++j) stopped[i] = stopped[i] || (stopped[j] && specs[j].name == up);
            }
        }
    }
    const bool with_release = ctx.knob_flag("release", 1, 3);
    const std::uint64_t release_lag = with_release ? ctx.knob("release.lag", 0, 2) : 0;
    std::vector<releasing_checker> releasing(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) releasing[i] = {&handlers[i], release_lag};
    const std::vector<typename disruptor_t::stage_id> ids =
        with_release ? d.wire(specs, releasing.data(), options) : d.wire(specs, handlers.data(), options);

    // Invariants over the shared state (plain reads, between every two steps).
    for (std::size_t i = 0; i < specs.size(); ++i) {
        for (const std::string& up : specs[i].after) {
            std::size_t j = 0;
            while (specs[j].name != up) ++j;
            ctx.invariant(specs[i].name + " never passes " + up,
                          [&d, a = ids[i], b = ids[j]] { return d.progress(a) <= d.progress(b); });
        }
        if (specs[i].after.empty()) {
            ctx.invariant(specs[i].name + " never passes the ring",
                          [&d, a = ids[i]] { return d.progress(a) <= d.ring().cursor(); });
        }
    }
    // A stage's counters are written before its progress: they never lag it.
    for (std::size_t i = 0; i < specs.size(); ++i) {
        ctx.invariant(specs[i].name + "'s counters never lag its progress",
                      [&d, a = ids[i]] { return d.stage_stats(a).processed >= d.progress(a); });
    }
    if (producers == 1) {
        ctx.invariant("the producer never laps the slowest stage", [&d, &ids, &specs, capacity] {
            std::uint64_t slowest = ~std::uint64_t{0};
            for (std::size_t i = 0; i < specs.size(); ++i) slowest = std::min(slowest, d.progress(ids[i]));
            return d.ring().claimed() <= slowest + capacity;
        });
    }

    // The joiner, while it is a member: gated like any stage from the moment add_consumer
    // returned (its start is at or below everything claimed after that).
    std::optional<typename disruptor_t::stage_id> joiner_id;
    checker joiner;
    joiner.ctx = &ctx;
    joiner.name = "joiner";
    joiner.joiner = true;
    joiner.pauses = joiner_pauses;
    joiner.throw_after = joiner_fails_after;
    if (producers == 1 && with_joiner) {
        ctx.invariant("the producer never laps the joiner", [&d, &joiner_id, &joiner, capacity] {
            return !joiner_id || joiner.threw ||
                   d.ring().claimed() <= d.joined_progress(*joiner_id) + capacity;
        });
    }
    // The joiner's counters never lag its progress either. It counts from where it joined:
    // the first position its handler was handed (before that, it has counted nothing).
    if (with_joiner) {
        ctx.invariant("the joiner's counters never lag its progress", [&d, &joiner_id, &joiner] {
            if (!joiner_id) return true;
            const processor_counters stats = d.joined_stats(*joiner_id);
            if (!joiner.started) return stats.processed == 0;
            return stats.processed >= d.joined_progress(*joiner_id) - joiner.first;
        });
    }

    executor exec(ctx);
    std::uint64_t published = 0;  // events the producers published (publish_event said ready)
    std::uint64_t alerted = 0;    // producers whose wait for room was alerted
    ctx.spawn("driver", [&] {
        d.start(exec);
        std::vector<std::uint32_t> threads;
        for (std::size_t k = 0; k < producers; ++k) {
            const std::uint64_t share = events / producers + (k < events % producers ? 1 : 0);
            threads.push_back(ctx.spawn("producer" + std::to_string(k), [&, share] {
                for (std::uint64_t i = 0; i < share;) {
                    // A timed producer wait gives up on a full ring: try again.
                    const wait_result r = d.ring().publish_event(
                        [](event& e, std::uint64_t position) { e.value = value_of(position); });
                    if (r == wait_result::alerted) {
                        const bool any_threw = std::any_of(handlers.begin(), handlers.end(),
                                                           [](const checker& h) { return h.threw; });
                        ctx.check(any_threw,
                                  "a producer's wait was alerted though no wired stage had failed");
                        ++alerted;
                        return;
                    }
                    if (r == wait_result::ready) {
                        ++i;
                        ++published;
                    }
                }
            }));
        }
        if (with_joiner) {
            while (d.ring().cursor() < join_at) sim::pause();
            const auto id = d.add_consumer(exec, "joiner", joiner, options);
            const std::uint64_t joined_at = d.ring().cursor();  // it sees everything published from here on
            ctx.check(id.has_value(), "add_consumer refused a first joiner");
            joiner_id = id;
            while (d.ring().cursor() < leave_at) sim::pause();
            joiner_id.reset();
            d.remove_consumer(exec, *id);
            // No wired stage fails in a run with a joiner: neither the joiner's failure nor
            // its leaving may alert the producers.
            ctx.check(!d.producers_alerted(), "the producers were alerted by the joiner failing or leaving");
            if (joiner.started) {
                ctx.check_that(joiner.first <= joined_at, [&] {
                    return "the joiner started at " + std::to_string(joiner.first) + ", after the cursor " +
                           std::to_string(joined_at) + " when it had joined: events were skipped";
                });
                // Its progress stays where it stopped: before the event it failed at, if it did.
                const processor_counters stats = d.joined_stats(*id);
                ctx.check_that(
                    stats.processed == joiner.expected - joiner.first && joiner.batches_agree(stats.batches),
                    [&] {
                        return "the joiner counted " + std::to_string(stats.processed) + " processed in " +
                               std::to_string(stats.batches) + " batches; it saw " +
                               std::to_string(joiner.expected - joiner.first) + " events and " +
                               std::to_string(joiner.batch_ends) + " batch ends";
                    });
                ctx.check_that(d.joined_progress(*id) == joiner.expected, [&] {
                    return "the joiner's progress reads " + std::to_string(d.joined_progress(*id)) +
                           "; it processed up to " + std::to_string(joiner.expected) +
                           (joiner.threw ? " and failed there" : "");
                });
            }
        }
        for (const std::uint32_t t : threads) ctx.join(t);
        // A failure run shuts down with a timeout far longer than any drain here: the stages
        // that stopped short will never reach the end, and it must not wait for them.
        // 1 ms of virtual time is about 100,000 steps (a drain of at most 24 events takes a few
        // thousand), well inside the step budget even when no thread sleeps.
        constexpr std::uint64_t shutdown_timeout_ns = 1'000'000;
        const std::uint64_t shutdown_began = ctx.now_ns();
        const auto report = with_failure ? d.shutdown(exec, shutdown_timeout_ns) : d.shutdown(exec);
        ctx.check_that(!with_failure || ctx.now_ns() - shutdown_began < shutdown_timeout_ns, [&] {
            return std::string("shutdown took its whole timeout (") +
                   std::to_string(shutdown_timeout_ns / 1'000'000) +
                   " ms): it waited on a stage that had stopped, or one neither drained nor stopped";
        });
        ctx.check_that(alerted > 0 || published == events, [&] {
            return std::to_string(alerted) + " producers were alerted after publishing " +
                   std::to_string(published) + " of " + std::to_string(events) + " events";
        });
        // Each alerted producer may leave one claim unpublished (several producers only).
        const bool positions_ok = producers == 1 ? report.final_position == published
                                                 : report.final_position >= published &&
                                                       report.final_position <= published + alerted;
        ctx.check_that(positions_ok && report.drained == (fail_at == events), [&] {
            return std::string("shutdown left ") + std::to_string(report.unprocessed) + " positions of " +
                   std::to_string(report.final_position) + " unprocessed (" + std::to_string(published) +
                   " published, a stage failed at " + std::to_string(fail_at) + ")";
        });
        for (std::size_t i = 0; i < handlers.size(); ++i) {
            const checker& h = handlers[i];
            const bool failed = h.throw_at < events;
            ctx.check_that(
                stopped[i] ? h.expected <= fail_at && (!failed || h.expected == fail_at)
                           : h.expected == report.published_end && (producers > 1 || h.expected == published),
                [&] {
                    return h.name + " saw " + std::to_string(h.expected) + " of " +
                           std::to_string(published) + " published events (a stage failed at " +
                           std::to_string(fail_at) + ")";
                });
            ctx.check_that((report.stages[i].error != nullptr) == failed, [&] {
                return h.name + (failed ? "'s exception is missing from" : " has an error in") +
                       " the shutdown report";
            });
            // Its counters agree with its progress (the stages start at 0) and with the batch
            // ends its handler was handed, a stage whose slip is off never slipped, and one that
            // releases each event it checked (no lag) released once per event.
            const processor_counters& stats = report.stages[i].stats;
            const std::uint64_t releases = with_release && release_lag == 0 ? h.expected : 0;
            ctx.check_that(
                stats.processed == report.stages[i].progress && h.batches_agree(stats.batches) &&
                    (slipping || stats.slips == 0) && (release_lag != 0 || stats.releases == releases),
                [&] {
                    return h.name + " counted " + std::to_string(stats.processed) + " processed in " +
                           std::to_string(stats.batches) + " batches (" + std::to_string(h.batch_ends) +
                           " batch ends handed), " + std::to_string(stats.slips) + " slips and " +
                           std::to_string(stats.releases) + " early releases, at progress " +
                           std::to_string(report.stages[i].progress) + (slipping ? "" : " (its slip is off)");
                });
        }
    });
    (void)ctx.run();
}

void workload(run_context& ctx) {
    const auto topo = static_cast<topology>(ctx.knob("topology", 0, 5));
    with_wait_strategy(ctx, [&]<template <class> class Wait>() {
        auto run = [&]<template <class> class ProducerWait>() {
            if (topo == topology::sequencer || topo == topology::multi_diamond) {
                exercise<multi_producer, Wait, ProducerWait>(ctx, topo, 3);
            } else {
                exercise<single_producer, Wait, ProducerWait>(ctx, topo, 1);
            }
        };
        // The producers wait as the consumers do in two runs of five; otherwise they yield on
        // a full ring or sleep until consumers of another kind wake them. The knob prints the
        // strategy with the numbers of `wait`.
        constexpr std::uint64_t same = wait_code<Wait>();
        switch (ctx.knob_pick("producer_wait", {same, same, 1, 3, 3})) {
            case 1:
                run.template operator()<yielding_wait>();
                break;
            case 3:
                run.template operator()<blocking_wait>();
                break;
            default:
                run.template operator()<Wait>();
                break;
        }
    });
}

const register_workload registration{workload_spec{
    "disruptor",
    "unicast, pipeline, multicast, diamond, 3P-1C sequencer, 3P-3C diamond; drain on shutdown; a consumer "
    "joins and leaves; stages release events early",
    &workload,
    {
        {canary_spec::kind::planted, "sequence_barrier.ignores_dependents",
         "a stage waits only on the ring, not on the stages it comes after"},
        {canary_spec::kind::planted, "single_producer_sequencer.wrap_check_off_by_one",
         "the producer claims one slot past the slowest consumer: it laps it"},
        {canary_spec::kind::planted, "disruptor.remove_without_wake",
         "removing a consumer does not wake a producer parked for room that only it held back"},
        {canary_spec::kind::planted, "disruptor.remove_alerts_producers",
         "removing a consumer alerts the producers as a failed stage does: a producer waiting for room "
         "gives up though no stage failed"},
        {canary_spec::kind::planted, "disruptor.failed_joiner_keeps_gating",
         "a consumer added at run time whose handler failed keeps gating the producers: they wait for ever "
         "for room it will never give"},
        {canary_spec::kind::planted, "disruptor.failed_stage_keeps_successors",
         "a stage halted by a handler's exception leaves the stages after it waiting on it"},
        {canary_spec::kind::planted, "disruptor.failed_stage_leaves_producers_waiting",
         "a stage halted by a handler's exception leaves producers waiting for room it will never make"},
        {canary_spec::kind::planted, "disruptor.shutdown_waits_on_stopped_stages",
         "a shutdown with a timeout waits on stages that failed or were halted: after a failure it takes the "
         "whole timeout"},
        {canary_spec::kind::planted, "disruptor.shutdown_drains_to_the_cursor",
         "shutdown drains the stages to the last claim: they wait at one an alerted producer left "
         "unpublished "
         "until the timeout halts them"},
        {canary_spec::kind::planted, "ring_buffer.progress_skips_producers",
         "a consumer's progress wakes later stages but not a producer asleep for room"},
        {canary_spec::kind::planted, "batch_event_processor.counters_after_progress",
         "a stage writes its counters after its progress: a reader that saw the progress reads counters that "
         "lag it"},
        {canary_spec::kind::planted, "batch_event_processor.failed_batch_uncounted",
         "a stage whose handler fails mid-batch publishes the events before the failure but does not count "
         "them: its counters say less than its progress"},
        {canary_spec::kind::planted, "batch_event_processor.end_of_batch_early",
         "the event before a batch's last is handed as its end: the handler flushes early, and a batch of "
         "one has no end"},
        {canary_spec::kind::planted, "batch_event_processor.prefetch_tail_skipped",
         "a prefetching stage starts the last events of its run one late: the first of them is never handed "
         "over"},
        {canary_spec::kind::planted, "batch_event_processor.release_one_too_far",
         "an early release gives back one event more than the stage has handled: its progress passes the "
         "event it has yet to read"},
        {canary_spec::kind::planted, "slip.unbounded",
         "a slipping stage waits for ever on producers that stopped short of the slip distance"},
        {canary_spec::kind::mutant, "ring_buffer.R1.publish",
         "publishing a slot no longer orders the event's fields before its stamp"},
    },
    4000,
}};

}  // namespace
}  // namespace ringlab::dst
