// support/native_canaries.hpp: the native backend with the planted bugs switchable.
//
// Code that only runs on a real backend (a journal file: open_file maps it with mmap) cannot
// be checked under sim, so its canaries would be compiled out with the native backend's
// constant-false canary(). This backend is native in every other respect: the same atomics,
// futexes and clocks, with canary() read from model_control, so a property can run the
// file path with one planted bug on. Tests only; production code never names it.
#pragma once

#include "ringlab/sync/model_control.hpp"
#include "ringlab/sync/native.hpp"

namespace ringlab::scenarios {

struct native_canaries : sync::native {
    static constexpr const char* name = "native+canaries";

    [[nodiscard]] static bool canary(const char* name) noexcept { return sync::model_control::canary(name); }
};

}  // namespace ringlab::scenarios
