// thread_executor.hpp: runs the stages of a disruptor on OS threads, optionally pinned.
//
// An executor is anything with `id spawn(std::string name, std::function<void()> body)`
// and `void join(id)`. This one uses std::thread; DST workloads pass one that spawns
// logical threads instead, so the same wiring code runs under the simulator.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ringlab/platform.hpp"

namespace ringlab {

class thread_executor {
public:
    /// `cpus`: CPUs to pin the spawned threads to, in turn; empty: no pinning. A CPU this
    /// machine does not have is a config_error.
    explicit thread_executor(std::vector<int> cpus = {}) : cpus_(std::move(cpus)) {
        for (const int cpu : cpus_) {
            if (cpu < 0) throw config_error("thread_executor: CPU " + std::to_string(cpu) + " is not a CPU");
            check_cpu("thread_executor", cpu);
        }
    }
    thread_executor(const thread_executor&) = delete;
    thread_executor& operator=(const thread_executor&) = delete;
    ~thread_executor() {
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
    }

    std::size_t spawn(std::string name, std::function<void()> body) {
        const int cpu = cpus_.empty() ? -1 : cpus_[threads_.size() % cpus_.size()];
        threads_.emplace_back([cpu, name = std::move(name), body = std::move(body)] {
            pin_or_warn("thread_executor", name, cpu);
#if defined(__linux__)
            pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
#endif
            body();
        });
        return threads_.size() - 1;
    }

    void join(std::size_t id) {
        if (id < threads_.size() && threads_[id].joinable()) threads_[id].join();
    }

private:
    std::vector<int> cpus_;
    std::vector<std::thread> threads_;
};

}  // namespace ringlab
