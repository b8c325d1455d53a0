"""Comparing two reports' gates (scripts/compare, and matrix.py --recheck).

A ratio regresses when NEW is worse than BASE by more than its margin: the larger of the
minimum margin and the spread its repetitions showed in both reports. When NEW carries a
`recheck` of a gate (the row measured a second time, because it regressed the first time),
the regression counts only if the recheck regresses too: on a shared machine a row can lose
its CPU to another process for a whole measurement, and a regression of the code shows twice.
"""
import json
import os

from . import host, schema

DEFAULTS = {"min_margin": 0.10, "icount_margin": 0.02, "idle_margin": 0.05}


def resolve(path):
    """A matrix.json, a report folder, or a reports root holding this machine's folder."""
    if os.path.isfile(path):
        return path
    hid = host.host_id({"cpu_model": host.cpu_model(), "cpus": os.cpu_count() or 1})
    for candidate in ("matrix.json", f"{hid}/matrix.json", f"{hid}-quick/matrix.json", f"{hid}-filtered/matrix.json"):
        if os.path.isfile(os.path.join(path, candidate)):
            return os.path.join(path, candidate)
    raise FileNotFoundError(f"no matrix.json in {path} (nor {hid}/ under it)")


def load(path):
    with open(resolve(path), encoding="utf-8") as f:
        report = json.load(f)
    problems = schema.validate(report)
    if problems:
        raise ValueError(f"{path}: not a ringlab-matrix/2 report: " + "; ".join(problems[:5]))
    return report


def judge_value(base, new, value, noise, margins):
    """(status, change, margin) of `value` (NEW's, or its recheck's) against BASE."""
    if new.get("absolute"):
        margin = max(margins["idle_margin"], base["noise"] + noise)
        change = value - base["value"]
    else:
        margin = margins["icount_margin"] if new.get("instructions") else max(margins["min_margin"],
                                                                                  base["noise"] + noise)
        if base["value"] == 0:
            return "ok", None, margin
        change = value / base["value"] - 1
    worse = change if new["better"] == "lower" else -change
    return ("REGRESSION" if worse > margin else "improved" if -worse > margin else "ok"), change, margin


def judge(base, new, margins):
    if base.get("flagged") or new.get("flagged"):
        return "flagged", None, None
    status, change, margin = judge_value(base, new, new["value"], new["noise"], margins)
    recheck = new.get("recheck")
    if status == "REGRESSION" and recheck:
        if recheck.get("flagged"):
            return "unconfirmed", change, margin
        again, _, _ = judge_value(base, new, recheck["value"], recheck["noise"], margins)
        if again != "REGRESSION":
            return "unconfirmed", change, margin
    return status, change, margin


def describe(status, gid, base, new, change, margin):
    if new.get("absolute"):
        delta = "-" if change is None else f"{change:+.3f}"
        bound = "-" if margin is None else f"{margin:.3f}"
    else:
        delta = "-" if change is None else f"{100 * change:+.1f}%"
        bound = "-" if margin is None else f"{100 * margin:.1f}%"
    again = f" recheck {new['recheck']['value']:.4g}" if new.get("recheck") else ""
    return f"{status:<11} {gid:<78} {base['value']:>10.4g} -> {new['value']:<10.4g} {delta} (margin {bound}){again}"


def compare(base, new, **margins):
    """Returns (lines, regressed gate ids)."""
    margins = dict(DEFAULTS, **margins)
    lines, regressed = [], []
    same_compiler = base["host"].get("compiler") == new["host"].get("compiler")
    if base["host_id"] != new["host_id"]:
        lines.append(f"note: different machine classes ({base['host_id']} vs {new['host_id']}): "
                     "ratios still compare, absolute numbers would not (host-bound gates are skipped)")
    if not same_compiler:
        lines.append("note: different compilers: instruction counts are not compared")
    base_gates = {g["id"]: g for g in base["gates"]}
    new_gates = {g["id"]: g for g in new["gates"]}
    counts = {}
    for gid in sorted(set(base_gates) & set(new_gates)):
        b, n = base_gates[gid], new_gates[gid]
        if (n.get("instructions") and not same_compiler) or (n.get("host_bound") and base["host_id"] != new["host_id"]):
            continue
        status, change, margin = judge(b, n, margins)
        counts[status] = counts.get(status, 0) + 1
        if status == "REGRESSION":
            regressed.append(gid)
        if status in ("REGRESSION", "improved", "unconfirmed") or (status == "flagged" and gid.startswith("headline:")):
            lines.append(describe(status, gid, b, n, change, margin))
    only = len(set(base_gates) ^ set(new_gates))
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    lines.append(f"compare: {sum(counts.values())} gates compared ({summary or 'none'}); "
                 f"{only} present in one report only")
    return lines, regressed


def rows_to_recheck(report, gate_ids):
    """The rows to measure again for these gates: each row, and for a peer ratio the peers
    of its table (the ratio is over the best of them)."""
    names = []
    by_name = {r["name"]: r for r in report["rows"]}
    for gid in gate_ids:
        kind, _, name = gid.partition(":")
        if kind not in ("floor_ratio", "peer_ratio", "idle") or name not in by_name:
            continue
        names.append(name)
        if kind == "peer_ratio":
            row = by_name[name]
            names += [p["name"] for p in report["rows"] if p.get("peer") and p["group"] == row["group"]
                      and p["kind"] == row["kind"] and p.get("knobs", {}) == row.get("knobs", {})]
    return list(dict.fromkeys(names))
