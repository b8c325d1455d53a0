// bench/tests/topology_test.cpp: pinning plans on made-up machines of any size, and a
// sanity check of this machine's topology as hwloc reads it.
#include "topology.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace ringlab::bench {
namespace {

/// `packages` x `cores_per_package` cores with `smt` hardware threads each, numbered as
/// Linux does: the first thread of every core first, then the siblings.
topology machine(int packages, int cores_per_package, int smt) {
    topology t;
    const int cores = packages * cores_per_package;
    for (int rank = 0; rank < smt; ++rank) {
        for (int core = 0; core < cores; ++core) {
            const int package = core / cores_per_package;
            t.cpus.push_back({rank * cores + core, core, package, package, rank});
        }
    }
    t.cores = cores;
    t.packages = packages;
    return t;
}

TEST(Topology, TwoCpusRunAPairOnDistinctCores) {
    const thread_plan p = plan_threads(machine(1, 2, 1), 2);
    EXPECT_EQ(p.cpus, (std::vector<int>{0, 1}));
    EXPECT_FALSE(p.oversubscribed);
    EXPECT_FALSE(p.smt_shared);
}

TEST(Topology, MoreThreadsThanCpusAreOversubscribed) {
    const thread_plan p = plan_threads(machine(1, 2, 1), 3);
    EXPECT_EQ(p.cpus.size(), 3u);
    EXPECT_TRUE(p.oversubscribed);
    const thread_plan one = plan_threads(machine(1, 1, 1), 2);
    EXPECT_EQ(one.cpus, (std::vector<int>{0, 0}));
    EXPECT_TRUE(one.oversubscribed);
}

TEST(Topology, CoresBeforeSiblingsAndTheFirstPackageFirst) {
    const topology t = machine(2, 4, 2);  // 16 CPUs, 8 cores, 2 packages
    const thread_plan pair = plan_threads(t, 2);
    EXPECT_EQ(pair.cpus, (std::vector<int>{0, 1})) << "a pair shares a package (and its L3)";
    const thread_plan eight = plan_threads(t, 8);
    EXPECT_EQ(std::set<int>(eight.cpus.begin(), eight.cpus.end()).size(), 8u);
    EXPECT_FALSE(eight.smt_shared) << "eight threads fit on eight cores";
    for (const int cpu : eight.cpus) EXPECT_LT(cpu, 8) << "first hardware threads only";
    const thread_plan nine = plan_threads(t, 9);
    EXPECT_TRUE(nine.smt_shared);
    EXPECT_FALSE(nine.oversubscribed);
    EXPECT_EQ(nine.cpus[8], 8) << "the ninth thread takes core 0's sibling";
    EXPECT_TRUE(plan_threads(t, 17).oversubscribed);
}

TEST(Topology, AnEmptyTopologyStillPlans) {
    const thread_plan p = plan_threads(topology{}, 2);
    EXPECT_EQ(p.cpus, (std::vector<int>{0, 0}));
    EXPECT_TRUE(p.oversubscribed);
}

TEST(Topology, ThisMachineIsReadAndWritten) {
    const topology& t = host_topology();
    ASSERT_FALSE(t.cpus.empty());
    EXPECT_GE(t.cores, 1);
    const thread_plan p = plan_threads(2);
    std::set<int> allowed;
    for (const cpu_info& c : t.cpus) allowed.insert(c.os_index);
    for (const int cpu : p.cpus) EXPECT_TRUE(allowed.count(cpu)) << cpu;
    std::ostringstream json;
    write_topology_json(json, t);
    EXPECT_NE(json.str().find("\"pair_plan\""), std::string::npos);
}

}  // namespace
}  // namespace ringlab::bench
