// disruptor.hpp: wires a ring_buffer and its consumer stages into a topology, runs them on
// an executor, and shuts them down without losing an event.
//
//   disruptor<E, single_producer, blocking_wait> d(65536);
//   // consumers busy-spin, producers yield on a full ring (ring_buffer.hpp):
//   disruptor<E, multi_producer, busy_spin_wait, sync::native, yielding_wait> d2(65536);
//   auto a = d.handle_events_with("A", handler_a);          // straight from the ring
//   auto b = d.handle_events_with("B", handler_b, {a});     // after A
//   d.start(executor);
//   ... producers: d.ring().publish_event(...) ...
//   d.shutdown(executor);                                   // drains, then joins
//
// Stages form a DAG: a stage with no predecessors reads the ring's stamps; the others wait
// on the sequences of the stages they come after (sequence_barrier). The producers gate on
// the stages nothing comes after (the leaves), so no producer laps any stage: a stage is
// never ahead of its predecessors, and they are never ahead of the ring.
//
// Shutdown (after the producers stopped): every stage drains to the end of what was
// published (the last claimed position, unless a claim was given up unpublished, below)
// and stops, so everything published is processed exactly once; with a timeout, stages
// still short of it are halted and the report says how many events each did not process.
// The timeout waits only for stages still running: one that stopped short (failed or
// halted) will not move, so a shutdown after a failure returns as soon as the others are
// done, not when the timeout ends.
// A stage that a handler's exception halted (exception_policy::halt) halts the stages after
// it as it stops: the report then names the error and what each stage did not process.
// The ring no longer drains past a halted stage, so halting one (a handler's exception, or
// halt()) also alerts the producers' wait for good: a producer that finds the ring full
// gets `alerted` from next()/publish_event() instead of waiting for ever, and a claim with
// room goes on as before (a producer on try_next() can ask producers_alerted()). A
// multi-producer next() alerted after its fetch_add leaves that claim unpublished;
// shutdown() drains the stages up to the first such position, not past it.
//
// Consumers can join a running ring (add_consumer: they start at the cursor and see every
// event published after they joined) and leave it (remove_consumer). Nothing comes after
// such a consumer, so when its handler's exception halts it, it stops gating the producers
// at once and the ring goes on without it; the report keeps where it stopped.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ringlab/batch_event_processor.hpp"
#include "ringlab/ring_buffer.hpp"
#include "ringlab/sequence.hpp"
#include "ringlab/sequence_barrier.hpp"

namespace ringlab {

/// One stage of a topology description: a name and the names of the stages it comes after.
struct stage_spec {
    std::string name;
    std::vector<std::string> after;
};

template <class E, class Producer = single_producer, template <class> class Wait = busy_spin_wait,
          class Sync = sync::native, template <class> class ProducerWait = Wait>
class disruptor {
public:
    using ring_type = ring_buffer<E, Producer, Wait, Sync, ProducerWait>;
    using stage_id = std::size_t;

    struct stage_report {
        std::string name;
        std::uint64_t progress = 0;  // positions processed, [0, progress)
        std::exception_ptr error;    // a handler exception that halted it
        processor_counters stats;    // what its processor did: batches, errors, slips
    };
    struct shutdown_report {
        std::uint64_t final_position = 0;  // every claimed position: [0, final_position)
        std::uint64_t published_end = 0;   // [0, published_end) published: what stages drained to
        std::uint64_t unprocessed = 0;     // sum over stages of positions they did not reach
        bool drained = true;               // every stage reached final_position
        std::vector<stage_report> stages;
    };

    explicit disruptor(std::size_t capacity, typename ring_type::options options = {}) : ring_(capacity, options) {}
    disruptor(const disruptor&) = delete;
    disruptor& operator=(const disruptor&) = delete;

    [[nodiscard]] ring_type& ring() noexcept { return ring_; }

    /// Adds a stage that runs after `after` (none: straight from the ring). Before start().
    template <class Handler>
    stage_id handle_events_with(std::string name, Handler& handler, std::initializer_list<stage_id> after = {},
                                processor_options options = {}) {
        return add_stage(std::move(name), handler, std::vector<stage_id>(after), options);
    }

    /// handle_events_with, for stage lists built at run time.
    template <class Handler>
    stage_id handle_events_with_ids(std::string name, Handler& handler, std::vector<stage_id> after,
                                    processor_options options = {}) {
        return add_stage(std::move(name), handler, std::move(after), options);
    }

    /// Wires the stages of a description; stage i is handled by handlers[i].
    template <class Handler>
    std::vector<stage_id> wire(const std::vector<stage_spec>& specs, Handler* handlers, processor_options options = {}) {
        std::vector<stage_id> ids;
        for (std::size_t i = 0; i < specs.size(); ++i) {
            std::vector<stage_id> after;
            for (const std::string& name : specs[i].after) after.push_back(find(name, specs[i].name));
            ids.push_back(add_stage(specs[i].name, handlers[i], std::move(after), options));
        }
        return ids;
    }

    /// Gates the producers on the leaf stages and runs every stage on `executor`.
    template <class Executor>
    void start(Executor& executor) {
        if (started_) throw config_error("disruptor: start() called twice");
        started_ = true;
        std::vector<bool> has_successor(stages_.size(), false);
        for (const auto& s : stages_) {
            for (const stage_id a : s->after) has_successor[a] = true;
        }
        ring_.gating().clear();
        for (stage_id i = 0; i < stages_.size(); ++i) {
            if (!has_successor[i]) ring_.gating().add(*stages_[i]->progress);
        }
        for (auto& s : stages_) spawn(executor, *s);
    }

    /// After the producers stopped (their threads joined, or their last claims otherwise
    /// ordered before this call: the report reads the exact count of claims): drains every
    /// stage to the end of what was published, joins them, and reports what each processed.
    /// With a timeout, stages that have not drained by then are halted.
    template <class Executor>
    shutdown_report shutdown(Executor& executor, std::uint64_t timeout_ns = no_timeout) {
        shutdown_report report;
        report.final_position = ring_.claimed();  // the producers stopped: exact
        // A claim the producers stopped without publishing (an alerted or abandoned next())
        // is never published: the stages drain up to it instead of waiting for it for ever.
        // The scan starts at the slowest gating stage: no slot from there on has been
        // overwritten, and nothing a ring past it can have been published (W1).
        std::uint64_t slowest = report.final_position;
        for (stage_base* s : all_stages()) slowest = std::min(slowest, s->progress->get());
        report.published_end = ring_.published_end(slowest, report.final_position);
        // Planted bug: the stages drain to the last claim, and wait at one that an alerted
        // producer left unpublished (for ever, or until a shutdown timeout halts them).
        if (Sync::canary("disruptor.shutdown_drains_to_the_cursor"))
            report.published_end = report.final_position;
        for (auto& s : all_stages()) s->drain_to(report.published_end);
        if (timeout_ns != no_timeout && !wait_drained(report.published_end, timeout_ns)) {
            for (auto& s : all_stages()) s->halt();
        }
        for (auto& s : all_stages()) {
            executor.join(s->thread);
            const std::uint64_t progress = progress_of(*s);
            report.stages.push_back({s->name, progress, s->error(), s->stats()});
            if (progress < report.final_position) {
                report.drained = false;
                report.unprocessed += report.final_position - progress;
            }
        }
        return report;
    }

    /// Stops every stage before its next batch (nothing drained) and joins them. Producers
    /// waiting for room are alerted for good (see the header comment).
    template <class Executor>
    void halt(Executor& executor) {
        ring_.producer_wait().alert();
        for (auto& s : all_stages()) s->halt();
        for (auto& s : all_stages()) executor.join(s->thread);
    }

    /// A consumer joining the running ring at its cursor: it sees every event published
    /// after it joined. Returns nothing when the ring's joiner capacity is used up.
    template <class Handler, class Executor>
    std::optional<stage_id> add_consumer(Executor& executor, std::string name, Handler& handler,
                                         processor_options options = {}) {
        const std::optional<std::size_t> member = ring_.join_consumer();
        if (!member) return std::nullopt;
        auto s = std::make_unique<stage<Handler>>(std::move(name), std::vector<stage_id>{}, handler,
                                                  sequence_barrier<ring_type>(ring_),
                                                  &ring_.joiners().at_index(*member), options);
        s->member = *member;
        s->joined = true;
        spawn(executor, *s);
        joined_.push_back(std::move(s));
        return joined_.size() - 1;
    }

    /// Stops a consumer added at run time, joins it and takes it out of the gating set.
    template <class Executor>
    void remove_consumer(Executor& executor, stage_id id) {
        stage_base& s = *joined_.at(id);
        if (s.removed) return;
        s.halt();
        executor.join(s.thread);
        ring_.joiners().leave(s.member);
        // A producer parked for room may be waiting on this consumer alone: its leaving is
        // progress (without this wake a blocking producer sleeps for ever).
        if (!Sync::canary("disruptor.remove_without_wake")) ring_.progress_made();
        // Planted bug: the leaving consumer alerts the producers as a failed stage does, so
        // a producer waiting for room gives up though every stage is healthy.
        if (Sync::canary("disruptor.remove_alerts_producers")) ring_.producer_wait().alert();
        s.removed = true;
    }

    /// A stage's progress: positions [0, progress) are processed.
    [[nodiscard]] std::uint64_t progress(stage_id id) const { return stages_.at(id)->progress->get(); }
    [[nodiscard]] std::uint64_t joined_progress(stage_id id) const { return progress_of(*joined_.at(id)); }
    [[nodiscard]] std::size_t stage_count() const noexcept { return stages_.size(); }
    /// What a stage's processor has done so far (any thread, while it runs: each counter is
    /// read on its own, so the set is not a snapshot; read after progress(id) showed N, they
    /// count every batch that ended by N), and a run-time consumer's. joined_progress and
    /// joined_stats read the list that add_consumer grows: never concurrently with it (call
    /// them from the thread that adds consumers, or one synchronised with it).
    [[nodiscard]] processor_counters stage_stats(stage_id id) const { return stages_.at(id)->stats(); }
    [[nodiscard]] processor_counters joined_stats(stage_id id) const { return joined_.at(id)->stats(); }

    /// Whether a halted stage (a handler's exception, or halt()) alerted the producers: a
    /// producer that claims with try_next() learns here that room will not come.
    [[nodiscard]] bool producers_alerted() const noexcept { return ring_.producer_wait().is_alerted(); }

private:
    struct stage_base {
        stage_base(std::string n, std::vector<stage_id> a, sequence<Sync>* external)
            : name(std::move(n)), after(std::move(a)), progress(external != nullptr ? external : &own) {}
        virtual ~stage_base() = default;
        virtual void run() = 0;
        virtual void halt() = 0;
        virtual void drain_to(std::uint64_t end) = 0;
        [[nodiscard]] virtual std::exception_ptr error() const = 0;
        [[nodiscard]] virtual processor_counters stats() const = 0;

        std::string name;
        std::vector<stage_id> after;
        sequence<Sync> own;
        sequence<Sync>* progress;
        std::size_t thread = 0;
        // Set by the stage's thread as its last act; relaxed: shutdown() only stops waiting
        // on it, and reads what the stage did after joining its thread.
        typename Sync::template atomic<std::uint32_t> stopped{0};
        std::size_t member = 0;  // joiners' slot, for stages added at run time
        bool joined = false;     // added at run time (add_consumer)
        bool removed = false;    // a run-time consumer that has left
    };

    /// The gating sequence of a run-time consumer that failed: far past any position, so
    /// that it gates nobody (and far enough below 2^64 that adding a capacity cannot wrap).
    static constexpr std::uint64_t released = std::uint64_t{1} << 62;

    /// What a stage processed; a failed run-time consumer keeps it in `own`.
    static std::uint64_t progress_of(const stage_base& s) {
        const std::uint64_t p = s.progress->get();
        return p == released ? s.own.get() : p;
    }

    template <class Handler>
    struct stage final : stage_base {
        stage(std::string n, std::vector<stage_id> a, Handler& handler, sequence_barrier<ring_type> barrier,
              sequence<Sync>* external, processor_options options)
            : stage_base(std::move(n), std::move(a), external),
              processor(barrier, handler, *this->progress, options) {}
        void run() override { processor.run(); }
        void halt() override { processor.halt(); }
        void drain_to(std::uint64_t end) override { processor.drain_to(end); }
        [[nodiscard]] std::exception_ptr error() const override { return processor.error(); }
        [[nodiscard]] processor_counters stats() const override { return processor.stats(); }

        batch_event_processor<ring_type, Handler> processor;
    };

    template <class Handler>
    stage_id add_stage(std::string name, Handler& handler, std::vector<stage_id> after, processor_options options) {
        if (started_) throw config_error("disruptor: stages are added before start(); use add_consumer()");
        sequence_barrier<ring_type> barrier(ring_);
        for (const stage_id a : after) {
            if (a >= stages_.size()) throw config_error("disruptor: stage '" + name + "' comes after an unknown stage");
            barrier.add_dependent(*stages_[a]->progress);
        }
        stages_.push_back(std::make_unique<stage<Handler>>(std::move(name), std::move(after), handler, barrier,
                                                           nullptr, options));
        return stages_.size() - 1;
    }

    stage_id find(const std::string& name, const std::string& for_stage) const {
        for (stage_id i = 0; i < stages_.size(); ++i) {
            if (stages_[i]->name == name) return i;
        }
        throw config_error("disruptor: stage '" + for_stage + "' comes after '" + name +
                           "', which is not defined before it");
    }

    template <class Executor>
    void spawn(Executor& executor, stage_base& s) {
        stage_base* target = &s;
        s.thread = executor.spawn(s.name, [this, target] {
            target->run();
            if (target->error()) stage_failed(*target);
            target->stopped.store(1, at("disruptor.stage_stopped", mo::relaxed));
        });
    }

    /// A stage halted by a handler's exception, on its own thread as it stops. A wired
    /// stage gates the producers, directly or through the stages after it: those are
    /// halted (so that shutdown() returns), and the producers' wait is alerted, since room
    /// will never come. A run-time consumer has nothing after it: it stops gating instead
    /// (its report reads `own`, which holds where it stopped; the sequence is set after it,
    /// with release, so a reader that sees `released` sees `own`).
    void stage_failed(stage_base& failed) {
        if (failed.joined) {
            failed.own.set(failed.progress->get());
            // Planted bug: the failed consumer keeps gating, and the producers wait for ever
            // for room it will never give.
            if (!Sync::canary("disruptor.failed_joiner_keeps_gating")) failed.progress->set(released);
            ring_.progress_made();  // a producer parked for room that only this consumer held back
            return;
        }
        if (!Sync::canary("disruptor.failed_stage_keeps_successors")) halt_successors(failed);
        if (!Sync::canary("disruptor.failed_stage_leaves_producers_waiting")) ring_.producer_wait().alert();
    }

    /// A stage halted by a handler's exception never reaches the positions the stages after
    /// it wait for: they are halted too, so shutdown() returns (with the error and what each
    /// stage did not process in its report) instead of waiting for ever. Stages are added in
    /// order and only after stages already added, so one forward pass finds every successor.
    void halt_successors(const stage_base& failed) {
        std::vector<bool> downstream(stages_.size(), false);
        for (stage_id i = 0; i < stages_.size(); ++i) {
            if (stages_[i].get() == &failed) downstream[i] = true;
        }
        for (stage_id i = 0; i < stages_.size(); ++i) {
            if (downstream[i]) continue;
            for (const stage_id a : stages_[i]->after) {
                if (downstream[a]) {
                    downstream[i] = true;
                    stages_[i]->halt();
                    break;
                }
            }
        }
    }

    std::vector<stage_base*> all_stages() {
        std::vector<stage_base*> all;
        for (auto& s : stages_) all.push_back(s.get());
        for (auto& s : joined_) {
            if (!s->removed) all.push_back(s.get());
        }
        return all;
    }

    /// Whether every stage either reached `final_position` or stopped short of it (a stage
    /// that failed or was halted never moves again) before the timeout.
    bool wait_drained(std::uint64_t final_position, std::uint64_t timeout_ns) {
        detail::deadline<Sync> limit(timeout_ns);
        for (;;) {
            bool settled = true;
            for (stage_base* s : all_stages()) {
                const bool stopped = !Sync::canary("disruptor.shutdown_waits_on_stopped_stages") &&
                                     s->stopped.load(at("disruptor.stage_stopped_poll", mo::relaxed)) != 0;
                settled = settled && (stopped || s->progress->get() >= final_position);
            }
            if (settled) return true;
            if (limit.passed()) return false;
            Sync::sleep_ns(10'000);
        }
    }

    ring_type ring_;
    std::vector<std::unique_ptr<stage_base>> stages_;
    std::vector<std::unique_ptr<stage_base>> joined_;
    bool started_ = false;
};

}  // namespace ringlab
