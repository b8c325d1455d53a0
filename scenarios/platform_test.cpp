// scenarios/platform_test.cpp: the machine layer.
#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

#include "ringlab/platform.hpp"
#include "ringlab/mpsc_ring.hpp"
#include "ringlab/router.hpp"
#include "ringlab/thread_executor.hpp"

namespace ringlab::scenarios {

TEST(platform, cache_line_facts_hold) {
    EXPECT_TRUE(is_power_of_two(cache_line_bytes));
    EXPECT_EQ(false_sharing_bytes % cache_line_bytes, 0u);
}

TEST(platform, pins_to_an_existing_cpu_and_refuses_one_that_does_not_exist) {
    std::thread t([] {
        EXPECT_EQ(pin_current_thread(0), 0);
        EXPECT_EQ(pin_current_thread(CPU_SETSIZE + 1), EINVAL);
    });
    t.join();
    EXPECT_GE(available_cpus(), 1);
}

TEST(platform, a_cpu_the_machine_lacks_is_a_config_error_before_any_thread_starts) {
    const int missing = static_cast<int>(::sysconf(_SC_NPROCESSORS_CONF));
    EXPECT_NO_THROW(check_cpu("test", 0));
    EXPECT_NO_THROW(check_cpu("test", -1)) << "-1 means not pinned";
    EXPECT_THROW(check_cpu("test", missing), config_error);
    EXPECT_THROW(check_cpu("test", -2), config_error);
    EXPECT_THROW(thread_executor({0, missing}), config_error);
    EXPECT_THROW(thread_executor({-1}), config_error) << "an executor's CPU list names CPUs";
    mpsc_ring<int> source(8);
    router<mpsc_ring<int>> r(source, {});
    EXPECT_THROW((void)r.spawn(missing), config_error);
}

TEST(platform, the_cycle_clock_agrees_with_the_monotonic_clock) {
    const cycle_clock clock = cycle_clock::calibrate(5'000'000);
    EXPECT_GT(clock.ns_per_cycle, 0.0);
    // Both clocks time the same interval, so a stall of the VM moves both: compare them.
    const std::uint64_t t0 = monotonic_ns();
    const std::uint64_t c0 = cycles_now();
    while (monotonic_ns() - t0 < 2'000'000) {
    }
    const double by_cycles = clock.to_ns(cycles_now() - c0);
    const double by_clock = static_cast<double>(monotonic_ns() - t0);
    EXPECT_GT(by_cycles / by_clock, 0.5);
    EXPECT_LT(by_cycles / by_clock, 2.0);
}

TEST(platform, validate_capacity_names_the_rule) {
    EXPECT_EQ(validate_capacity("x", 64), 64u);
    EXPECT_THROW((void)validate_capacity("x", 48), config_error);
    EXPECT_THROW((void)validate_capacity("x", 2, 4), config_error);
}

}  // namespace ringlab::scenarios
