// scenarios/support/dst_executor.hpp: an executor (see thread_executor.hpp) that spawns
// logical DST threads, so a disruptor wires and runs the same way under the simulator.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "dst/scheduler.hpp"

namespace ringlab::scenarios {

class dst_executor {
public:
    explicit dst_executor(dst::run_context& ctx) noexcept : ctx_(ctx) {}
    std::size_t spawn(std::string name, std::function<void()> body) { return ctx_.spawn(std::move(name), std::move(body)); }
    void join(std::size_t id) { ctx_.join(static_cast<std::uint32_t>(id)); }

private:
    dst::run_context& ctx_;
};

}  // namespace ringlab::scenarios
