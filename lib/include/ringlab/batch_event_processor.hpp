// batch_event_processor.hpp: a consumer loop that waits on a barrier, hands each available
// event to a handler in batches, then publishes its progress.
//
// Threading contract: run() on one thread; halt(), drain_to() and the accessors from any
// thread. Progress: blocking, through the ring's consumer wait strategy.
//
// The handler is called as handler(event, position, end_of_batch); it receives `const E&`,
// or `E&` when it declares `using mutates_events = std::true_type;` (a stage that annotates
// events for later stages). Optional hooks: on_start(), on_shutdown().
//
// Stopping. halt() stops before the next batch. drain_to(end) stops once every position
// before `end` is processed: the disruptor's shutdown drains to the end of what was
// published, so nothing published is lost and no event is processed twice. Both lower the stop position,
// so a later drain_to never undoes a halt. The stop position is relaxed: it carries no data;
// what a stage reads is ordered by the stamps [R1a] and its dependents' counts [S1a], and a
// parked stage is woken through the wait strategy's W1-W5.
//
// Slipping (processor_options::slip): a stage that has taken slip.after events since it
// last found none, and now finds fewer than slip.distance, first gives its upstream a head
// start (sequence_barrier::wait_for, detail/slip.hpp): in a steady stream it then reads
// runs of about the distance from lines the producers have finished with, rather than
// chasing them a few events behind. The cost: an event that arrives while a slip polls
// waits for the slip to end (at most slip.polls pauses). Options that leave `slip` unset
// take the consumer wait strategy's default (default_slip below): on for blocking_wait and
// timeout_blocking_wait, which already trade microseconds of latency for CPU; off for the
// others (wait_strategy.hpp says why).
//
// Exceptions from the handler follow exception_policy: halt (the default: progress stops
// at the failing event, error() returns it), skip (count it, go on with the next event) or
// rewind (process the whole batch again, at most rewind_limit times, then halt).
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>

#include "ringlab/sequence.hpp"
#include "ringlab/sequence_barrier.hpp"
#include "ringlab/wait_strategy.hpp"

namespace ringlab {

enum class exception_policy : std::uint8_t { halt, skip, rewind };

struct processor_options {
    std::uint64_t max_batch = 4096;
    exception_policy on_exception = exception_policy::halt;
    std::uint32_t rewind_limit = 3;
    /// Temporal slipping while streaming (detail/slip.hpp); the distance must be below
    /// max_batch and the ring's capacity. Unset: the consumer wait strategy's default
    /// (default_slip). `slip_options{}` turns it off; note that `slip = {}` and
    /// `.slip = {}` mean unset, not off.
    std::optional<slip_options> slip = std::nullopt;
};

/// The slip of a stage whose options leave it unset: a wait strategy that declares
/// `streaming_slip` (a distance) slips that far, bounded by an eighth of the ring and half
/// the largest batch, so that stages one after another on one ring each get their head
/// start; off when that leaves less than 2, and for strategies that declare nothing.
template <class Wait>
[[nodiscard]] constexpr slip_options default_slip(std::uint64_t capacity, std::uint64_t max_batch) noexcept {
    std::uint64_t distance = 0;
    if constexpr (requires { Wait::streaming_slip; }) distance = Wait::streaming_slip;
    distance = std::min({distance, capacity / 8, max_batch / 2});
    return distance < 2 ? slip_options{} : slip_options{static_cast<std::uint32_t>(distance)};
}

/// A handler that writes to the events it handles (for later stages to read) says so with
/// `using mutates_events = std::true_type;`; every other handler gets const events.
template <class Handler>
concept annotating_handler = requires { typename Handler::mutates_events; } && Handler::mutates_events::value;

/// What a batch_event_processor did: its stats(), and a disruptor stage's (stage_stats(),
/// the shutdown report).
struct processor_counters {
    std::uint64_t processed = 0;       // events handed to the handler and passed (progress moved)
    std::uint64_t batches = 0;         // progress publications: processed / batches is the mean batch
    std::uint64_t handler_errors = 0;  // exceptions skipped or rewound
    std::uint64_t rewinds = 0;
    std::uint64_t slips = 0;  // waits that slipped first (processor_options::slip)
};

template <class Ring, class Handler>
class batch_event_processor {
    using Sync = typename Ring::sync_type;

public:
    using counters = processor_counters;

    batch_event_processor(sequence_barrier<Ring> barrier, Handler& handler, sequence<Sync>& progress,
                          processor_options options = {})
        : barrier_(barrier), handler_(handler), progress_(progress), options_(options) {
        if (options_.max_batch == 0) throw config_error("batch_event_processor: max_batch must be at least 1");
        const std::uint64_t capacity = barrier_.ring().capacity();
        // No batch is longer than the ring, and the clamp keeps next + max_batch from wrapping.
        options_.max_batch = std::min<std::uint64_t>(options_.max_batch, capacity);
        slip_ = detail::validated_slip(
            "batch_event_processor",
            options_.slip.value_or(default_slip<typename Ring::wait_type>(capacity, options_.max_batch)),
            capacity, options_.max_batch);
    }
    batch_event_processor(const batch_event_processor&) = delete;
    batch_event_processor& operator=(const batch_event_processor&) = delete;

    /// Processes until halted, drained or alerted; returns after on_shutdown().
    void run() {
        if constexpr (requires { handler_.on_start(); }) handler_.on_start();
        std::uint64_t next = progress_.get();
        std::uint64_t since_idle = 0;  // events taken since the barrier last had none
        for (;;) {
            // relaxed: the stop position carries no data (see the header).
            const std::uint64_t stop = stop_.load(at("batch_event_processor.P1a.stop", mo::relaxed));
            if (next >= stop) break;
            const std::uint64_t limit = std::min(next + options_.max_batch, stop);
            const bool streaming = slip_.enabled() && since_idle >= slip_.after;
            const auto w = barrier_.wait_for(next, limit, stop_, no_timeout, streaming ? &slip_ : nullptr);
            if (w.idled) since_idle = 0;
            if (w.slipped) slips_.add();
            if (w.result == wait_result::alerted) break;
            if (w.end <= next) continue;  // woken to look at the stop position
            if (!process(next, w.end)) break;
            since_idle += w.end - next;
            next = w.end;
        }
        if constexpr (requires { handler_.on_shutdown(); }) handler_.on_shutdown();
    }

    /// Stops before the next batch.
    void halt() { stop_at(0); }
    /// Stops once every position before `end` is processed.
    void drain_to(std::uint64_t end) { stop_at(end); }

    [[nodiscard]] sequence<Sync>& progress() noexcept { return progress_; }
    /// Each counter is read on its own (the set is not a snapshot), and none lags the
    /// progress: read after progress() showed N, they count every batch that ended by N.
    [[nodiscard]] counters stats() const noexcept {
        return {processed_.get(), batches_.get(), handler_errors_.get(), rewinds_.get(), slips_.get()};
    }
    /// The exception that halted the processor (read after run() returned).
    [[nodiscard]] std::exception_ptr error() const noexcept { return error_; }

private:
    /// Lowers the stop position to `end` (never raises it: a halt stays a halt when the
    /// disruptor's shutdown drains every stage afterwards).
    void stop_at(std::uint64_t end) {
        // relaxed, both: the stop position carries no data (see the header).
        std::uint64_t current = stop_.load(at("batch_event_processor.P1.stop_read", mo::relaxed));
        while (end < current &&
               !stop_.compare_exchange_weak(current, end, at("batch_event_processor.P1.stop", mo::relaxed))) {
        }
        barrier_.ring().consumer_wait().signal();
    }

    decltype(auto) event(std::uint64_t p) {
        if constexpr (annotating_handler<Handler>) {
            return barrier_.ring().annotate(p);
        } else {
            return barrier_.ring().read(p);
        }
    }

    /// The last event of the batch [.., end): the handler may act on the batch (flush) there.
    static bool is_end_of_batch(std::uint64_t p, std::uint64_t end) {
        // Planted bug: the event before the last is marked instead.
        if (Sync::canary("batch_event_processor.end_of_batch_early")) return p + 2 == end;
        return p + 1 == end;
    }

    /// Hands [begin, end) to the handler and publishes the progress. False: halted.
    bool process(std::uint64_t begin, std::uint64_t end) {
        std::uint64_t p = begin;
        std::uint32_t rewinds = 0;
        while (p < end) {
            try {
                for (; p < end; ++p) handler_(event(p), p, is_end_of_batch(p, end));
            } catch (...) {
                if (options_.on_exception == exception_policy::skip) {
                    handler_errors_.add();
                    ++p;
                    continue;
                }
                if (options_.on_exception == exception_policy::rewind && rewinds < options_.rewind_limit) {
                    handler_errors_.add();
                    rewinds_.add();
                    ++rewinds;
                    p = begin;
                    continue;
                }
                error_ = std::current_exception();
                publish_progress(begin, p);
                // Planted bug: the events before the failure are published but not counted.
                if (Sync::canary("batch_event_processor.failed_batch_uncounted") && p != begin) {
                    processed_.set(processed_.get() - (p - begin));
                    batches_.set(batches_.get() - 1);
                }
                return false;
            }
        }
        publish_progress(begin, end);
        return true;
    }

    /// The counters are written before the progress, whose store is a release: a reader
    /// that sees progress N (an acquire) sees the counters of every batch up to N.
    void publish_progress(std::uint64_t begin, std::uint64_t end) {
        if (end == begin) return;
        // Planted bug: the counters are written after the progress, so they lag it.
        const bool counters_first = !Sync::canary("batch_event_processor.counters_after_progress");
        if (counters_first) count_batch(end - begin);
        progress_.set(end);
        barrier_.ring().progress_made();
        if (!counters_first) count_batch(end - begin);
    }

    void count_batch(std::uint64_t events) noexcept {
        processed_.add(events);
        batches_.add();
    }

    sequence_barrier<Ring> barrier_;
    Handler& handler_;
    sequence<Sync>& progress_;
    processor_options options_;
    slip_options slip_;  // options_.slip, or the wait strategy's default
    typename Sync::counter processed_;
    typename Sync::counter batches_;
    typename Sync::counter handler_errors_;
    typename Sync::counter rewinds_;
    typename Sync::counter slips_;
    std::exception_ptr error_;
    alignas(false_sharing_bytes) typename Sync::template atomic<std::uint64_t> stop_{run_forever};
};

}  // namespace ringlab
