"""From raw Google Benchmark JSON to what the report says: per-row metrics over repetitions,
ratios to the row's own floor and to the best peer of its group, the "what to pick" table,
and the gates `scripts/compare` checks. Pure functions: the tests feed them made-up data.
"""
import statistics

FLOOR_MOVED = 1.15  # floors before and after a row further apart than this: the row is flagged

# Google Benchmark's own keys in a run's JSON; every other number is a counter of ours.
GB_KEYS = {"name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
           "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit", "label",
           "aggregate_name", "aggregate_unit", "error_occurred", "error_message"}
TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# kind -> (metric that ranks rows against each other, which way is better)
PRIMARY = {
    "throughput": ("items_per_second", "higher"),
    "round_trip": ("real_time_ns", "lower"),
    "round_trip_dist": ("p50_ns", "lower"),
    "one_way": ("p50_ns", "lower"),
    "idle": ("idle_cpu_fraction", "lower"),
}

# The probe's benchmarks and what each yields.
PROBE_ROWS = {
    "floor/cacheline_round_trip/real_time": ("cacheline_rtt_ns", "real_time_ns"),
    "floor/cacheline_one_way/real_time": ("cacheline_one_way_ns", "p50_ns"),
    "floor/futex_wake_round_trip/real_time": ("futex_rtt_ns", "real_time_ns"),
    "floor/memcpy_bandwidth/bytes_1048576/real_time": ("memcpy_bytes_per_second", "bytes_per_second"),
}


def iteration_runs(data):
    return [b for b in data.get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]


def run_metrics(run):
    """One repetition's numbers: real_time in ns plus every counter."""
    out = {"real_time_ns": run["real_time"] * TO_NS.get(run.get("time_unit", "ns"), 1.0)}
    for key, value in run.items():
        if key not in GB_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)
    return out


def spread_of(values):
    """Relative spread (max - min) / median: the noise the repetitions show."""
    med = statistics.median(values)
    return (max(values) - min(values)) / abs(med) if med else 0.0


def stat(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def summarize(data):
    """Metrics over the repetitions of one row: {metric: {median, min, max, values}}."""
    runs = [b for b in iteration_runs(data) if not b.get("error_occurred")]
    if not runs:
        errors = [b.get("error_message", "") for b in data.get("benchmarks", []) if b.get("error_occurred")]
        return {"error": errors[0] if errors else "no result"}
    per_run = [run_metrics(r) for r in runs]
    keys = sorted({k for m in per_run for k in m})
    metrics = {k: stat([m[k] for m in per_run if k in m]) for k in keys}
    return {"repetitions": len(runs), "metrics": metrics, "per_run": per_run}


def probe(data):
    """A floor probe's numbers (None where a benchmark is missing): the best of its
    repetitions, since a probe asks where the vCPUs are placed, and a preempted repetition
    (a time slice lost to another process) says nothing about that."""
    found = {}
    for run in iteration_runs(data):
        if run.get("error_occurred") or run.get("name") not in PROBE_ROWS:
            continue
        key, metric = PROBE_ROWS[run["name"]]
        value = run_metrics(run).get(metric)
        if value is not None:
            found.setdefault(key, []).append(value)
    best = {key: (max if key.endswith("per_second") else min)(values) for key, values in found.items()}
    return {key: best.get(key) for key, _ in PROBE_ROWS.values()}


def floor_moved(before, after, key="cacheline_rtt_ns"):
    b, a = (before or {}).get(key), (after or {}).get(key)
    if not b or not a:
        return None
    return max(a, b) / min(a, b) > FLOOR_MOVED


def floor_ratio(row, before, after):
    """The row against its own floor (mean of the probes around it); per repetition."""
    kind = row["kind"]
    per_run = row.get("per_run") or []
    if kind in ("round_trip", "round_trip_dist"):
        key, metric, invert = "cacheline_rtt_ns", ("real_time_ns" if kind == "round_trip" else "p50_ns"), False
    elif kind == "one_way":
        key, metric, invert = "cacheline_one_way_ns", "p50_ns", False
    elif kind == "throughput":
        key, metric, invert = "memcpy_bytes_per_second", "items_per_second", True
    else:
        return None
    b, a = (before or {}).get(key), (after or {}).get(key)
    if not b or not a or not per_run:
        return None
    floor = (a + b) / 2
    if invert:  # throughput: bytes moved per second as a share of one core's memcpy
        values = [m[metric] * row.get("bytes_per_event", 8) / floor for m in per_run if metric in m]
    else:
        values = [m[metric] / floor for m in per_run if metric in m]
    if not values or floor <= 0:
        return None
    out = stat(values)
    out.update(floor=key, better="higher" if invert else "lower",
               noise=spread_of(values) + abs(a - b) / floor)
    return out


def same_table(a, b):
    return a["group"] == b["group"] and a["kind"] == b["kind"] and a.get("knobs", {}) == b.get("knobs", {})


def metric(row, name):
    return ((row.get("metrics") or {}).get(name) or {}).get("median")


def row_floor(row):
    """The cache-line round trip probed around a row (the mean of before and after)."""
    values = [(row.get(side) or {}).get("cacheline_rtt_ns") for side in ("floor_before", "floor_after")]
    values = [v for v in values if v]
    return sum(values) / len(values) if values else None


def floors_differ(a, b):
    """Whether two rows ran on placements whose floors are further apart than FLOOR_MOVED:
    a ratio between them then says more about the placements than about the code."""
    key = "cacheline_rtt_ns"
    return bool(floor_moved({key: row_floor(a)}, {key: row_floor(b)}, key))


def peer_ratios(rows):
    """Each ringlab row against the best peer with the same group, kind and knobs. A ratio to
    a peer measured on a placement whose floor differs from the row's is kept, and marked
    `floors_differ` (the report says so, and `compare` does not gate on it)."""
    for row in rows:
        row.pop("peer_ratio", None)
        if row.get("peer") or row["kind"] not in PRIMARY or row.get("error"):
            continue
        name, better = PRIMARY[row["kind"]]
        ours = metric(row, name)
        peers = [p for p in rows if p.get("peer") and not p.get("error") and same_table(p, row)
                 and metric(p, name) is not None]
        if ours is None or not peers:
            continue
        pick = max if better == "higher" else min
        best = pick(peers, key=lambda p: metric(p, name))
        theirs = metric(best, name)
        if not theirs:
            continue
        noise = spread_of(row["metrics"][name]["values"]) + spread_of(best["metrics"][name]["values"])
        row["peer_ratio"] = {"value": ours / theirs, "peer": best["name"], "metric": name, "better": better,
                             "noise": noise, "floors_differ": floors_differ(row, best)}


def standard(row, **knobs):
    return row.get("knobs", {}) == knobs and not row.get("error")


def pick_rows(candidates, metric_name, better):
    scored = [(metric(r, metric_name), r) for r in candidates if metric(r, metric_name) is not None]
    scored.sort(key=lambda t: t[0], reverse=(better == "higher"))
    return scored


def picks(rows):
    """"What to pick", per pattern: the wait strategy that wins each criterion, with the
    runner-up and the best peer of the same table for scale."""
    out = []
    patterns = sorted({(r["group"], r["pattern"]) for r in rows if not r.get("peer") and r["kind"] in PRIMARY})
    rates = sorted({r["knobs"]["rate"] for r in rows if r["kind"] == "one_way" and list(r.get("knobs", {})) == ["rate"]})
    criteria = [("best throughput", "throughput", {}, "items_per_second", "higher"),
                ("best round-trip p99", "round_trip_dist", {}, "p99_ns", "lower")]
    criteria += [(f"best one-way p99 at {rate:,}/s", "one_way", {"rate": rate}, "p99_ns", "lower") for rate in rates]
    if rates:
        criteria.append((f"least CPU per event at {rates[0]:,}/s", "one_way", {"rate": rates[0]},
                         "cpu_ns_per_event", "lower"))
    criteria.append(("least CPU when idle", "idle", {}, "idle_cpu_fraction", "lower"))
    for group, pattern in patterns:
        for label, kind, knobs, metric_name, better in criteria:
            table = [r for r in rows if r["group"] == group and r["kind"] == kind and standard(r, **knobs)]
            ours = pick_rows([r for r in table if r["pattern"] == pattern], metric_name, better)
            if not ours:
                continue
            theirs = pick_rows([r for r in table if r.get("peer")], metric_name, better)
            entry = {"group": group, "pattern": pattern, "criterion": label, "metric": metric_name,
                     "better": better, "row": ours[0][1]["name"], "wait": ours[0][1]["wait"], "value": ours[0][0],
                     "flagged": bool(ours[0][1].get("floor_moved"))}
            if len(ours) > 1:
                entry["runner_up"] = {"row": ours[1][1]["name"], "wait": ours[1][1]["wait"], "value": ours[1][0]}
            if theirs:
                entry["best_peer"] = {"row": theirs[0][1]["name"], "value": theirs[0][0]}
            out.append(entry)
    return out


def gates(report):
    """The quantities `compare` checks, each with the noise its repetitions showed."""
    out = []
    for h in report.get("headlines", []):
        if h.get("ratio_median") is None or h["goal"][:2] not in (">=", "<="):
            continue  # unmeasured, or a peer's number shown for scale
        better = "higher" if h["goal"].startswith(">=") else "lower"
        noise = (h["ratio_max"] - h["ratio_min"]) / h["ratio_median"] if h["ratio_median"] else 0.0
        out.append({"id": f"headline:{h['name']}", "value": h["ratio_median"], "better": better, "noise": noise,
                    "flagged": h.get("rounds_kept", 0) < 2, "host_bound": h.get("kind") == "rate"})
    for row in report.get("rows", []):
        if row.get("peer") or row.get("error"):
            continue
        flagged = bool(row.get("floor_moved") or row.get("oversubscribed"))
        fr = row.get("floor_ratio")
        if fr and row["kind"] in ("round_trip", "round_trip_dist", "one_way"):
            out.append({"id": f"floor_ratio:{row['name']}", "value": fr["median"], "better": fr["better"],
                        "noise": fr["noise"], "flagged": flagged})
        pr = row.get("peer_ratio")
        if pr and row["kind"] == "throughput":
            out.append({"id": f"peer_ratio:{row['name']}", "value": pr["value"], "better": pr["better"],
                        "noise": pr["noise"], "flagged": flagged or bool(pr.get("floors_differ"))})
        idle = metric(row, "idle_cpu_fraction")
        if row["kind"] == "idle" and idle is not None:
            values = row["metrics"]["idle_cpu_fraction"]["values"]
            out.append({"id": f"idle:{row['name']}", "value": idle, "better": "lower", "absolute": True,
                        "noise": max(values) - min(values), "flagged": flagged})
    for k in (report.get("instruction_counts") or {}).get("kernels", []):
        if k.get("ir_per_event") is not None and not k["name"].startswith("peer."):
            out.append({"id": f"icount:{k['name']}", "value": k["ir_per_event"], "better": "lower",
                        "noise": 0.0, "instructions": True, "flagged": False})
    rechecks = report.get("recheck_gates") or {}
    for gate in out:
        if gate["id"] in rechecks:
            gate["recheck"] = rechecks[gate["id"]]
    return out


def steady(floors_ns):
    """Whether floors (cache-line round trips, ns) all agree within FLOOR_MOVED; False when
    one is missing."""
    return all(floors_ns) and max(floors_ns) / min(floors_ns) <= FLOOR_MOVED


def headline_value(h, ours, peer, floor_ns):
    """One round's value of a headline (`floor_ns`: the floor its round measured), or None
    when a row it needs gave nothing."""
    if not ours or ("peer" in h and not peer):
        return None
    if h["kind"] == "throughput_ratio":
        return ours["items_per_second"] / peer["items_per_second"] if peer.get("items_per_second") else None
    if h["kind"] == "floor_ratio":
        return ours["real_time_ns"] / floor_ns
    if h["kind"] == "rate":  # a rate of the row (items_per_second unless named), in millions per second
        rate = ours.get(h.get("metric", "items_per_second"))
        return rate / 1e6 if rate else None
    if h["kind"] == "counter":
        return ours.get(h["counter"])
    raise ValueError(f"headline {h['name']}: unknown kind {h['kind']}")


def headline(h, rounds, floors=None):
    """A headline's summary from its kept rounds' values (and the floor each round saw)."""
    ratios = rounds
    entry = dict(h)
    entry.update(rounds_kept=len(ratios),
                 ratio_median=statistics.median(ratios) if ratios else None,
                 ratio_min=min(ratios) if ratios else None,
                 ratio_max=max(ratios) if ratios else None,
                 round_values=list(ratios), round_floors_ns=list(floors or []))
    goal, value = entry["goal"], entry["ratio_median"]
    if value is None or goal[:2] not in (">=", "<="):
        entry["met"] = None
    else:
        target = float(goal[2:])
        entry["met"] = value >= target if goal.startswith(">=") else value <= target
    return entry
