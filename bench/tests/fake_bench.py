#!/usr/bin/python3
"""A stand-in for ringlab-bench that speaks its protocol (--ringlab_rows, --ringlab_topology,
Google Benchmark's flags and JSON) with made-up, deterministic numbers, so the runner, the
report writer and compare can be tested without timing anything.

Environment:
  FAKE_SCALE="pattern=factor,..."  that pattern's rows are `factor` times slower (latency x
                                   factor, throughput / factor): a planted regression
  FAKE_NOISE=fraction              spread between repetitions (default 0.01)
  FAKE_SLEEP=seconds               each run sleeps this long (to interrupt a run mid-way)
  FAKE_ONCE=path                   FAKE_SCALE applies only to a benchmark's first run (names
                                   seen so far are kept in that file): a transient slowdown
  RINGLAB_HGRM_DIR                 as the real binary: write one .hgrm per histogram
"""
import json
import os
import re
import sys
import time

ROWS = [
    # kind, pattern, wait, group, peer, knobs, threads
    ("floor", "cacheline_round_trip", "", "floor", False, {}, 2),
    ("floor", "cacheline_one_way", "", "floor", False, {}, 2),
    ("floor", "futex_wake_round_trip", "", "floor", False, {}, 2),
    ("floor", "memcpy_bandwidth", "", "floor", False, {"bytes": 1048576}, 1),
]
for pattern, peer, waits in (("spsc_ring", False, ("busy_spin_wait", "blocking_wait")),
                             ("peer.atomic_queue", True, ("spin",)), ("peer.boost_spsc_queue", True, ("spin",))):
    for wait in waits:
        ROWS += [("throughput", pattern, wait, "spsc", peer, {}, 2), ("round_trip", pattern, wait, "spsc", peer, {}, 2),
                 ("round_trip_dist", pattern, wait, "spsc", peer, {}, 2), ("idle", pattern, wait, "spsc", peer, {}, 2)]
        ROWS += [("one_way", pattern, wait, "spsc", peer, {"rate": r}, 2) for r in (10000, 1000000)]
ROWS += [("throughput", "spsc_ring", "busy_spin_wait", "spsc", False, {"release_every": 16}, 2),
         ("throughput", "spsc_ring", "busy_spin_wait", "spsc", False, {"slip": 2048}, 2),
         ("round_trip", "spsc_ring", "busy_spin_wait", "spsc", False, {"slip": 2048}, 2),
         ("throughput", "spsc_ring", "busy_spin_wait", "spsc", False, {"batch": 64}, 2),
         ("one_way", "spsc_ring", "busy_spin_wait", "spsc", False, {"batch": 64, "rate": 1000000}, 2),
         ("throughput", "spsc_ring", "busy_spin_wait", "spsc", False, {"producers": 2}, 3),
         ("throughput", "spsc_ring", "busy_spin_wait", "spsc", False, {"capacity": 1024}, 2)]  # full_only
for b in (1, 16):  # the router's batch_max trade-off and its overload rows, one per credit policy
    ROWS += [("throughput", "router", "busy_spin_wait", "router", False, {"batch_max": b}, 2),
             ("one_way", "router", "busy_spin_wait", "router", False, {"batch_max": b, "rate": 1000000}, 2)]
ROWS += [("one_way", "router", "busy_spin_wait", "router", False, {"policy": p, "overload": 1}, 2) for p in range(3)]
ROWS += [("throughput", "journal", "busy_spin_wait", "journal", False, {which: n, "payload": payload}, threads)
         for which, n, threads in (("subscribers", 0, 1), ("subscribers", 1, 2), ("replay", 1, 1))
         for payload in (8, 16384, 65536)]

BASE = {  # pattern -> (events/s, round trip ns, one-way p50 ns)
    "spsc_ring": (450e6, 64.0, 90.0), "peer.atomic_queue": (170e6, 70.0, 100.0),
    "peer.boost_spsc_queue": (230e6, 75.0, 110.0), "router": (200e6, 90.0, 120.0),
    "journal": (60e6, 0.0, 0.0)}  # journal: 8 B records/s; larger records move 40 GB/s
WAIT_IDLE = {"busy_spin_wait": 1.0, "blocking_wait": 0.001, "spin": 1.0}


def compact(v):
    if v >= 1_000_000 and v % 1_000_000 == 0:
        return f"{v // 1_000_000}M"
    if v >= 1000 and v % 1000 == 0:
        return f"{v // 1000}k"
    return str(v)


def row_meta(row):
    kind, pattern, wait, group, peer, knobs, threads = row
    name = "/".join([kind, pattern] + ([wait] if wait else []) + [f"{k}_{compact(v)}" for k, v in knobs.items()])
    suffix = "/manual_time" if kind == "throughput" else "/real_time"
    return {"name": name, "benchmark": name + suffix, "kind": kind, "pattern": pattern, "wait": wait, "group": group,
            "peer": peer, "threads": threads, "bytes_per_event": 8, "knobs": knobs, "full_only": "capacity" in knobs}


SEEN = {}  # FAKE_ONCE's file, read once per process: {path: names run by earlier processes}


def seen_before(benchmark):
    """With FAKE_ONCE: whether this benchmark ran in an earlier process (remembered there)."""
    path = os.environ.get("FAKE_ONCE")
    if not path:
        return False
    if path not in SEEN:
        SEEN[path] = set(open(path, encoding="utf-8").read().split("\n")) if os.path.exists(path) else set()
    if benchmark in SEEN[path]:
        return True
    with open(path, "a", encoding="utf-8") as f:
        f.write(benchmark + "\n")
    return False


def scale_of(pattern, benchmark):
    if seen_before(benchmark):
        return 1.0
    for item in filter(None, os.environ.get("FAKE_SCALE", "").split(",")):
        name, factor = item.split("=")
        if name == pattern:
            return float(factor)
    return 1.0


HIST_ID = [0]


def hgrm(p50):
    """A small valid .hgrm; returns its hist_id (or None without RINGLAB_HGRM_DIR)."""
    folder = os.environ.get("RINGLAB_HGRM_DIR")
    if not folder:
        return None
    HIST_ID[0] += 1
    with open(os.path.join(folder, f"{HIST_ID[0]}.hgrm"), "w", encoding="utf-8") as f:
        f.write(f"{'Value':>12} {'Percentile':>14} {'TotalCount':>10} {'1/(1-Percentile)':>14}\n\n")
        for value, fraction, count in ((p50 * 0.8, 0.0, 1), (p50, 0.5, 500), (p50 * 2, 0.99, 990)):
            f.write(f"{value / 1000:12.3f} {fraction:2.12f} {count:10d} {1 / (1 - fraction):14.2f}\n")
        f.write(f"{p50 * 4 / 1000:12.3f} {1.0:2.12f} {1000:10d}\n")
        f.write(f"#[Mean    = {p50 / 1000:12.3f}, StdDeviation   = {0.0:12.3f}]\n")
        f.write(f"#[Max     = {p50 * 4 / 1000:12.3f}, Total count    = {1000:12d}]\n")
        f.write(f"#[Buckets = {56:12d}, SubBuckets     = {512:12d}]\n")
    return HIST_ID[0]


def latency_counters(p50):
    return {"samples": 1000.0, "mean_ns": p50 * 1.1, "min_ns": p50 * 0.8, "p50_ns": p50, "p90_ns": p50 * 1.5,
            "p99_ns": p50 * 2, "p999_ns": p50 * 3, "p9999_ns": p50 * 4, "max_ns": p50 * 4}


def measure(meta, rep, reps):
    """(real_time ns, counters) of one repetition; repetitions spread evenly around 1."""
    jitter = 1 + float(os.environ.get("FAKE_NOISE", "0.01")) * (rep - (reps - 1) / 2)
    kind, pattern, knobs = meta["kind"], meta["pattern"], meta["knobs"]
    if kind == "floor":
        return {"cacheline_round_trip": (60.0, {}), "futex_wake_round_trip": (40000.0, {}),
                "memcpy_bandwidth": (20000.0, {"bytes_per_second": 50e9}),
                "cacheline_one_way": (120.0, latency_counters(40.0))}[pattern]
    scale = scale_of(pattern, meta["benchmark"]) * jitter
    rate, rtt, p50 = BASE[pattern]
    c = {"oversubscribed": float(meta["threads"] > 2), "threads_used": float(meta["threads"]),
         "footprint_bytes": 1049600.0, "cpu_ns_per_event": 4.0 * scale}
    if kind == "throughput" and pattern == "journal":
        payload = knobs["payload"]
        c["items_per_second"] = (rate if payload == 8 else 40e9 / payload) / scale
        c["memcpy_ratio"] = c["items_per_second"] * payload / 50e9
        c["records_per_second"] = c["items_per_second"]
        if knobs.get("subscribers") == 1:
            c["copy_floor_records_per_second"] = c["items_per_second"] * 1.25
            c["copy_floor_ratio"] = 0.8
        return 16384 / c["items_per_second"] * 1e9, c
    if kind == "throughput":
        boost = 1.1 if "release_every" in knobs or "slip" in knobs else (1.8 if "batch" in knobs else 1.0)
        c["items_per_second"] = rate * boost / scale
        return 16384 / c["items_per_second"] * 1e9, c
    if kind == "round_trip":
        return rtt * scale, c
    if kind == "round_trip_dist":
        c.update(latency_counters(rtt * 1.1 * scale))
        return rtt * 1.1 * scale, c
    if kind == "one_way":
        offered = knobs.get("rate", 1000000)
        p50 *= 1 + knobs.get("batch_max", 0) / 16
        c.update(latency_counters(p50 * scale * (30 if "blocking" in meta["wait"] else 1)))
        c.update(offered_rate=float(offered), achieved_rate=float(offered),
                 cpu_ns_per_event=(1e9 / offered) * WAIT_IDLE[meta["wait"]] + 50)
        if "overload" in knobs:  # drop, park, detach
            policy = knobs["policy"]
            c.update(dropped_no_credit=[5e5, 0.0, 0.0][policy], credit_waits=[0.0, 6e4, 7e3][policy],
                     detaches=[0.0, 0.0, 100.0][policy], achieved_rate=[1e6, 1.5e4, 1e6][policy])
        return 1e9 / offered, c
    c["idle_cpu_fraction"] = WAIT_IDLE[meta["wait"]] * jitter
    return 1e6, c


def main(argv):
    metas = [row_meta(r) for r in ROWS]
    if "--ringlab_rows" in argv:
        print(json.dumps(metas, indent=1))
        return 0
    if "--ringlab_topology" in argv:
        print(json.dumps({"source": "fake", "cpus": 2, "cores": 2, "packages": 1, "cpu_list": [], "caches": [],
                          "pair_plan": [0, 1], "pair_oversubscribed": False}))
        return 0
    flags = dict(a[2:].split("=", 1) for a in argv[1:] if a.startswith("--") and "=" in a)
    time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
    pattern = re.compile(flags.get("benchmark_filter", "."))
    reps = int(flags.get("benchmark_repetitions", "1"))
    benchmarks = []
    for meta in metas:
        if not pattern.search(meta["benchmark"]):
            continue
        for rep in range(reps):
            real_time, counters = measure(meta, rep, reps)
            if "p50_ns" in counters:
                hist_id = hgrm(counters["p50_ns"])
                if hist_id is not None:
                    counters["hist_id"] = float(hist_id)
            benchmarks.append(dict({"name": meta["benchmark"], "run_name": meta["benchmark"], "run_type": "iteration",
                                    "repetitions": reps, "repetition_index": rep, "threads": 1, "iterations": 1000,
                                    "real_time": real_time, "cpu_time": real_time, "time_unit": "ns"}, **counters))
    context = {"date": "fake", "host_name": "fake", "library_build_type": "debug", "num_cpus": 2}
    if "benchmark_out" in flags:
        with open(flags["benchmark_out"], "w", encoding="utf-8") as f:
            json.dump({"context": context, "benchmarks": benchmarks}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
