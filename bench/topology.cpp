// bench/topology.cpp: hwloc behind topology.hpp, and the pinning plan.
#include "topology.hpp"

#include <hwloc.h>
#include <sched.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace ringlab::bench {
namespace {

std::set<int> affinity_cpus() {
    std::set<int> cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int i = 0; i < CPU_SETSIZE; ++i) {
            if (CPU_ISSET(i, &set)) cpus.insert(i);
        }
    }
    return cpus;
}

/// Without hwloc: every allowed CPU is its own core, one package, no cache facts.
topology fallback_topology(const std::set<int>& allowed) {
    topology topo;
    topo.source = "sched_getaffinity";
    int core = 0;
    for (const int cpu : allowed) topo.cpus.push_back({cpu, core++, 0, -1, 0});
    topo.cores = core;
    topo.packages = 1;
    return topo;
}

int ancestor_index(hwloc_topology_t t, hwloc_obj_t pu, hwloc_obj_type_t type) {
    const hwloc_obj_t obj = hwloc_get_ancestor_obj_by_type(t, type, pu);
    return obj ? static_cast<int>(obj->logical_index) : -1;
}

void read_caches(hwloc_topology_t t, topology& topo) {
    std::set<std::tuple<int, std::string, std::uint64_t, int>> seen;
    for (hwloc_obj_t obj = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PU, nullptr); obj != nullptr;
         obj = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PU, obj)) {
        for (hwloc_obj_t up = obj->parent; up != nullptr; up = up->parent) {
            if (!hwloc_obj_type_is_cache(up->type)) continue;
            const char* kind = up->attr->cache.type == HWLOC_OBJ_CACHE_DATA          ? "data"
                               : up->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instruction"
                                                                                     : "unified";
            const int sharing = hwloc_bitmap_weight(up->cpuset);
            const auto key = std::make_tuple(static_cast<int>(up->attr->cache.depth), std::string(kind),
                                             static_cast<std::uint64_t>(up->attr->cache.size), sharing);
            if (!seen.insert(key).second) continue;
            topo.caches.push_back({static_cast<int>(up->attr->cache.depth), kind,
                                   static_cast<std::uint64_t>(up->attr->cache.size),
                                   static_cast<int>(up->attr->cache.linesize), sharing});
        }
    }
    std::sort(topo.caches.begin(), topo.caches.end(), [](const cache_info& a, const cache_info& b) {
        return std::tie(a.level, a.type) < std::tie(b.level, b.type);
    });
}

topology read_host_topology() {
    const std::set<int> allowed = affinity_cpus();
    hwloc_topology_t t = nullptr;
    if (hwloc_topology_init(&t) != 0) return fallback_topology(allowed);
    if (hwloc_topology_load(t) != 0) {
        hwloc_topology_destroy(t);
        return fallback_topology(allowed);
    }
    topology topo;
    const unsigned v = hwloc_get_api_version();
    topo.source = "hwloc API " + std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." +
                  std::to_string(v & 0xff);
    std::map<int, int> smt_seen;  // core -> hardware threads seen so far
    std::set<int> cores, packages;
    for (hwloc_obj_t pu = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PU, nullptr); pu != nullptr;
         pu = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PU, pu)) {
        const int os = static_cast<int>(pu->os_index);
        if (!allowed.empty() && allowed.count(os) == 0) continue;
        cpu_info cpu;
        cpu.os_index = os;
        cpu.core = ancestor_index(t, pu, HWLOC_OBJ_CORE);
        if (cpu.core < 0) cpu.core = 100000 + os;  // no core object: the PU is its own core
        cpu.package = std::max(0, ancestor_index(t, pu, HWLOC_OBJ_PACKAGE));
        cpu.l3 = ancestor_index(t, pu, HWLOC_OBJ_L3CACHE);
        cpu.smt_rank = smt_seen[cpu.core]++;
        cores.insert(cpu.core);
        packages.insert(cpu.package);
        topo.cpus.push_back(cpu);
    }
    read_caches(t, topo);
    hwloc_topology_destroy(t);
    if (topo.cpus.empty()) return fallback_topology(allowed);
    topo.cores = static_cast<int>(cores.size());
    topo.packages = static_cast<int>(packages.size());
    return topo;
}

}  // namespace

thread_plan plan_threads(const topology& topo, int threads) {
    thread_plan plan;
    if (threads <= 0) return plan;
    if (topo.cpus.empty()) {  // nothing known: everything on CPU 0
        plan.cpus.assign(static_cast<std::size_t>(threads), 0);
        plan.oversubscribed = threads > 1;
        return plan;
    }
    // First hardware threads of every core (nearest first), then second ones, and so on.
    std::vector<cpu_info> order = topo.cpus;
    std::stable_sort(order.begin(), order.end(), [](const cpu_info& a, const cpu_info& b) {
        return std::tie(a.smt_rank, a.package, a.l3, a.core, a.os_index) <
               std::tie(b.smt_rank, b.package, b.l3, b.core, b.os_index);
    });
    std::set<int> cores_used;
    for (int i = 0; i < threads; ++i) {
        const cpu_info& cpu = order[static_cast<std::size_t>(i) % order.size()];
        plan.cpus.push_back(cpu.os_index);
        if (static_cast<std::size_t>(i) < order.size() && !cores_used.insert(cpu.core).second) {
            plan.smt_shared = true;
        }
    }
    plan.oversubscribed = static_cast<std::size_t>(threads) > order.size();
    return plan;
}

const topology& host_topology() {
    static const topology topo = read_host_topology();
    return topo;
}

void write_topology_json(std::ostream& out, const topology& topo) {
    out << "{\"source\": \"" << topo.source << "\", \"cpus\": " << topo.cpus.size()
        << ", \"cores\": " << topo.cores << ", \"packages\": " << topo.packages << ", \"cpu_list\": [";
    for (std::size_t i = 0; i < topo.cpus.size(); ++i) {
        const cpu_info& c = topo.cpus[i];
        out << (i ? ", " : "") << "{\"os_index\": " << c.os_index << ", \"core\": " << c.core
            << ", \"package\": " << c.package << ", \"l3\": " << c.l3 << ", \"smt_rank\": " << c.smt_rank << "}";
    }
    out << "], \"caches\": [";
    for (std::size_t i = 0; i < topo.caches.size(); ++i) {
        const cache_info& c = topo.caches[i];
        out << (i ? ", " : "") << "{\"level\": " << c.level << ", \"type\": \"" << c.type
            << "\", \"size_bytes\": " << c.size_bytes << ", \"line_bytes\": " << c.line_bytes
            << ", \"shared_by_cpus\": " << c.shared_by_cpus << "}";
    }
    const thread_plan pair = plan_threads(topo, 2);
    out << "], \"pair_plan\": [" << pair.cpus[0] << ", " << pair.cpus[1]
        << "], \"pair_oversubscribed\": " << (pair.oversubscribed ? "true" : "false") << "}\n";
}

}  // namespace ringlab::bench
