#!/usr/bin/env python3
"""The matrix runner: every registered row of ringlab-bench (every pattern x every wait
strategy x the knobs, the peers, the floor), each in its own process between two probes of
the hardware floor; the headline comparisons in interleaved rounds; instruction counts of
the single-threaded kernels under valgrind; then the report files and the plots.

Usage: matrix.py --bench PATH --out DIR [--quick | --full] [--filter REGEX] [--no-plots]

Writes DIR/<host-id>/ (DIR/<host-id>-quick/ for --quick, DIR/<host-id>-filtered/ with
--filter, so neither replaces a full report): matrix.json (schema: reports/README.md),
matrix.md, matrix.csv, hgrm/*.hgrm, raw/ (Google Benchmark JSON), plots/*.png. The files
are rewritten after every row: Ctrl-C leaves the rows done so far written and valid.
Methodology: reports/METHODOLOGY.md.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from matrixlib import analysis, gating, host, report, runner  # noqa: E402
from matrixlib.progress import Progress  # noqa: E402

PLOTS = os.path.join(host.ROOT, "scripts", "plots")


def bench_context(fp):
    """The fingerprint's essentials, written into every raw Google Benchmark JSON. The flag
    cannot carry ',' or '=': they become ';' and ':'."""
    def clean(v):
        return str(v).replace(",", ";").replace("=", ":")
    return {"ringlab_commit": clean(fp["commit"]), "ringlab_compiler": clean(fp["compiler"]),
            "ringlab_cxx_flags": clean(fp["cxx_flags"]), "ringlab_build_type": clean(fp["build_type"]),
            "ringlab_cpu_model": clean(fp["cpu_model"]), "ringlab_governor": clean(fp["governor"]),
            "ringlab_kernel": clean(fp["kernel"])}


def make_row(entry, summary, before, after, hgrm, raw, seconds, cpus):
    row = {k: entry[k] for k in ("name", "benchmark", "kind", "pattern", "wait", "group", "peer", "knobs",
                                 "threads", "bytes_per_event") if k in entry}
    row.update(floor_before=before, floor_after=after, floor_moved=analysis.floor_moved(before, after),
               raw=raw, seconds=round(seconds, 2))
    if "external" in entry:
        row["external"] = entry["external"]
    if "error" in summary:
        row.update(error=summary["error"], oversubscribed=entry["threads"] > cpus)
        return row
    row.update(repetitions=summary["repetitions"], metrics=summary["metrics"])
    row["per_run"] = summary["per_run"]
    row["floor_ratio"] = analysis.floor_ratio(row, before, after)
    del row["per_run"]
    over = analysis.metric(row, "oversubscribed")
    row["oversubscribed"] = bool(over) if over is not None else entry["threads"] > cpus
    if hgrm:
        row["hgrm"] = hgrm
    return row


# --quick (CI): the rows a 2-core machine measures without oversubscription, under the
# busy-spin and blocking strategies (and the peers' spin and blocking forms): every pattern
# and every peer, in a few minutes. The default mode runs every row but those a suite marks
# full_only (the far corners of a knob space); --full runs them all.
QUICK_WAITS = {"", "busy_spin_wait", "blocking_wait", "spin", "blocking"}


def quick_row(entry, cpus):
    return (entry.get("threads", 2) <= cpus and entry.get("wait", "") in QUICK_WAITS
            and not entry.get("full_only"))


def select_rows(rows, mode, cpus, pattern=""):
    """The rows a run measures: those matching --filter, else the mode's set."""
    if pattern:
        return [r for r in rows if re.search(pattern, r["name"])]
    if mode == "quick":
        return [r for r in rows if quick_row(r, cpus)]
    if mode == "default":
        return [r for r in rows if not r.get("full_only")]
    return list(rows)


def grouped(rows):
    """The rows in the order they were listed, each group's rows back to back (an external
    runner's peers right after the rows they are compared with): the VM can move its vCPUs
    between rows, and rows compared with each other should share a placement."""
    first = {}
    for i, r in enumerate(rows):
        first.setdefault(r.get("group"), i)
    return sorted(rows, key=lambda r: first[r.get("group")])


def measure(run, entry, before, fp, out, suffix=""):
    """One row between the probe before it (given) and the probe after it (returned)."""
    t0 = time.monotonic()
    summary, hgrm, raw = run.row(entry, suffix)
    after, _ = run.floor()
    if hgrm:
        report.annotate_hgrm(os.path.join(out, hgrm), fp)
    return make_row(entry, summary, before, after, hgrm, raw, time.monotonic() - t0, fp["cpus"]), after


def recheck(run, rep, entries, base_path, fp, out, progress):
    """Measures the rows that regressed against BASE once more and records, in each such
    gate, what the second measurement says (`recheck`): compare then fails only when both
    regress. The report's rows keep the first measurement."""
    try:
        base = gating.load(base_path)
    except (OSError, ValueError) as e:
        print(f"matrix: --recheck: {e}", file=sys.stderr)
        return
    report.refresh(rep)
    _, regressed = gating.compare(base, rep)
    names = gating.rows_to_recheck(rep, regressed)
    headlines = [gid.partition(":")[2] for gid in regressed if gid.startswith("headline:")]
    if not names and not headlines:
        return
    progress.estimates += [progress.estimates[0]] * len(names)
    second = dict(rep, rows=list(rep["rows"]))
    index = {r["name"]: i for i, r in enumerate(second["rows"])}
    before = rep["probes"][-1]
    for name in names:  # raw files of the second measurement: <row>.recheck.json/.hgrm
        row, before = measure(run, entries[name], before, fp, out, ".recheck")
        rep["probes"].append(before)
        second["rows"][index[name]] = row
        progress.step(f"recheck {name}")
    if headlines:
        second["headlines"] = runner.measure_headlines(run, progress, only=headlines)
    analysis.peer_ratios(second["rows"])
    again = {g["id"]: g for g in analysis.gates(second)}
    analysis.peer_ratios(rep["rows"])  # the peer ratios of the first measurement stay
    rep["rechecked"] = names
    rep["recheck_gates"] = {gid: {k: again[gid][k] for k in ("value", "noise", "flagged")}
                            for gid in regressed if gid in again}


def estimates(rows, mode, kernels, headlines, external=()):
    """Seconds each step should take: a row's repetitions plus Google Benchmark's sizing
    run, and the probe after it (4 floors x 3 repetitions plus their sizing), each process
    after its warm-up; a headline round's two rows and floor, a process of its own for a peer
    an external runner measures (`external`: their names; a JVM's start and the row's
    warm-up run), and each headline's two floors of their own spread over its rounds."""
    m = runner.MODES[mode]
    warmup = m["warmup_ms"] / 1000
    probe = 20 * m["probe_min_time"] + 0.15 + warmup
    out = []
    for r in rows:
        t = m["one_way_min_time"] if r["kind"] == "one_way" else m["min_time"]
        out.append((m["repetitions"] + 1.5) * t + warmup + probe + 0.1)
    if headlines:
        for h in runner.HEADLINES:
            peer = (warmup + 0.6 + 2 * m["round_min_time"]) if h.get("peer") in external else 0
            floors = 2 * (warmup + 2 * m["round_min_time"] + 0.1) / m["rounds"]
            out += [6 * m["round_min_time"] + warmup + 0.2 + peer + floors] * m["rounds"]
    return out + [1.5] * kernels


def clear_outputs(out):
    for name in ("matrix.json", "matrix.md", "matrix.csv"):
        if os.path.exists(os.path.join(out, name)):
            os.remove(os.path.join(out, name))
    for sub in ("raw", "hgrm", "plots"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="the ringlab-bench binary")
    ap.add_argument("--icount", help="the ringlab-bench-icount binary (default: beside --bench)")
    ap.add_argument("--out", required=True, help="reports directory; the host id is appended")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", dest="mode", const="quick")
    group.add_argument("--full", action="store_const", dest="mode", const="full")
    ap.add_argument("--filter", default="", help="only rows whose name matches this regex")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--recheck", metavar="BASE",
                    help="measure the rows that regressed against BASE a second time (CI: a regression must show twice)")
    args = ap.parse_args()
    mode = args.mode or "default"
    icount = args.icount or os.path.join(os.path.dirname(os.path.abspath(args.bench)), "ringlab-bench-icount")

    fp = host.fingerprint(args.bench, host.read_topology(args.bench))
    hid = host.host_id(fp)
    suffix = "-filtered" if args.filter else ("-quick" if mode == "quick" else "")
    out = os.path.join(args.out, hid + suffix)
    os.makedirs(out, exist_ok=True)
    clear_outputs(out)
    rows = runner.list_rows(args.bench, runner.external_runners(os.path.join(host.ROOT, "bench", "external")))
    rows = grouped(select_rows(rows, mode, fp["cpus"], args.filter))
    run = runner.Runner(args.bench, out, mode, bench_context(fp))
    run.commands = {r["benchmark"]: r["command"] for r in rows if r.get("command")}
    full = not args.filter
    kernels = runner.icount_kernel_count(icount) if full else 0
    rep = {"schema": report.SCHEMA, "host_id": hid, "run_id": host.run_id(fp), "host": fp, "mode": mode,
           "config": dict(runner.MODES[mode], filter=args.filter, floor_moved_threshold=analysis.FLOOR_MOVED),
           "seconds": 0.0, "complete": False, "interrupted": False, "rows": [], "probes": [], "headlines": [],
           "picks": [], "gates": [],
           "instruction_counts": {"available": False, "reason": "not measured in a filtered run" if args.filter
                                  else "not measured yet", "kernels": []}}
    progress = Progress(estimates(rows, mode, kernels, full, run.commands))
    started = time.monotonic()
    signal.signal(signal.SIGTERM, interrupt)
    print(f"matrix: {len(rows)} rows, mode {mode}, writing {out}", file=sys.stderr, flush=True)
    try:
        before, context = run.floor()
        fp["libraries"]["google_benchmark"] = fp["libraries"]["google_benchmark"].replace(
            "library build: ?", f"library build: {context.get('library_build_type', '?')}")
        rep["probes"].append(before)
        report.write(rep, out)
        for entry in rows:
            row, before = measure(run, entry, before, fp, out)
            rep["probes"].append(before)
            rep["rows"].append(row)
            rep["seconds"] = runner.elapsed_since(started)
            report.write(rep, out)
            progress.step(entry["name"])
        if full:
            rep["headlines"] = runner.measure_headlines(run, progress)
            report.write(rep, out)
            rep["instruction_counts"] = runner.instruction_counts(icount, run.mode["icount_events"], progress)
        if args.recheck:
            recheck(run, rep, {r["name"]: r for r in rows}, args.recheck, fp, out, progress)
        rep["complete"] = True
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        rep["interrupted"] = True
    rep["seconds"] = runner.elapsed_since(started)
    report.write(rep, out)
    progress.finish()
    if not args.no_plots and rep["rows"]:
        try:
            subprocess.run(["/usr/bin/python3", PLOTS, out], check=False)
        except KeyboardInterrupt:
            print("matrix: plots skipped (interrupted); `scripts/ringlab plots DIR` draws them", file=sys.stderr)
    summarize(rep, out)
    return 130 if rep["interrupted"] else 0


def summarize(rep, out):
    print(f"matrix: {len(rep['rows'])} rows in {rep['seconds']:.0f}s -> {out}/matrix.md"
          + (" (interrupted: the rows done so far)" if rep["interrupted"] else ""))
    flagged = sum(1 for r in rep["rows"] if r.get("floor_moved"))
    if flagged:
        print(f"  {flagged} rows flagged: the floor moved while they ran")
    for h in rep["headlines"]:
        value = "-" if h["ratio_median"] is None else f"{h['ratio_median']:.2f}"
        met = {True: "met", False: "NOT MET", None: ""}[h["met"]]
        print(f"  {h['name']:<66} {value:>6}  goal {h['goal']:<11} {met:<7} "
              f"({h['rounds_kept']}/{h['rounds']} rounds with a steady floor)")


if __name__ == "__main__":
    sys.exit(main())
