// bench/journal.cpp: journal append, tail and replay against record size, next to memcpy.
//
//   publisher ──append──▶ [ journal: 4 segments ]                 subscribers_0  (append only)
//   publisher ──append──▶ [ journal ] ──poll──▶ subscriber         subscribers_1  (tail)
//   [ full journal ] ──replay(oldest)──▶ reader                    replay_1
//   publisher ─paced─▶ [ journal ] ──poll──▶ subscriber            one_way/.../rate_R (latency)
//
// Records of 8 B to 64 KiB. Every throughput row also copies the same bytes with memcpy
// into a destination of the journal's size, in the same process just before it runs, and
// reports `memcpy_bytes_per_second` and `memcpy_ratio` (the row's payload bytes per second
// over that), so the ratio does not depend on what the machine was doing in another run.
// The tail row reports what its subscriber received (items_per_second, bytes_per_second),
// and after it runs measures the cross-core copy floor between the same two CPUs (a bare
// stamped copy of the same records through a region of the journal's size, under the same
// flow control): `copy_floor_records_per_second` and `copy_floor_ratio` (the tail's records
// per second over the floor's), which tell the journal's own cost from what moving the
// bytes between two cores costs.
// The journal itself never waits for a subscriber (a slow one is overrun and told what it
// lost); the tail row keeps its publisher within two segments of the subscriber, so that
// it measures a tail that keeps up, and reports `lost_records` (0 when it did).
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "ringlab/journal.hpp"
#include "rows.hpp"

namespace ringlab::bench {
namespace {

using u64 = std::uint64_t;
using clock_type = std::chrono::steady_clock;

constexpr journal_config bench_geometry{u64{1} << 20, 4};  // 4 MiB of segments
constexpr std::array<u64, 7> payload_sizes{8, 64, 256, 1024, 4096, 16384, 65536};

/// Records per iteration: about 1 MiB of payload, at least 4096 records.
u64 records_per_iteration(u64 payload) { return std::max<u64>(4096, (u64{1} << 20) / payload); }

/// memcpy of `payload`-byte blocks into a region of the journal's size, bytes per second.
double memcpy_rate(u64 payload) {
    const std::size_t region = bench_geometry.segment_length * bench_geometry.segment_count;
    std::vector<std::byte> from(payload, std::byte{1});
    std::vector<std::byte> to(region + payload);
    std::size_t at = 0;
    u64 bytes = 0;
    const auto start = clock_type::now();
    auto now = start;
    while (now - start < std::chrono::milliseconds(30)) {
        for (int i = 0; i < 256; ++i) {
            std::memcpy(to.data() + at, from.data(), payload);
            at = at + payload + 8 > region ? 0 : at + payload + 8;
        }
        benchmark::ClobberMemory();
        bytes += 256 * payload;
        now = clock_type::now();
    }
    return static_cast<double>(bytes) / std::chrono::duration<double>(now - start).count();
}

/// A tail of `payload`-byte records with nothing of the journal in it, on these two CPUs,
/// records per second: one thread copies each record into a region of the journal's size
/// and stamps the word before it with release, the other waits for the stamp and copies the
/// record out; the same flow control as the tail row, and nothing else (no segments, laps,
/// overrun or corruption checks). For large records it is what the two cores can pass
/// between them; for small ones a reference (METHODOLOGY.md). The tail row reports its rate
/// over this (`copy_floor_ratio`).
double copy_floor_rate(u64 payload, const cpu_pair& plan) {
    const u64 region = bench_geometry.segment_length * bench_geometry.segment_count;
    const u64 stride = 8 + (payload + 7) / 8 * 8;  // a stamp word, the payload, 8-byte aligned
    const u64 lap = region / stride * stride;      // bytes of whole records in the region
    const u64 window = bench_geometry.segment_length * (bench_geometry.segment_count - 2) / stride;
    std::vector<u64> words(region / 8);
    auto* base = reinterpret_cast<std::byte*>(words.data());
    // Record k sits at a byte offset each side advances by `stride`, wrapping at `lap`.
    auto stamp = [&](u64 at) { return std::atomic_ref<u64>(words[at / 8]); };
    auto advance = [&](u64 at) { return at + stride == lap ? 0 : at + stride; };
    std::vector<std::byte> bytes(payload, std::byte{7});
    alignas(false_sharing_bytes) std::atomic<u64> consumed{0};
    alignas(false_sharing_bytes) std::atomic<u64> total{~u64{0}};
    std::thread consumer([&] {
        (void)pin_current_thread(plan.second);
        std::vector<std::byte> buf(payload + 8);
        u64 at = 0;
        for (u64 k = 0, told = 0; k != total.load(std::memory_order_acquire);) {
            if (stamp(at).load(std::memory_order_acquire) != k + 1) {
                if (told != k) {  // the writer polls this line: one store per wait, not per spin
                    told = k;
                    consumed.store(k, std::memory_order_release);
                }
                spin_pause();
                continue;
            }
            std::memcpy(buf.data(), base + at + 8, payload);
            benchmark::DoNotOptimize(buf.data());
            at = advance(at);
            if (++k - told >= (u64{1} << 16) / stride + 1) {
                told = k;
                consumed.store(k, std::memory_order_release);
            }
        }
    });
    (void)pin_current_thread(plan.first);
    const auto start = clock_type::now();
    u64 k = 0, at = 0, consumed_cache = 0;
    while (clock_type::now() - start < std::chrono::milliseconds(40)) {
        for (const u64 end = k + 64; k < end; ++k) {
            while (k - consumed_cache > window) {
                consumed_cache = consumed.load(std::memory_order_acquire);
                spin_pause();
            }
            std::memcpy(base + at + 8, bytes.data(), payload);
            stamp(at).store(k + 1, std::memory_order_release);
            at = advance(at);
        }
    }
    total.store(k, std::memory_order_release);
    consumer.join();
    return static_cast<double>(k) / std::chrono::duration<double>(clock_type::now() - start).count();
}

void report_ratio(benchmark::State& state, u64 payload, double seconds, u64 records) {
    const double bytes = static_cast<double>(records * payload);
    const double memcpy_bps = memcpy_rate(payload);
    state.SetItemsProcessed(static_cast<std::int64_t>(records));
    state.SetBytesProcessed(static_cast<std::int64_t>(records * payload));
    state.counters["memcpy_bytes_per_second"] = memcpy_bps;
    state.counters["memcpy_ratio"] = seconds > 0 ? bytes / seconds / memcpy_bps : 0;
    state.counters["records_per_second"] = seconds > 0 ? static_cast<double>(records) / seconds : 0;
}

void append_only(benchmark::State& state, u64 payload) {
    auto j = std::make_unique<journal<>>(bench_geometry);
    std::vector<std::byte> bytes(payload, std::byte{7});
    const u64 n = records_per_iteration(payload);
    (void)pin_current_thread(pair_plan().first);
    double seconds = 0;
    u64 records = 0;
    for (auto _ : state) {
        const auto t0 = clock_type::now();
        for (u64 i = 0; i < n; ++i) j->append(bytes.data(), static_cast<std::uint32_t>(payload));
        const double dt = std::chrono::duration<double>(clock_type::now() - t0).count();
        state.SetIterationTime(dt);
        seconds += dt;
        records += n;
    }
    report_ratio(state, payload, seconds, records);
    state.counters["footprint_bytes"] = static_cast<double>(j->region_bytes());
}

void tail(benchmark::State& state, u64 payload) {
    auto j = std::make_unique<journal<>>(bench_geometry);
    std::vector<std::byte> bytes(payload, std::byte{7});
    const u64 n = records_per_iteration(payload);
    const u64 window = bench_geometry.segment_length * (bench_geometry.segment_count - 2);
    const cpu_pair plan = pair_plan();
    alignas(false_sharing_bytes) std::atomic<bool> stop{false};
    alignas(false_sharing_bytes) std::atomic<u64> consumed{0};  // the subscriber's position
    alignas(false_sharing_bytes) std::atomic<u64> delivered{0};
    alignas(false_sharing_bytes) std::atomic<u64> lost{0};
    alignas(false_sharing_bytes) std::atomic<bool> joined{false};
    std::thread subscriber([&] {
        (void)pin_current_thread(plan.second);
        auto sub = j->subscribe_live();  // on this thread's stack: no line shared with the publisher
        joined.store(true, std::memory_order_release);
        std::vector<std::byte> buf(j->max_payload());
        u64 got = 0, missed = 0, told = 0;
        for (;;) {
            const read_result r = sub.poll(buf);
            if (r.status == read_status::record) {
                ++got;
                // Tell the publisher where it is every 64 KiB of log, not per record: the
                // line it writes is one the publisher polls.
                if (sub.position() - told >= (u64{1} << 16)) {
                    told = sub.position();
                    consumed.store(told, std::memory_order_release);
                }
            } else if (r.status == read_status::overrun) {
                missed += r.lost_records;
            } else {
                consumed.store(sub.position(), std::memory_order_release);
                if (stop.load(std::memory_order_acquire)) {
                    if (sub.poll(buf).status == read_status::empty) break;
                } else {
                    spin_pause();
                }
            }
        }
        delivered.store(got, std::memory_order_relaxed);
        lost.store(missed, std::memory_order_relaxed);
    });
    (void)pin_current_thread(plan.first);
    while (!joined.load(std::memory_order_acquire)) spin_pause();
    u64 consumed_cache = 0;
    const auto start = clock_type::now();
    for (auto _ : state) {
        const auto t0 = clock_type::now();
        for (u64 i = 0; i < n; ++i) {
            // Flow control of the benchmark, not of the journal: stay within `window` bytes
            // of the subscriber, so the row measures a tail that keeps up (no overruns).
            while (j->position() - consumed_cache > window) {
                consumed_cache = consumed.load(std::memory_order_acquire);
                spin_pause();
            }
            j->append(bytes.data(), static_cast<std::uint32_t>(payload));
        }
        state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
    }
    stop.store(true, std::memory_order_release);
    subscriber.join();
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    const u64 records = delivered.load(std::memory_order_relaxed);
    report_ratio(state, payload, seconds, records);
    state.counters["lost_records"] = static_cast<double>(lost.load(std::memory_order_relaxed));
    const double floor = copy_floor_rate(payload, plan);
    state.counters["copy_floor_records_per_second"] = floor;
    state.counters["copy_floor_ratio"] = seconds > 0 ? static_cast<double>(records) / seconds / floor : 0;
    label_plan(state, plan);
}

void replay(benchmark::State& state, u64 payload) {
    auto j = std::make_unique<journal<>>(bench_geometry);
    std::vector<std::byte> bytes(payload, std::byte{7});
    const u64 fill = bench_geometry.segment_length * bench_geometry.segment_count / (payload + 8);
    for (u64 i = 0; i < fill; ++i) j->append(bytes.data(), static_cast<std::uint32_t>(payload));
    std::vector<std::byte> buf(j->max_payload());
    (void)pin_current_thread(pair_plan().first);
    double seconds = 0;
    u64 records = 0;
    for (auto _ : state) {
        const auto t0 = clock_type::now();
        auto sub = j->subscribe_oldest();
        while (sub.poll(buf).status == read_status::record) ++records;
        const double dt = std::chrono::duration<double>(clock_type::now() - t0).count();
        state.SetIterationTime(dt);
        seconds += dt;
    }
    report_ratio(state, payload, seconds, records);
}

/// The u64 adapter of harness.hpp for the latency rows: append and poll 8-byte records.
class journal_queue {
public:
    journal_queue() : j_(std::make_unique<journal<>>(bench_geometry)), sub_(j_->subscribe_live()) {}
    bool try_push(u64 v) {
        j_->append(&v, sizeof v);
        return true;
    }
    bool try_pop(u64& v) {
        for (;;) {
            const read_result r = sub_.poll(&v, sizeof v);
            if (r.status != read_status::overrun) return r.status == read_status::record;
        }
    }
    [[nodiscard]] std::size_t footprint_bytes() const noexcept { return j_->region_bytes(); }

private:
    std::unique_ptr<journal<>> j_;
    alignas(false_sharing_bytes) journal<>::subscriber sub_;  // the consumer's, off the producer's line
};

}  // namespace

RINGLAB_BENCH_ROWS(journal_rows) {
    const row_base base{"journal", "busy_spin_wait", "journal"};
    for (const u64 payload : payload_sizes) {
        row_spec append_spec =
            make_spec(base, row_kind::throughput, {{"subscribers", 0}, {"payload", payload}});
        append_spec.threads = 1;
        append_spec.bytes_per_event = payload;
        add_row(append_spec, [payload](benchmark::State& s) { append_only(s, payload); });

        row_spec tail_spec =
            make_spec(base, row_kind::throughput, {{"subscribers", 1}, {"payload", payload}});
        tail_spec.bytes_per_event = payload;
        add_row(tail_spec, [payload](benchmark::State& s) { tail(s, payload); });

        row_spec replay_spec = make_spec(base, row_kind::throughput, {{"replay", 1}, {"payload", payload}});
        replay_spec.threads = 1;
        replay_spec.bytes_per_event = payload;
        add_row(replay_spec, [payload](benchmark::State& s) { replay(s, payload); });
    }
    for (const u64 rate : offered_rates) {
        add_row(make_spec(base, row_kind::one_way, {{"rate", rate}}), [rate](benchmark::State& s) {
            one_way(
                s, [] { return std::make_unique<journal_queue>(); }, static_cast<double>(rate));
        });
    }
}

}  // namespace ringlab::bench
