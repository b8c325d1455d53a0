// dst/happens_before.cpp: vector clocks for the C++ memory model's synchronises-with edges,
// and the race check on plain data.
//
// Per thread: `clock` (what it has seen), `fence_release` (its clock at its last release
// fence: a later relaxed store carries it), `pending_acquire` (what its relaxed loads read:
// a later acquire fence takes it). Per atomic: `released`, the clock an acquire of its
// current value joins; a read-modify-write extends it (release sequences).
#include <algorithm>

#include "dst/scheduler_impl.hpp"

namespace ringlab::dst {

namespace {
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

void join_into(sync::sim_vclock& into, const sync::sim_vclock& from) noexcept {
    for (int i = 0; i < sync::sim_max_threads; ++i) {
        into.tick[i] = std::max(into.tick[i], from.tick[i]);
    }
}

std::string short_where(const std::source_location& loc) {
    std::string file = loc.file_name();
    const auto pos = file.rfind("/lib/include/");
    if (pos != std::string::npos) file = file.substr(pos + 1);
    return file + ":" + std::to_string(loc.line());
}
}  // namespace

void scheduler::tick(logical_thread& t) noexcept { ++t.clock.tick[t.id]; }

std::uint32_t scheduler::object_id(std::uint32_t& slot) noexcept {
    if (slot == 0) slot = next_object_id_++;
    return slot;
}

void scheduler::atomic_done(sync::sim_atomic_meta& meta, sync::sim_op op, std::memory_order order,
                            std::uint64_t value) {
    if (checking_) return;
    logical_thread& t = *current_;
    const std::uint32_t id = object_id(meta.object_id);
    if (running_ && current_ != &main_) {
        hash_ = (hash_ ^ value ^ (static_cast<std::uint64_t>(id) << 48)) * fnv_prime;
        if (opt_.record_trace && !result.trace.empty()) {
            result.trace.back().value = value;
            result.trace.back().object = id;
        }
    }
    const bool reads = op == sync::sim_op::load || op == sync::sim_op::rmw || op == sync::sim_op::cas_fail;
    const bool writes = op == sync::sim_op::store || op == sync::sim_op::rmw;
    if (reads) {
        join_into(sync::has_acquire(order) ? t.clock : t.pending_acquire, meta.released);
    }
    if (writes) {
        const sync::sim_vclock& carried = sync::has_release(order) ? t.clock : t.fence_release;
        if (op == sync::sim_op::rmw) {
            join_into(meta.released, carried);  // a read-modify-write continues the sequence
        } else {
            meta.released = carried;  // a plain store starts a new one
        }
        if (sync::has_release(order)) tick(t);
    }
}

void scheduler::fence_done(std::memory_order order) {
    if (checking_) return;
    logical_thread& t = *current_;
    if (sync::has_acquire(order)) join_into(t.clock, t.pending_acquire);
    if (sync::has_release(order)) {
        t.fence_release = t.clock;
        tick(t);
    }
}

void scheduler::heavy_fence_done() {
    // membarrier: every other thread executes a full barrier where it stands, so what each
    // did before is ordered before what the caller does next, and what the caller did
    // before is ordered before what each does next.
    logical_thread& me = *current_;
    for (auto& t : threads_) {
        if (t.get() != &me) join_into(me.clock, t->clock);
    }
    if (&me != &main_) join_into(me.clock, main_.clock);
    tick(me);
    for (auto& t : threads_) {
        if (t.get() != &me) join_into(t->clock, me.clock);
    }
    if (&me != &main_) join_into(main_.clock, me.clock);
}

void scheduler::cell_access(sync::sim_cell_meta& meta, bool is_write, const std::source_location& loc) {
    if (checking_) return;
    logical_thread& t = *current_;
    const std::uint32_t me = t.id;
    const std::uint32_t id = object_id(meta.object_id);
    auto name_of = [this](std::uint32_t tid) -> std::string {
        return tid == 0 ? std::string("main") : threads_[tid - 1]->name;
    };
    if (meta.writer != 0) {
        const std::uint32_t w = meta.writer - 1;
        if (w != me && t.clock.tick[w] < meta.write_tick) {
            fail(verdict::correctness,
                 "data race on cell #" + std::to_string(id) + ": " + (is_write ? "write" : "read") + " by '" +
                     t.name + "' at " + short_where(loc) + " is not ordered after the write by '" +
                     name_of(w) + "' at " + short_where(meta.write_loc),
                 &loc);
        }
    }
    if (is_write) {
        for (std::uint32_t u = 0; u < static_cast<std::uint32_t>(sync::sim_max_threads); ++u) {
            if (u == me || meta.reads.tick[u] == 0) continue;
            if (t.clock.tick[u] < meta.reads.tick[u]) {
                fail(verdict::correctness,
                     "data race on cell #" + std::to_string(id) + ": write by '" + t.name + "' at " +
                         short_where(loc) + " is not ordered after a read by '" + name_of(u) + "'",
                     &loc);
            }
        }
        meta.writer = me + 1;
        meta.write_tick = t.clock.tick[me];
        meta.reads = sync::sim_vclock{};
        meta.write_loc = loc;
    } else {
        meta.reads.tick[me] = t.clock.tick[me];
    }
}

}  // namespace ringlab::dst
