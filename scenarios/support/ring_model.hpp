// scenarios/support/ring_model.hpp: a stateful RapidCheck model shared by both rings.
//
// The model is a std::deque with the ring's capacity; every command applies the same
// operation to the ring and to the model and compares what both return. Run single-
// threaded: the ring's whole single-thread API (push, batches, claims, pops, consume) must
// behave like a bounded FIFO.
#pragma once

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <vector>

namespace ringlab::scenarios {

struct ring_model {
    std::size_t capacity = 0;
    std::deque<int> items;
    std::size_t release_every = 1;  // spsc_options::release_every (1: an exact FIFO)
    std::size_t unreleased = 0;     // single pops not yet published to the producer

    /// Slots the producer can see as free.
    [[nodiscard]] std::size_t free_slots() const { return capacity - items.size() - unreleased; }
    void popped_one() {
        if (++unreleased >= release_every) unreleased = 0;
    }
    void found_empty() { unreleased = 0; }
};

template <class Ring>
struct push_cmd : rc::state::Command<ring_model, Ring> {
    int value = *rc::gen::arbitrary<int>();
    void apply(ring_model& m) const override {
        if (m.free_slots() > 0) m.items.push_back(value);
    }
    void run(const ring_model& m, Ring& r) const override {
        RC_ASSERT(r.try_push(value) == (m.free_slots() > 0));
    }
    void show(std::ostream& os) const override { os << "try_push(" << value << ")"; }
};

template <class Ring>
struct push_batch_cmd : rc::state::Command<ring_model, Ring> {
    std::vector<int> values = *rc::gen::resize(9, rc::gen::arbitrary<std::vector<int>>());
    void apply(ring_model& m) const override {
        const std::size_t n = std::min(values.size(), m.free_slots());
        m.items.insert(m.items.end(), values.begin(), values.begin() + static_cast<long>(n));
    }
    void run(const ring_model& m, Ring& r) const override {
        const std::size_t n = r.try_push_batch(values.data(), values.size());
        RC_ASSERT(n == std::min(values.size(), m.free_slots()));
    }
    void show(std::ostream& os) const override { os << "try_push_batch(" << values.size() << " values)"; }
};

template <class Ring>
struct claim_cmd : rc::state::Command<ring_model, Ring> {
    std::size_t count = *rc::gen::inRange<std::size_t>(0, 10);
    int base = *rc::gen::inRange(0, 1000);
    void apply(ring_model& m) const override {
        const std::size_t n = std::min(count, m.free_slots());
        for (std::size_t i = 0; i < n; ++i) m.items.push_back(base + static_cast<int>(i));
    }
    void run(const ring_model& m, Ring& r) const override {
        auto c = r.try_claim(count);
        RC_ASSERT(c.size() == std::min(count, m.free_slots()));
        for (std::size_t i = 0; i < c.size(); ++i) c[i] = base + static_cast<int>(i);
        r.publish(c);
    }
    void show(std::ostream& os) const override { os << "try_claim(" << count << ") + publish"; }
};

template <class Ring>
struct pop_cmd : rc::state::Command<ring_model, Ring> {
    void apply(ring_model& m) const override {
        if (m.items.empty()) {
            m.found_empty();
        } else {
            m.items.pop_front();
            m.popped_one();
        }
    }
    void run(const ring_model& m, Ring& r) const override {
        int v = 0;
        const bool got = r.try_pop(v);
        RC_ASSERT(got == !m.items.empty());
        if (got) RC_ASSERT(v == m.items.front());
    }
    void show(std::ostream& os) const override { os << "try_pop"; }
};

template <class Ring>
struct pop_batch_cmd : rc::state::Command<ring_model, Ring> {
    std::size_t max = *rc::gen::inRange<std::size_t>(0, 10);
    void apply(ring_model& m) const override {
        const std::size_t n = std::min(max, m.items.size());
        m.items.erase(m.items.begin(), m.items.begin() + static_cast<long>(n));
        if (max > 0) m.unreleased = 0;  // a batch publishes, or found the ring empty
    }
    void run(const ring_model& m, Ring& r) const override {
        std::vector<int> out(max);
        const std::size_t n = r.try_pop_batch(out.data(), max);
        RC_ASSERT(n == std::min(max, m.items.size()));
        for (std::size_t i = 0; i < n; ++i) RC_ASSERT(out[i] == m.items[i]);
    }
    void show(std::ostream& os) const override { os << "try_pop_batch(" << max << ")"; }
};

template <class Ring>
struct consume_cmd : rc::state::Command<ring_model, Ring> {
    std::size_t max = *rc::gen::inRange<std::size_t>(0, 10);
    void apply(ring_model& m) const override {
        const std::size_t n = std::min(max, m.items.size());
        m.items.erase(m.items.begin(), m.items.begin() + static_cast<long>(n));
        if (max > 0) m.unreleased = 0;  // a batch publishes, or found the ring empty
    }
    void run(const ring_model& m, Ring& r) const override {
        std::vector<int> seen;
        const std::size_t n = r.consume([&](const int& v) { seen.push_back(v); }, max);
        RC_ASSERT(n == std::min(max, m.items.size()));
        RC_ASSERT(seen.size() == n);
        for (std::size_t i = 0; i < n; ++i) RC_ASSERT(seen[i] == m.items[i]);
    }
    void show(std::ostream& os) const override { os << "consume(" << max << ")"; }
};

/// The property: any command sequence on a ring of a generated capacity matches the model.
/// `make(capacity, release_every)` builds the ring; release_every is 1 unless `batched`.
template <class Ring, class Make>
void check_against_model(Make make, bool batched = false) {
    const std::size_t capacity = std::size_t{1} << *rc::gen::inRange(0, 5);
    const std::size_t release_every = batched ? *rc::gen::inRange<std::size_t>(1, capacity + 1) : 1;
    ring_model model{capacity, {}, release_every, 0};
    auto owner = make(capacity, release_every);
    Ring& ring = *owner;
    rc::state::check(model, ring,
                     rc::state::gen::execOneOfWithArgs<push_cmd<Ring>, push_batch_cmd<Ring>, claim_cmd<Ring>,
                                                       pop_cmd<Ring>, pop_batch_cmd<Ring>, consume_cmd<Ring>>());
}

}  // namespace ringlab::scenarios
