#!/usr/bin/env python3
"""The matrix runner: every benchmark row of ringlab-bench, each between two probes of the
hardware floor, plus the headline comparisons measured in interleaved rounds.

Why this shape: on a shared virtual machine the two vCPUs move between placements whose
cache-line round trip differs by several times. A number means something only next to the
floor measured around it, so every row carries `floor_before_ns` / `floor_after_ns`, rows
where the floor moved are flagged, and ratios (to the floor, to a peer measured in the same
round) are what the report leads with.

Usage: matrix.py --bench PATH --out DIR [--quick | --full] [--filter REGEX]
Writes DIR/matrix.json (schema: reports/README.md), matrix.md, matrix.csv and the raw
Google Benchmark JSON of every run under DIR/raw/.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time

FLOOR = "floor/cacheline_round_trip/real_time"
MODES = {
    # min_time per row (s), repetitions per row, headline rounds
    "quick": {"min_time": 0.05, "repetitions": 1, "rounds": 3},
    "default": {"min_time": 0.3, "repetitions": 3, "rounds": 7},
    "full": {"min_time": 1.0, "repetitions": 5, "rounds": 15},
}
FLOOR_MOVED = 1.15  # floors before and after a row further apart than this: flagged

# The comparisons the project promises (issue: foundation). Each is measured in rounds:
# floor, the rows of the comparison back to back, floor again.
EAGER = "throughput/spsc_ring/busy_spin_wait/65536/manual_time"
BATCHED = "throughput/spsc_ring/busy_spin_wait/release_every_16/manual_time"
HEADLINES = [
    {"name": "spsc_ring throughput / atomic_queue", "kind": "throughput_ratio", "goal": ">= 2.0",
     "ours": EAGER, "peer": "throughput/peer/atomic_queue/manual_time"},
    {"name": "spsc_ring throughput / boost::lockfree::spsc_queue", "kind": "throughput_ratio", "goal": ">= 2.0",
     "ours": EAGER, "peer": "throughput/peer/boost_spsc_queue/manual_time"},
    {"name": "spsc_ring (release_every 16) throughput / atomic_queue", "kind": "throughput_ratio",
     "goal": ">= 2.0", "ours": BATCHED, "peer": "throughput/peer/atomic_queue/manual_time"},
    {"name": "spsc_ring (release_every 16) throughput / boost::lockfree::spsc_queue", "kind": "throughput_ratio",
     "goal": ">= 2.0", "ours": BATCHED, "peer": "throughput/peer/boost_spsc_queue/manual_time"},
    {"name": "spsc_ring round trip / cache-line floor", "kind": "floor_ratio", "goal": "<= 1.15",
     "ours": "round_trip/spsc_ring/busy_spin_wait/65536/real_time"},
    {"name": "atomic_queue round trip / cache-line floor", "kind": "floor_ratio", "goal": "(peer)",
     "ours": "round_trip/peer/atomic_queue/real_time"},
]


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return ""


def fingerprint(bench):
    cpu = ""
    for line in open("/proc/cpuinfo", encoding="utf-8", errors="replace"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    cpus = os.cpu_count() or 1
    governor = sh("cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor") or "n/a (no cpufreq)"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = sh(f"git -C {root} rev-parse HEAD") or "unknown"
    dirty = bool(sh(f"git -C {root} status --porcelain --untracked-files=no"))
    cache = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(bench))), "CMakeCache.txt")
    compiler, flags, build_type = "", "", ""
    if os.path.exists(cache):
        for line in open(cache, encoding="utf-8"):
            if line.startswith("CMAKE_CXX_COMPILER:"):
                path = line.split("=", 1)[1].strip()
                compiler = sh(f"{path} --version").splitlines()[0] if path else ""
            elif line.startswith("CMAKE_CXX_FLAGS:"):
                flags = line.split("=", 1)[1].strip()
            elif line.startswith("CMAKE_BUILD_TYPE:"):
                build_type = line.split("=", 1)[1].strip()
    return {
        "cpu_model": cpu,
        "cpus": cpus,
        "kernel": platform.release(),
        "governor": governor,
        "compiler": compiler,
        "cxx_flags": flags,
        "build_type": build_type,
        "commit": commit + ("-dirty" if dirty else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hostname": platform.node(),
    }


def host_id(fp):
    slug = re.sub(r"[^a-z0-9]+", "-", fp["cpu_model"].lower()).strip("-")
    slug = re.sub(r"-(\d+-core-processor|processor|cpu)$", "", slug)
    return f"{slug or 'unknown-cpu'}-{fp['cpus']}cpu"


class Runner:
    def __init__(self, bench, out, mode):
        self.bench = bench
        self.out = out
        self.mode = MODES[mode]
        self.runs = 0
        os.makedirs(os.path.join(out, "raw"), exist_ok=True)

    def run(self, name, min_time=None, repetitions=1):
        """Runs one benchmark by exact name; returns its Google Benchmark JSON."""
        self.runs += 1
        raw = os.path.join(self.out, "raw", f"{self.runs:04d}.json")
        pattern = "^" + re.escape(name) + "$"
        cmd = [self.bench, f"--benchmark_filter={pattern}", f"--benchmark_out={raw}",
               "--benchmark_out_format=json", "--benchmark_format=console",
               f"--benchmark_min_time={min_time or self.mode['min_time']}"]
        if repetitions > 1:
            cmd += [f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=false"]
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        try:
            with open(raw, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"benchmarks": []}

    def floor(self):
        data = self.run(FLOOR, min_time=0.05)
        times = [b["real_time"] for b in data["benchmarks"] if b.get("run_type") == "iteration"]
        return min(times) if times else None


def summarize(data):
    """Median over repetitions of the iteration runs of one benchmark."""
    runs = [b for b in data["benchmarks"] if b.get("run_type") == "iteration" and not b.get("error_occurred")]
    if not runs:
        errors = [b.get("error_message", "") for b in data["benchmarks"] if b.get("error_occurred")]
        return {"error": errors[0] if errors else "no result"}
    out = {
        "repetitions": len(runs),
        "real_time_ns": statistics.median(b["real_time"] for b in runs),
        "time_unit": runs[0].get("time_unit", "ns"),
    }
    for key in ("items_per_second", "bytes_per_second", "cpu_ns_per_event", "oversubscribed"):
        values = [b[key] for b in runs if key in b]
        if values:
            out[key] = statistics.median(values)
    return out


def row_kind(name):
    return name.split("/", 1)[0]


def measure_rows(runner, rows, report, progress):
    for i, name in enumerate(rows):
        before = runner.floor()
        result = summarize(runner.run(name, repetitions=runner.mode["repetitions"]))
        after = runner.floor()
        result.update(name=name, kind=row_kind(name), floor_before_ns=before, floor_after_ns=after)
        if before and after:
            result["floor_moved"] = max(before, after) / min(before, after) > FLOOR_MOVED
            floor = (before + after) / 2
            if result["kind"] == "round_trip" and "real_time_ns" in result:
                result["floor_ratio"] = result["real_time_ns"] / floor
        report["rows"].append(result)
        progress(i + 1, len(rows), name)


def measure_headlines(runner, report, progress):
    rounds = runner.mode["rounds"]
    for h in HEADLINES:
        ratios, kept = [], 0
        for r in range(rounds):
            before = runner.floor()
            ours = summarize(runner.run(h["ours"], min_time=0.1))
            peer = summarize(runner.run(h["peer"], min_time=0.1)) if "peer" in h else None
            after = runner.floor()
            progress(r + 1, rounds, h["name"])
            if not before or not after or max(before, after) / min(before, after) > FLOOR_MOVED:
                continue  # the placement moved during the round
            if "error" in ours or (peer is not None and "error" in peer):
                continue
            kept += 1
            if h["kind"] == "throughput_ratio":
                ratios.append(ours["items_per_second"] / peer["items_per_second"])
            else:
                ratios.append(ours["real_time_ns"] / ((before + after) / 2))
        entry = dict(h)
        entry.update(rounds=rounds, rounds_kept=kept,
                     ratio_median=statistics.median(ratios) if ratios else None,
                     ratio_min=min(ratios) if ratios else None,
                     ratio_max=max(ratios) if ratios else None)
        entry["met"] = goal_met(entry)
        report["headlines"].append(entry)


def goal_met(entry):
    goal, value = entry["goal"], entry["ratio_median"]
    if value is None or not goal[:2] in (">=", "<="):
        return None
    target = float(goal[2:])
    return value >= target if goal.startswith(">=") else value <= target


def fmt_num(v, spec, suffix=""):
    return "-" if v is None else format(v, spec) + suffix


def fmt_rate(v):
    if v is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.1f}{unit}/s"
    return f"{v:.0f}/s"


def write_reports(report, out):
    with open(os.path.join(out, "matrix.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(out, "matrix.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "kind", "real_time_ns", "items_per_second", "cpu_ns_per_event",
                    "floor_before_ns", "floor_after_ns", "floor_ratio", "floor_moved", "error"])
        for r in report["rows"]:
            w.writerow([r["name"], r["kind"], r.get("real_time_ns"), r.get("items_per_second"),
                        r.get("cpu_ns_per_event"), r.get("floor_before_ns"), r.get("floor_after_ns"),
                        r.get("floor_ratio"), r.get("floor_moved"), r.get("error", "")])
    fp = report["host"]
    lines = [f"# ringlab matrix: {report['host_id']}", "",
             "Generated by `scripts/ringlab matrix`; do not edit. Methodology: `reports/METHODOLOGY.md`.", "",
             f"- CPU: {fp['cpu_model']} ({fp['cpus']} CPUs), kernel {fp['kernel']}, governor {fp['governor']}",
             f"- compiler: {fp['compiler']}, build {fp['build_type']} `{fp['cxx_flags']}`",
             f"- Google Benchmark library build: {report.get('benchmark_library_build', '?')}",
             f"- commit {fp['commit']}, {fp['date']}, mode `{report['mode']}`", "",
             "## Headline ratios (interleaved rounds, floor probed around each)", "",
             "| comparison | goal | median | min | max | rounds kept | met |", "|---|---|---|---|---|---|---|"]
    for h in report["headlines"]:
        def f(v):
            return "-" if v is None else f"{v:.2f}"
        met = {True: "yes", False: "**no**", None: "-"}[h["met"]]
        lines.append(f"| {h['name']} | {h['goal']} | {f(h['ratio_median'])} | {f(h['ratio_min'])} | "
                     f"{f(h['ratio_max'])} | {h['rounds_kept']}/{h['rounds']} | {met} |")
    lines += ["", "## Rows", "",
              "| row | throughput | time/op | CPU ns/event | floor ns (before/after) | x floor | note |",
              "|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        note = "; ".join(n for n in (
            "floor moved" if r.get("floor_moved") else "",
            "oversubscribed" if r.get("oversubscribed") else "",
            r.get("error", "")) if n)
        fb, fa = r.get("floor_before_ns"), r.get("floor_after_ns")
        floors = f"{fb:.0f}/{fa:.0f}" if fb and fa else "-"
        lines.append(f"| `{r['name']}` | {fmt_rate(r.get('items_per_second'))} | "
                     f"{fmt_num(r.get('real_time_ns'), '.1f', ' ns')} | {fmt_num(r.get('cpu_ns_per_event'), '.1f')} | "
                     f"{floors} | {fmt_num(r.get('floor_ratio'), '.2f')} | {note} |")
    with open(os.path.join(out, "matrix.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--out", required=True, help="reports directory; the host id is appended")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", dest="mode", const="quick")
    group.add_argument("--full", action="store_const", dest="mode", const="full")
    ap.add_argument("--filter", default="", help="only rows whose name matches this regex")
    args = ap.parse_args()
    mode = args.mode or "default"

    fp = fingerprint(args.bench)
    hid = host_id(fp)
    out = os.path.join(args.out, hid)
    runner = Runner(args.bench, out, mode)
    listed = subprocess.run([args.bench, "--benchmark_list_tests"], capture_output=True, text=True, check=True)
    rows = [n for n in listed.stdout.split() if not n.startswith("floor/cacheline")]
    if args.filter:
        rows = [n for n in rows if re.search(args.filter, n)]
    report = {"schema": "ringlab-matrix/1", "host_id": hid, "host": fp, "mode": mode,
              "rows": [], "headlines": []}
    interactive = sys.stderr.isatty()
    started = time.monotonic()

    def progress(done, total, what):
        elapsed = time.monotonic() - started
        if interactive:
            sys.stderr.write(f"\r[{done}/{total}] {what[:60]:<60} {elapsed:5.0f}s")
            sys.stderr.flush()
        else:
            print(f"[{done}/{total}] {what}", file=sys.stderr, flush=True)

    interrupted = False
    try:
        probe = runner.run(FLOOR, min_time=0.05)
        report["benchmark_library_build"] = probe.get("context", {}).get("library_build_type", "?")
        measure_rows(runner, rows, report, progress)
        if not args.filter:
            measure_headlines(runner, report, progress)
    except KeyboardInterrupt:
        interrupted = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    report["interrupted"] = interrupted
    report["seconds"] = round(time.monotonic() - started, 1)
    write_reports(report, out)
    if interactive:
        sys.stderr.write("\n")
    print(f"matrix: {len(report['rows'])} rows in {report['seconds']}s -> {out}/matrix.md"
          + (" (interrupted: the rows done so far)" if interrupted else ""))
    for h in report["headlines"]:
        value = "-" if h["ratio_median"] is None else f"{h['ratio_median']:.2f}"
        met = {True: "met", False: "NOT MET", None: ""}[h["met"]]
        print(f"  {h['name']:<48} {value:>6}  goal {h['goal']:<8} {met}  "
              f"({h['rounds_kept']}/{h['rounds']} rounds with a steady floor)")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
