// sync/model_control.hpp: run-time switches shared by the checking backends (relacy, sim).
//
// A checker run can weaken one labelled memory-order site (a mutant) or turn on one planted
// bug (a canary). Both are chosen at run time, so one model-check or DST binary runs every
// mutant and canary without a rebuild. The native backend never reads this: its
// `canary()` is a constant false and its orders are the ones written in the source (the
// tests' native_canaries, scenarios/support/, is native with canary() read from here).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

#include "ringlab/sync/site.hpp"

namespace ringlab::sync {

class model_control {
public:
    /// Weakens the site labelled `label` one step (see weaken()); nullptr clears it.
    static void set_mutant(const char* label, weaken_side side = weaken_side::keep_acquire) noexcept {
        mutant_label_ = label;
        mutant_side_ = side;
        mutant_hits_ = 0;
    }

    /// Turns on the planted bug named `name` (one at a time); nullptr clears it.
    static void set_canary(const char* name) noexcept {
        canary_ = name;
        canary_hits_ = 0;
    }

    [[nodiscard]] static const char* mutant() noexcept { return mutant_label_; }
    [[nodiscard]] static const char* canary_name() noexcept { return canary_; }
    /// How many times the mutated site / the canary site executed: a mutant that never ran
    /// proves nothing, and the runners say so.
    [[nodiscard]] static std::uint64_t mutant_hits() noexcept { return mutant_hits_; }
    [[nodiscard]] static std::uint64_t canary_hits() noexcept { return canary_hits_; }

    /// The order an operation at `site` really uses in this run.
    [[nodiscard]] static std::memory_order effective(const mo_site& site, access kind) noexcept {
        if (mutant_label_ != nullptr && std::strcmp(site.label, mutant_label_) == 0) {
            ++mutant_hits_;
            return weaken(site.order, kind, mutant_side_);
        }
        return site.order;
    }

    [[nodiscard]] static bool canary(const char* name) noexcept {
        if (canary_ != nullptr && std::strcmp(name, canary_) == 0) {
            ++canary_hits_;
            return true;
        }
        return false;
    }

private:
    static inline const char* mutant_label_ = nullptr;
    static inline weaken_side mutant_side_ = weaken_side::keep_acquire;
    static inline std::uint64_t mutant_hits_ = 0;
    static inline const char* canary_ = nullptr;
    static inline std::uint64_t canary_hits_ = 0;
};

}  // namespace ringlab::sync
