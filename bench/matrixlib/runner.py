"""Runs the benchmark binary: one process per row, the floor probed between rows, the headline
comparisons in interleaved rounds, and the instruction-count kernels under valgrind.

Why one process per row, with a probe in between: this machine's two vCPUs move between
placements whose cache-line round trip differs several times, sometimes within seconds. A
row means something only next to the floor measured around it (`floor_before` is the probe
just before the row, `floor_after` the one just after, which is also the next row's
`floor_before`), and a row whose two floors disagree is flagged.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from . import analysis

MODES = {
    # per row: min_time (s), one_way_min_time (s), repetitions; the floor probe's min_time;
    # headline rounds and their min_time; events per instruction-count kernel; how long each
    # process warms up before it measures (ms, bench/main.cpp: --ringlab_warmup_ms; the quick
    # mode, a smoke test whose numbers nothing but the instruction counts gate, skips it)
    "quick": {"min_time": 0.02, "one_way_min_time": 0.05, "repetitions": 2, "probe_min_time": 0.01,
              "rounds": 3, "round_min_time": 0.05, "icount_events": 6400, "row_timeout": 60, "warmup_ms": 0},
    "default": {"min_time": 0.3, "one_way_min_time": 0.7, "repetitions": 5, "probe_min_time": 0.02,
                "rounds": 7, "round_min_time": 0.1, "icount_events": 64000, "row_timeout": 300,
                "warmup_ms": 1000},
    "full": {"min_time": 1.0, "one_way_min_time": 3.0, "repetitions": 7, "probe_min_time": 0.05,
             "rounds": 15, "round_min_time": 0.2, "icount_events": 64000, "row_timeout": 900,
             "warmup_ms": 1000},
}

def kill_group(proc):
    """Kills a row's process and everything it started (it runs in a session of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


PROBE_FILTER = "^(" + "|".join(re.escape(n) for n in analysis.PROBE_ROWS) + ")$"
HEADLINE_FLOOR = "floor/cacheline_round_trip/real_time"

# The comparisons the project promises (issue 2). Each is measured in rounds: the rows of the
# comparison back to back in one process, which measures the cache-line floor too
# (measure_headlines).
EAGER = "throughput/spsc_ring/busy_spin_wait/manual_time"
BATCHED = "throughput/spsc_ring/busy_spin_wait/release_every_16/manual_time"
SLIPPING = "throughput/spsc_ring/busy_spin_wait/slip_2048/manual_time"
AQ = "throughput/peer.atomic_queue/spin/manual_time"
BOOST = "throughput/peer.boost_spsc_queue/spin/manual_time"
TWO_LINES = "floor/two_line_round_trip/real_time"
JOURNAL = "throughput/journal/busy_spin_wait/{which}/payload_{payload}/manual_time"
HEADLINES = [
    {"name": "spsc_ring throughput / atomic_queue", "kind": "throughput_ratio", "goal": ">= 2.0",
     "ours": EAGER, "peer": AQ},
    {"name": "spsc_ring throughput / boost::lockfree::spsc_queue", "kind": "throughput_ratio", "goal": ">= 2.0",
     "ours": EAGER, "peer": BOOST},
    {"name": "spsc_ring (release_every 16) throughput / atomic_queue", "kind": "throughput_ratio",
     "goal": ">= 2.0", "ours": BATCHED, "peer": AQ},
    {"name": "spsc_ring (release_every 16) throughput / boost::lockfree::spsc_queue",
     "kind": "throughput_ratio", "goal": ">= 2.0", "ours": BATCHED, "peer": BOOST},
    # Temporal slipping (spsc_options::slip): the consumer stays clear of the lines the
    # producer is writing.
    {"name": "spsc_ring (slip 2048) throughput / atomic_queue", "kind": "throughput_ratio",
     "goal": ">= 2.0", "ours": SLIPPING, "peer": AQ},
    {"name": "spsc_ring (slip 2048) throughput / boost::lockfree::spsc_queue",
     "kind": "throughput_ratio", "goal": ">= 2.0", "ours": SLIPPING, "peer": BOOST},
    {"name": "spsc_ring round trip / cache-line floor", "kind": "floor_ratio", "goal": "<= 1.15",
     "ours": "round_trip/spsc_ring/busy_spin_wait/real_time"},
    {"name": "atomic_queue round trip / cache-line floor", "kind": "floor_ratio", "goal": "(peer)",
     "ours": "round_trip/peer.atomic_queue/spin/real_time"},
    # A round trip through two queues moves two lines, one each way; the one-line floor above
    # cannot show that cost. The two-line floor, measured in the same round, can (a ratio of
    # rates: the ring's round trip time over the floor's).
    {"name": "spsc_ring round trip / two-line floor", "kind": "throughput_ratio", "goal": "(reference)",
     "ours": TWO_LINES, "peer": "round_trip/spsc_ring/busy_spin_wait/real_time"},
    {"name": "two-line floor / cache-line floor", "kind": "floor_ratio", "goal": "(reference)", "ours": TWO_LINES},
    # The Disruptor core (issue 3): each topology against LMAX Disruptor 3.4.4 (bench/lmax,
    # an external runner whose threads take the CPUs ours take) under the same wait strategy,
    # 1P-1C against spsc_ring, and the round trip through two 1P-1C disruptors.
    {"name": "disruptor.unicast throughput / spsc_ring", "kind": "throughput_ratio", "goal": ">= 1.0",
     "ours": "throughput/disruptor.unicast/busy_spin_wait/manual_time", "peer": EAGER},
    # Slipping stages (processor_options::slip) against LMAX's busy-spin 1P-1C, and against
    # spsc_ring configured alike (both consumers slip at 2,048).
    {"name": "disruptor.unicast (slip 2048) throughput / LMAX (busy_spin_wait)", "kind": "throughput_ratio",
     "goal": ">= 1.5", "ours": "throughput/disruptor.unicast/busy_spin_wait/slip_2048/manual_time",
     "peer": "throughput/peer.lmax.unicast/busy_spin_wait/manual_time"},
    {"name": "disruptor.unicast (slip 2048) throughput / spsc_ring (slip 2048)", "kind": "throughput_ratio",
     "goal": ">= 1.0", "ours": "throughput/disruptor.unicast/busy_spin_wait/slip_2048/manual_time",
     "peer": SLIPPING},
    # Prefetching (ring_buffer.hpp): by default the producer and the stage ask for slot
    # lines 32 positions ahead. What it buys turns on where the two threads sit; the row
    # without it is a reference beside the default row's comparison.
    {"name": "disruptor.unicast (prefetch 0) throughput / spsc_ring", "kind": "throughput_ratio",
     "goal": "(reference)", "ours": "throughput/disruptor.unicast/busy_spin_wait/prefetch_0/manual_time",
     "peer": EAGER},
    {"name": "disruptor.unicast round trip / cache-line floor", "kind": "floor_ratio", "goal": "<= 1.15",
     "ours": "round_trip/disruptor.unicast/busy_spin_wait/real_time"},
    {"name": "disruptor.unicast round trip / two-line floor", "kind": "throughput_ratio", "goal": "(reference)",
     "ours": TWO_LINES, "peer": "round_trip/disruptor.unicast/busy_spin_wait/real_time"},
    # The router (issue 7), in its two-thread rows (the producer steps the router): a 1->2
    # broadcast against spsc_ring, and the router hop's latency against the direct hop (a
    # rate ratio of round trips, that is the router's round trip time over spsc_ring's; a
    # round trip is two hops, so 1.5 is one cache-line transfer more).
    {"name": "router 1->2 broadcast throughput / spsc_ring", "kind": "throughput_ratio", "goal": ">= 0.5",
     "ours": "throughput/router/busy_spin_wait/consumers_2/mode_0/policy_1/inline_1/manual_time", "peer": EAGER},
    {"name": "router round trip / spsc_ring round trip", "kind": "throughput_ratio", "goal": "<= 1.5",
     "ours": "round_trip/spsc_ring/busy_spin_wait/real_time", "peer": "round_trip/router/busy_spin_wait/inline_1/real_time"},
] + [
    # The journal (issue 8): the tail of small records as a rate, and large records' append,
    # tail and replay as a fraction of memcpy bandwidth measured by the row's own process.
    {"name": "journal tail, 8 B records (M records/s)", "kind": "rate", "goal": ">= 50",
     "metric": "records_per_second", "ours": JOURNAL.format(which="subscribers_1", payload=8)},
] + [
    {"name": f"journal {what}, {payload // 1024} KiB records / memcpy", "kind": "counter",
     "counter": "memcpy_ratio", "goal": ">= 0.5", "ours": JOURNAL.format(which=which, payload=payload)}
    for what, which, payload in (("append", "subscribers_0", 65536), ("tail", "subscribers_1", 16384),
                                 ("tail", "subscribers_1", 65536), ("replay", "replay_1", 65536))
] + [
    # The tail against a bare stamped copy of the same records through a region of the
    # journal's size, between the same two CPUs (the row's `copy_floor_ratio`).
    {"name": f"journal tail, {label} records / cross-core copy floor", "kind": "counter",
     "counter": "copy_floor_ratio", "goal": "(reference)", "ours": JOURNAL.format(which="subscribers_1", payload=payload)}
    for label, payload in (("8 B", 8), ("16 KiB", 16384), ("64 KiB", 65536))
] + [
    {"name": f"disruptor.{topology} throughput / LMAX ({wait})", "kind": "throughput_ratio", "goal": ">= 1.5",
     "ours": f"throughput/disruptor.{topology}/{wait}/manual_time",
     "peer": f"throughput/peer.lmax.{topology}/{wait}/manual_time"}
    for topology in ("unicast", "pipeline", "multicast", "diamond", "sequencer")
    for wait in ("busy_spin_wait", "yielding_wait", "blocking_wait")
] + [
    # Busy spin that never yields (knob pure_spin_1), as LMAX's BusySpinWaitStrategy: with
    # four threads on two CPUs both spin through their time slices.
    {"name": f"disruptor.{topology} (pure spin) throughput / LMAX (busy_spin_wait)", "kind": "throughput_ratio",
     "goal": "(reference)", "ours": f"throughput/disruptor.{topology}/busy_spin_wait/pure_spin_1/manual_time",
     "peer": f"throughput/peer.lmax.{topology}/busy_spin_wait/manual_time"}
    for topology in ("pipeline", "multicast", "diamond", "sequencer")
] + [
    # LMAX's threads take our CPUs in the rows above; here the scheduler places them, as in
    # LMAX's own perf tests. A 1P-1C pair it puts on one CPU runs several times faster under
    # a yielding wait than one across two far-apart vCPUs, so these ratios spread widely.
    {"name": f"disruptor.{topology} throughput / LMAX unpinned ({wait})", "kind": "throughput_ratio",
     "goal": "(reference)", "ours": f"throughput/disruptor.{topology}/{wait}/manual_time",
     "peer": f"throughput/peer.lmax.{topology}/{wait}/unpinned_1/manual_time"}
    for topology in ("unicast", "pipeline", "multicast", "diamond", "sequencer")
    for wait in ("busy_spin_wait", "yielding_wait", "blocking_wait")
]


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "__", name).strip("_")


class Runner:
    """Runs benchmark processes and keeps their raw JSON under out/raw/."""

    def __init__(self, bench, out, mode, context=None):
        self.bench = bench
        # benchmark name -> command, for rows an external runner measures (bench/external)
        self.commands = {}
        self.out = out
        self.mode = MODES[mode]
        self.context = context or {}
        self.probes = {"context": None, "benchmarks": []}
        self.headline_runs = {"context": None, "benchmarks": []}
        for sub in ("raw/rows", "hgrm"):
            os.makedirs(os.path.join(out, sub), exist_ok=True)

    def command(self, entry):
        return list(entry.get("command") or [self.bench])

    def run(self, benchmark, raw_path, min_time, repetitions=1, command=None, env=None):
        """Runs the benchmarks matching `benchmark` (an exact name or a regex); returns the JSON."""
        pattern = benchmark if benchmark.startswith("^") else "^" + re.escape(benchmark) + "$"
        cmd = (command or [self.bench]) + [
            f"--benchmark_filter={pattern}", f"--benchmark_out={raw_path}", "--benchmark_out_format=json",
            "--benchmark_format=console", f"--benchmark_min_time={min_time}",
            f"--ringlab_warmup_ms={self.mode['warmup_ms']}"]
        if repetitions > 1:
            cmd += [f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=false"]
        if self.context:
            cmd.append("--benchmark_context=" + ",".join(f"{k}={v}" for k, v in self.context.items()))
        # A row that does not finish in row_timeout seconds (a hang, or a machine far busier
        # than planned) is killed, with everything it started, and reported without data.
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=dict(os.environ, **(env or {})), start_new_session=True)
        try:
            proc.wait(timeout=self.mode["row_timeout"])
        except subprocess.TimeoutExpired:
            kill_group(proc)
            print(f"matrix: {benchmark} did not finish in {self.mode['row_timeout']} s: killed, no data",
                  file=sys.stderr, flush=True)
            return {"benchmarks": [], "timed_out": True}
        except BaseException:  # Ctrl-C: the row's processes go with the runner
            kill_group(proc)
            raise
        try:
            with open(raw_path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"benchmarks": []}

    def floor(self):
        """One probe of every floor; its raw runs join raw/probes.json."""
        with tempfile.TemporaryDirectory() as tmp:
            data = self.run(PROBE_FILTER, os.path.join(tmp, "probe.json"), self.mode["probe_min_time"],
                            repetitions=3)
        index = len({b.get("probe_index") for b in self.probes["benchmarks"]})
        self.probes["context"] = self.probes["context"] or data.get("context")
        for b in analysis.iteration_runs(data):  # Google Benchmark's aggregates add nothing here
            self.probes["benchmarks"].append(dict(b, probe_index=index))
        write_json(os.path.join(self.out, "raw", "probes.json"), self.probes, indent=None)
        result = analysis.probe(data)
        result["index"] = index
        return result, data.get("context", {})

    def row(self, entry, suffix=""):
        """Runs one row with its repetitions; returns (summary, hgrm path or None, raw path)."""
        raw_rel = os.path.join("raw", "rows", safe_name(entry["name"]) + suffix + ".json")
        min_time = self.mode["one_way_min_time"] if entry["kind"] == "one_way" else self.mode["min_time"]
        with tempfile.TemporaryDirectory() as hgrm_dir:
            data = self.run(entry["benchmark"], os.path.join(self.out, raw_rel), min_time,
                            self.mode["repetitions"], self.command(entry), {"RINGLAB_HGRM_DIR": hgrm_dir})
            summary = analysis.summarize(data)
            hgrm = self.keep_median_hgrm(entry, summary, hgrm_dir, suffix)
        return summary, hgrm, raw_rel

    def keep_median_hgrm(self, entry, summary, hgrm_dir, suffix=""):
        """Keeps the .hgrm of the repetition with the median p99 (the one the table shows)."""
        runs = [m for m in summary.get("per_run", []) if "hist_id" in m]
        if not runs:
            return None
        runs.sort(key=lambda m: m.get("p99_ns", 0))
        source = os.path.join(hgrm_dir, f"{int(runs[len(runs) // 2]['hist_id'])}.hgrm")
        if not os.path.exists(source):
            return None
        rel = os.path.join("hgrm", safe_name(entry["name"]) + suffix + ".hgrm")
        shutil.copyfile(source, os.path.join(self.out, rel))
        return rel

    def headline_round(self, h):
        """The rows of one headline comparison back to back: in one process when one binary
        measures both, else one process each (an external runner's row), one after the other.
        Our binary's process also measures the cache-line floor (before or after the rows, in
        the order the binary registered them), as warm as the rows and with no process of its
        own. Returns (ours, peer, floor in ns); each is None when it gave nothing."""
        names = [h["ours"]] + ([h["peer"]] if "peer" in h else [])
        by_command = {}
        for n in names:
            by_command.setdefault(tuple(self.commands.get(n) or [self.bench]), []).append(n)
        own = by_command.setdefault((self.bench,), [])
        if HEADLINE_FLOOR not in own:
            own.append(HEADLINE_FLOOR)
        data = {"context": None, "benchmarks": []}
        with tempfile.TemporaryDirectory() as tmp:
            for i, (command, group) in enumerate(by_command.items()):
                pattern = "^(" + "|".join(re.escape(n) for n in group) + ")$"
                part = self.run(pattern, os.path.join(tmp, f"round{i}.json"), self.mode["round_min_time"],
                                command=list(command))
                data["context"] = data["context"] or part.get("context")
                data["benchmarks"] += part.get("benchmarks", [])
        self.headline_runs["context"] = self.headline_runs["context"] or data.get("context")
        for b in data.get("benchmarks", []):
            self.headline_runs["benchmarks"].append(dict(b, headline=h["name"]))
        write_json(os.path.join(self.out, "raw", "headlines.json"), self.headline_runs, indent=None)
        by_name = {b["name"]: analysis.run_metrics(b) for b in analysis.iteration_runs(data)
                   if not b.get("error_occurred")}
        floor = by_name.get(HEADLINE_FLOOR)
        return by_name.get(h["ours"]), by_name.get(h.get("peer")), floor["real_time_ns"] if floor else None

    def headline_floor(self):
        """The cache-line floor in a process of its own, measured as a round measures it."""
        with tempfile.TemporaryDirectory() as tmp:
            data = self.run(HEADLINE_FLOOR, os.path.join(tmp, "floor.json"), self.mode["round_min_time"])
        runs = [analysis.run_metrics(b) for b in analysis.iteration_runs(data) if not b.get("error_occurred")]
        return runs[0]["real_time_ns"] if runs else None


def measure_headlines(runner, progress, only=None):
    """Each headline (or those named in `only`) over interleaved rounds. Each round's process
    measures the floor too, before or after its rows; a round counts only when its floor and
    those of the rounds on either side (a probe of its own before the first round and after
    the last) agree within FLOOR_MOVED, so that two of them bracket its rows (an external
    peer's process included) whichever order they ran in. A round's value uses its own
    floor. The report keeps each kept round's value and floor."""
    out = []
    rounds = runner.mode["rounds"]
    for h in HEADLINES:
        if only is not None and h["name"] not in only:
            continue
        floors = [runner.headline_floor()]
        measured = []
        for r in range(rounds):
            ours, peer, floor = runner.headline_round(h)
            measured.append((ours, peer))
            floors.append(floor)
            progress.step(f"headline {h['name']} ({r + 1}/{rounds})")
        floors.append(runner.headline_floor())
        kept = []
        for r, (ours, peer) in enumerate(measured):
            own = floors[r + 1]
            if not analysis.steady(floors[r:r + 3]):
                continue
            value = analysis.headline_value(h, ours, peer, own)
            if value is not None:
                kept.append((value, own))
        entry = analysis.headline(h, [v for v, _ in kept], [f for _, f in kept])
        entry["rounds"] = rounds
        out.append(entry)
    return out


def count_instructions(icount_bin, name, events):
    """Runs one kernel under callgrind; returns its entry (instructions, or an error)."""
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "--toggle-collect=ringlab_icount_run",
           icount_bin, name, str(events)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    entry = {"name": name, "events": events}
    if done.returncode == 0 and m:
        entry.update(instructions=int(m.group(1)), ir_per_event=int(m.group(1)) / events)
    else:
        entry["error"] = (done.stderr.strip().splitlines() or ["no count"])[-1]
    return entry


def instruction_counts(icount_bin, events, progress=None):
    """Instructions per event of each single-threaded kernel, counted by callgrind."""
    if not icount_kernel_count(icount_bin):
        return {"available": False, "reason": "valgrind or the icount binary is missing", "kernels": []}
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    kernels = []
    for name in subprocess.run([icount_bin, "--list"], capture_output=True, text=True).stdout.split():
        kernels.append(count_instructions(icount_bin, name, events))
        if progress:
            progress.step(f"instruction count {name}")
    return {"available": True, "tool": f"{version} callgrind, --toggle-collect=ringlab_icount_run",
            "binary_flags": "-O3 -march=x86-64-v2 -mtune=generic", "kernels": kernels}


def icount_kernel_count(icount_bin):
    if not shutil.which("valgrind") or not icount_bin or not os.path.exists(icount_bin):
        return 0
    return len(subprocess.run([icount_bin, "--list"], capture_output=True, text=True).stdout.split())


def write_json(path, data, indent=1):
    """Writes atomically: a reader (or an interrupted run) sees the old file or the new one.
    indent=None writes one benchmark run a line (the raw files that grow with every probe)."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        if indent is None and isinstance(data.get("benchmarks"), list):
            f.write('{"context": ' + json.dumps(data.get("context")) + ',\n "benchmarks": [\n')
            f.write(",\n".join(json.dumps(b) for b in data["benchmarks"]))
            f.write("\n]}\n")
        else:
            json.dump(data, f, indent=indent)
            f.write("\n")
    os.replace(tmp, path)


def list_rows(bench, externals=()):
    """Every row the binary (and each external runner) registered, with its metadata."""
    rows = json.loads(subprocess.run([bench, "--ringlab_rows"], capture_output=True, text=True, check=True).stdout)
    for ext in externals:
        try:
            more = json.loads(subprocess.run(ext["command"] + ["--ringlab_rows"], capture_output=True, text=True,
                                             check=True).stdout)
        except (subprocess.SubprocessError, OSError, ValueError):
            continue
        for r in more:
            r["command"] = ext["command"]
            r["external"] = ext["name"]
        rows += more
    return rows


def external_runners(folder):
    """bench/external/*.json: other binaries speaking the same protocol (see reports/README.md)."""
    out = []
    if not os.path.isdir(folder):
        return out
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            spec = json.load(f)
        if spec.get("enabled", True) and all(os.path.exists(p) or shutil.which(p) for p in spec.get("requires", [])):
            out.append({"name": spec.get("name", name[:-5]), "command": spec["command"]})
    return out


def elapsed_since(start):
    return round(time.monotonic() - start, 1)
