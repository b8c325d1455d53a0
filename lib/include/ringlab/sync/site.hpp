// sync/site.hpp: labelled memory-order sites.
//
// Every atomic operation in lib/ names its memory order through `at("label", mo::x)`. The
// label is a stable, unique name for that one site ("spsc_ring.E1.push"): model checks and
// DST canaries cite it, and the relacy and sim backends can weaken the order of a single
// labelled site at run time (mutation testing) without rebuilding anything. The native
// backend reads only `order`; the label and location fold away.
//
// A site is an immediate (consteval) value, so a label is always a string literal and an
// unlabelled atomic operation does not compile: the seam's atomics take no bare
// std::memory_order.
#pragma once

#include <atomic>
#include <cstdint>
#include <source_location>

namespace ringlab::sync {

/// Short names for the six orders, so sites read `at("ring.E1", mo::release)`.
namespace mo {
inline constexpr std::memory_order relaxed = std::memory_order_relaxed;
inline constexpr std::memory_order acquire = std::memory_order_acquire;
inline constexpr std::memory_order release = std::memory_order_release;
inline constexpr std::memory_order acq_rel = std::memory_order_acq_rel;
inline constexpr std::memory_order seq_cst = std::memory_order_seq_cst;
}  // namespace mo

/// One labelled memory-order site.
struct mo_site {
    std::memory_order order;
    const char* label;
    std::source_location loc;
};

/// Builds a site at compile time; `loc` is the caller's line, so checker reports name the
/// production source line.
consteval mo_site at(const char* label, std::memory_order order,
                     std::source_location loc = std::source_location::current()) {
    return mo_site{order, label, loc};
}

/// What kind of operation a site sits on: weakening depends on it (a load has no release
/// half, a store no acquire half).
enum class access : std::uint8_t { load, store, rmw, fence };

/// Which half of an acq_rel order a mutant drops.
enum class weaken_side : std::uint8_t { keep_acquire, keep_release };

/// The order one step weaker than `order` for an operation of kind `kind`:
/// seq_cst -> acq_rel (acquire for loads, release for stores), acq_rel -> acquire or
/// release (by `side`), acquire/release -> relaxed. A relaxed fence is no fence at all.
[[nodiscard]] constexpr std::memory_order weaken(std::memory_order order, access kind,
                                                 weaken_side side) noexcept {
    switch (order) {
    case std::memory_order_seq_cst:
        if (kind == access::load) return std::memory_order_acquire;
        if (kind == access::store) return std::memory_order_release;
        return std::memory_order_acq_rel;
    case std::memory_order_acq_rel:
        return side == weaken_side::keep_acquire ? std::memory_order_acquire
                                                 : std::memory_order_release;
    default:
        return std::memory_order_relaxed;
    }
}

/// The failure order a compare-exchange derives from its success order (the standard's
/// rule: no release half, never stronger than the success order).
[[nodiscard]] constexpr std::memory_order cas_failure_order(std::memory_order success) noexcept {
    switch (success) {
    case std::memory_order_acq_rel:
        return std::memory_order_acquire;
    case std::memory_order_release:
        return std::memory_order_relaxed;
    default:
        return success;
    }
}

[[nodiscard]] constexpr bool has_acquire(std::memory_order order) noexcept {
    return order == std::memory_order_acquire || order == std::memory_order_acq_rel ||
           order == std::memory_order_seq_cst || order == std::memory_order_consume;
}

[[nodiscard]] constexpr bool has_release(std::memory_order order) noexcept {
    return order == std::memory_order_release || order == std::memory_order_acq_rel ||
           order == std::memory_order_seq_cst;
}

[[nodiscard]] constexpr const char* order_name(std::memory_order order) noexcept {
    switch (order) {
    case std::memory_order_relaxed: return "relaxed";
    case std::memory_order_consume: return "consume";
    case std::memory_order_acquire: return "acquire";
    case std::memory_order_release: return "release";
    case std::memory_order_acq_rel: return "acq_rel";
    case std::memory_order_seq_cst: return "seq_cst";
    }
    return "?";
}

/// Result of a futex-style wait, in every backend.
enum class futex_status : std::uint8_t { woken, value_changed, timed_out };

/// "Wait without a deadline".
inline constexpr std::uint64_t no_timeout = ~std::uint64_t{0};

}  // namespace ringlab::sync
