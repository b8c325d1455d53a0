"""Writes a matrix report: matrix.json (the schema in reports/README.md), matrix.csv and
matrix.md, each with the host fingerprint. Every write replaces the files atomically, after
every row, so an interrupted run leaves the rows done so far written and valid.
"""
import csv
import io
import os
import statistics

from . import analysis, host
from .runner import write_json

SCHEMA = "ringlab-matrix/2"
KIND_TITLES = {"throughput": "throughput (free running)", "round_trip": "round trip",
               "one_way": "one-way latency (paced, CO corrected)", "idle": "idle price (nothing flows)"}


def fmt_rate(v):
    if v is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.1f}{unit}/s"
    return f"{v:.0f}/s"


def fmt_ns(v):
    if v is None:
        return "-"
    if v < 1e3:
        return f"{v:.0f} ns"
    if v < 1e6:
        return f"{v / 1e3:.1f} µs"
    return f"{v / 1e6:.2f} ms"


def fmt_x(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}x"


def fmt_bytes(v):
    if v is None:
        return "-"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if v >= scale:
            return f"{v / scale:.1f} {unit}"
    return f"{v:.0f} B"


def fmt_num(v, spec):
    return "-" if v is None else format(v, spec)


def label(row):
    knobs = [f"{k} {v:,}" for k, v in row.get("knobs", {}).items() if k != "rate"]
    return " · ".join([f"`{row['pattern']}`"] + ([row["wait"]] if row.get("wait") else []) + knobs)


def notes(row):
    m = analysis.metric
    out = []
    if row.get("floor_moved"):
        out.append("floor moved")
    if row.get("oversubscribed"):
        out.append("oversubscribed")
    if (row.get("peer_ratio") or {}).get("floors_differ"):
        out.append("peer ran on another floor")
    offered, achieved = m(row, "offered_rate"), m(row, "achieved_rate")
    if offered and achieved and achieved < 0.95 * offered:
        out.append("saturated")
    if row.get("error"):
        out.append("error: " + row["error"])
    return "; ".join(out)


def tail(row, name, percentile):
    """A tail percentile, marked † when fewer than 10 samples lie beyond it."""
    value, samples = analysis.metric(row, name), analysis.metric(row, "samples")
    thin = samples is not None and samples * (100 - percentile) / 100 < 10
    return fmt_ns(value) + (" †" if thin and value is not None else "")


def peer_x(row):
    pr = row.get("peer_ratio")
    return fmt_x(pr["value"]) if pr else "-"


def floor_x(row, digits=2):
    fr = row.get("floor_ratio")
    return fmt_x(fr["median"], digits) if fr else "-"


def ordered(rows):
    return sorted(rows, key=lambda r: (r.get("peer", False), r["pattern"], r.get("wait", ""), str(r.get("knobs"))))


def table(header, lines):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(cells) + " |" for cells in lines] + [""]


def group_sections(report, group):
    m = analysis.metric
    rows = [r for r in report["rows"] if r["group"] == group]
    out = []
    tp = ordered(r for r in rows if r["kind"] == "throughput")
    if tp:
        out += [f"### {group}: {KIND_TITLES['throughput']}", ""]
        out += table(["row", "events/s", "x best peer", "% of memcpy", "CPU ns/event", "footprint", "note"],
                     [[label(r), fmt_rate(m(r, "items_per_second")), peer_x(r),
                       fmt_num(100 * r["floor_ratio"]["median"] if r.get("floor_ratio") else None, ".2f"),
                       fmt_num(m(r, "cpu_ns_per_event"), ".1f"), fmt_bytes(m(r, "footprint_bytes")), notes(r)]
                      for r in tp])
    dist = {(r["pattern"], r.get("wait"), str(r.get("knobs"))): r for r in rows if r["kind"] == "round_trip_dist"}
    rt = ordered(r for r in rows if r["kind"] == "round_trip")
    if rt:
        out += [f"### {group}: {KIND_TITLES['round_trip']}", ""]
        lines = []
        for r in rt:
            d = dist.get((r["pattern"], r.get("wait"), str(r.get("knobs")))) or {}
            lines.append([label(r), fmt_ns(m(r, "real_time_ns")), floor_x(r), peer_x(r), fmt_ns(m(d, "p50_ns")),
                          fmt_ns(m(d, "p99_ns")), tail(d, "p999_ns", 99.9), fmt_ns(m(d, "max_ns")),
                          "; ".join(dict.fromkeys(n for n in notes(r).split("; ") + notes(d).split("; ") if n))])
        out += table(["row", "mean", "x floor", "x best peer", "p50", "p99", "p99.9", "max", "note"], lines)
    if rt or any(r["kind"] == "one_way" for r in rows):
        out += ["† fewer than 10 samples lie beyond this percentile: read it as a maximum.", ""]
    rates = sorted({r["knobs"]["rate"] for r in rows if r["kind"] == "one_way" and "rate" in r.get("knobs", {})})
    for rate in rates:
        ow = ordered(r for r in rows if r["kind"] == "one_way" and r["knobs"].get("rate") == rate)
        out += [f"### {group}: {KIND_TITLES['one_way']} at {rate:,} events/s", ""]
        out += table(["row", "p50", "p90", "p99", "p99.9", "p99.99", "max", "samples", "x floor", "x best peer",
                      "consumer CPU ns/event", "note"],
                     [[label(r), fmt_ns(m(r, "p50_ns")), fmt_ns(m(r, "p90_ns")), fmt_ns(m(r, "p99_ns")),
                       tail(r, "p999_ns", 99.9), tail(r, "p9999_ns", 99.99), fmt_ns(m(r, "max_ns")),
                       fmt_num(m(r, "samples"), ",.0f"), floor_x(r, 1), peer_x(r),
                       fmt_num(m(r, "cpu_ns_per_event"), ",.0f"), notes(r)] for r in ow])
    idle = ordered(r for r in rows if r["kind"] == "idle")
    if idle:
        out += [f"### {group}: {KIND_TITLES['idle']}", ""]
        out += table(["row", "consumer CPU while idle", "note"],
                     [[label(r), fmt_num(None if m(r, "idle_cpu_fraction") is None
                                         else 100 * m(r, "idle_cpu_fraction"), ".2f") + " %", notes(r)]
                      for r in idle])
    return out


def floor_section(report):
    probes = report.get("probes", [])
    out = ["## The floor, probed around every row", ""]
    if not probes:
        return out + ["No probe finished.", ""]
    lines = []
    for key, title, fmt in (("cacheline_rtt_ns", "cache-line round trip", fmt_ns),
                            ("cacheline_one_way_ns", "cache-line one way (p50)", fmt_ns),
                            ("futex_rtt_ns", "futex wake round trip", fmt_ns),
                            ("memcpy_bytes_per_second", "memcpy (1 MiB blocks)",
                             lambda v: "-" if v is None else f"{v / 1e9:.1f} GB/s")):
        values = [p[key] for p in probes if p.get(key)]
        if values:
            lines.append([title, fmt(min(values)), fmt(statistics.median(values)), fmt(max(values))])
    out += table(["floor", "min", "median", "max"], lines)
    rtts = [p["cacheline_rtt_ns"] for p in probes if p.get("cacheline_rtt_ns")]
    if rtts:
        far = sum(1 for v in rtts if v > 2 * min(rtts))
        flagged = sum(1 for r in report["rows"] if r.get("floor_moved"))
        out += [f"{len(rtts)} probes; {far} of them more than twice the fastest (the vCPUs were placed further "
                f"apart); {flagged} rows flagged because the floor moved during the row.", ""]
    return out


def headline_section(report):
    out = ["## Headline ratios (interleaved rounds, the floor probed around each)", ""]
    lines = []
    for h in report.get("headlines", []):
        met = {True: "yes", False: "**no**", None: "-"}[h.get("met")]
        lines.append([h["name"], h["goal"], fmt_num(h.get("ratio_median"), ".2f"), fmt_num(h.get("ratio_min"), ".2f"),
                      fmt_num(h.get("ratio_max"), ".2f"), f"{h.get('rounds_kept', 0)}/{h.get('rounds', 0)}", met])
    if not lines:
        return out + ["Not measured in this run (a filtered or interrupted run skips them).", ""]
    return out + table(["comparison", "goal", "median", "min", "max", "rounds kept", "met"], lines)


def pick_value(p, v):
    return fmt_rate(v) if p["metric"] == "items_per_second" else (
        f"{100 * v:.2f} %" if p["metric"] == "idle_cpu_fraction" else
        f"{v:,.0f}" if p["metric"] == "cpu_ns_per_event" else fmt_ns(v))


def picks_section(report):
    out = ["## What to pick", "",
           "Computed from the rows below: per pattern, the wait strategy that wins each criterion, the runner-up, "
           "and the best peer of the same table for scale.", ""]
    lines = []
    for p in report.get("picks", []):
        ru, bp = p.get("runner_up"), p.get("best_peer")
        lines.append([f"`{p['pattern']}`", p["criterion"],
                      f"**{p['wait']}** {pick_value(p, p['value'])}" + (" (floor moved)" if p.get("flagged") else ""),
                      f"{ru['wait']} {pick_value(p, ru['value'])}" if ru else "-",
                      f"`{bp['row'].split('/')[1]}` {pick_value(p, bp['value'])}" if bp else "-"])
    if not lines:
        return out + ["Nothing to pick from yet.", ""]
    return out + table(["pattern", "criterion", "pick", "runner-up", "best peer"], lines)


def icount_section(report):
    ic = report.get("instruction_counts") or {}
    out = ["## Instructions per event (valgrind, single thread, fixed work)", ""]
    if not ic.get("kernels"):
        return out + [ic.get("reason", "Not measured in this run."), ""]
    out += [f"{ic.get('tool', '')}; kernels built `{ic.get('binary_flags', '')}`. Identical run to run: "
            "`scripts/compare` gates on these.", ""]
    return out + table(["kernel", "instructions/event"],
                       [[f"`{k['name']}`", k["error"] if "error" in k else fmt_num(k.get("ir_per_event"), ".1f")]
                        for k in ic["kernels"]])


def markdown(report):
    fp = report["host"]
    out = [f"# ringlab matrix: {report['host_id']}", "",
           "Generated by `scripts/ringlab matrix`; do not edit. How each number is made: "
           "`reports/METHODOLOGY.md`; the files: `reports/README.md`.", ""]
    out += [f"- {line}" for line in host.fingerprint_lines(fp)]
    out += [f"- mode `{report['mode']}`, {report.get('seconds', 0):.0f} s, run `{report['run_id']}`", ""]
    if report.get("interrupted"):
        out += ["**Interrupted: the rows below are the ones done so far.**", ""]
    elif not report.get("complete"):
        out += ["**In progress: the rows below are the ones done so far.**", ""]
    out += headline_section(report) + picks_section(report) + floor_section(report)
    for group in sorted({r["group"] for r in report["rows"] if r["group"] != "floor"}):
        out += [f"## {group}", ""] + group_sections(report, group)
    out += icount_section(report)
    errors = [r for r in report["rows"] if r.get("error")]
    if errors:
        out += ["## Rows that failed", ""] + [f"- `{r['name']}`: {r['error']}" for r in errors] + [""]
    return "\n".join(out)


CSV_METRICS = ["items_per_second", "real_time_ns", "cpu_ns_per_event", "footprint_bytes", "p50_ns", "p90_ns",
               "p99_ns", "p999_ns", "p9999_ns", "max_ns", "samples", "offered_rate", "achieved_rate",
               "late_fraction", "idle_cpu_fraction", "bytes_per_second"]


def csv_text(report):
    buf = io.StringIO()
    for line in host.fingerprint_lines(report["host"]):
        buf.write(f"# {line}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "kind", "group", "pattern", "wait", "peer", "knobs", "threads", "oversubscribed",
                "repetitions"] + CSV_METRICS +
               ["floor_before_rtt_ns", "floor_after_rtt_ns", "floor_ratio", "peer_ratio", "floor_moved", "error"])
    for r in report["rows"]:
        knobs = ";".join(f"{k}={v}" for k, v in r.get("knobs", {}).items())
        fb, fa = (r.get("floor_before") or {}), (r.get("floor_after") or {})
        w.writerow([r["name"], r["kind"], r["group"], r["pattern"], r.get("wait", ""), r.get("peer", False), knobs,
                    r.get("threads"), r.get("oversubscribed"), r.get("repetitions")] +
                   [analysis.metric(r, k) for k in CSV_METRICS] +
                   [fb.get("cacheline_rtt_ns"), fa.get("cacheline_rtt_ns"),
                    (r.get("floor_ratio") or {}).get("median"), (r.get("peer_ratio") or {}).get("value"),
                    r.get("floor_moved"), r.get("error", "")])
    return buf.getvalue()


def refresh(report):
    """Recomputes what depends on several rows: peer ratios, picks, gates."""
    analysis.peer_ratios(report["rows"])
    report["picks"] = analysis.picks(report["rows"])
    report["gates"] = analysis.gates(report)


def write(report, out):
    refresh(report)
    write_json(os.path.join(out, "matrix.json"), report)
    for name, text in (("matrix.csv", csv_text(report)), ("matrix.md", markdown(report))):
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, os.path.join(out, name))


def annotate_hgrm(path, fp):
    """Appends the fingerprint to a .hgrm, after HdrHistogram's own footer (readers skip '#')."""
    with open(path, "a", encoding="utf-8") as f:
        for line in host.fingerprint_lines(fp):
            f.write(f"#[{line}]\n")
