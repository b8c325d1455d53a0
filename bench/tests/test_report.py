"""The runner and the report writer: schema, files, fingerprints, ratios, picks, and a run
interrupted with Ctrl-C that leaves the rows done so far written and valid."""
import csv
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from matrix_fixture import FAKE, load, matrix_command, run_matrix

from matrixlib import analysis, report, runner, schema


class HeadlineRounds(unittest.TestCase):
    """A round counts only when its own floor and its neighbours' agree, and a floor ratio
    uses the round's own floor."""

    class StubRunner:
        mode = {"rounds": 3}

        def __init__(self, probes, round_floors):
            self.probes, self.round_floors = list(probes), list(round_floors)

        def headline_floor(self):
            return self.probes.pop(0)

        def headline_round(self, h):
            return {"real_time_ns": 120.0}, None, self.round_floors.pop(0)

    class Quiet:
        def step(self, _):
            pass

    NAME = "spsc_ring round trip / cache-line floor"

    def measure(self, probes, round_floors):
        stub = self.StubRunner(probes, round_floors)
        (entry,) = runner.measure_headlines(stub, self.Quiet(), only=[self.NAME])
        self.assertEqual((stub.probes, stub.round_floors), ([], []), "one probe before, one after")
        return entry

    def test_steady_floors_keep_every_round_with_its_own_floor(self):
        entry = self.measure([100.0, 100.0], [100.0, 110.0, 105.0])
        self.assertEqual(entry["round_floors_ns"], [100.0, 110.0, 105.0])
        self.assertEqual([round(v, 3) for v in entry["round_values"]], [1.2, round(120 / 110, 3), round(120 / 105, 3)])

    def test_a_moved_floor_drops_the_rounds_beside_it(self):
        # The middle round's floor moved: it and both its neighbours are dropped.
        self.assertEqual(self.measure([100.0, 100.0], [100.0, 300.0, 100.0])["rounds_kept"], 0)
        # The probe after the last round moved: only the last round is dropped.
        self.assertEqual(self.measure([100.0, 300.0], [100.0, 100.0, 100.0])["rounds_kept"], 2)
        # A floor that gave nothing counts as moved.
        self.assertEqual(self.measure([100.0, 100.0], [100.0, 100.0, None])["rounds_kept"], 1)


class PeerFloors(unittest.TestCase):
    """A ratio to a peer that ran on another placement is kept, marked, and not gated."""

    @staticmethod
    def row(name, peer, rate, rtt_ns):
        return {"name": name, "kind": "throughput", "group": "g", "pattern": name, "peer": peer, "knobs": {},
                "metrics": {"items_per_second": {"median": rate, "values": [rate, rate]}},
                "floor_before": {"cacheline_rtt_ns": rtt_ns}, "floor_after": {"cacheline_rtt_ns": rtt_ns}}

    def test_a_peer_on_another_floor_is_marked_and_not_gated(self):
        ours, theirs = self.row("ours", False, 100.0, 500.0), self.row("theirs", True, 300.0, 70.0)
        analysis.peer_ratios([ours, theirs])
        self.assertAlmostEqual(ours["peer_ratio"]["value"], 1 / 3)
        self.assertTrue(ours["peer_ratio"]["floors_differ"])
        self.assertIn("peer ran on another floor", report.notes(ours))
        gate = [g for g in analysis.gates({"rows": [ours, theirs]}) if g["id"] == "peer_ratio:ours"]
        self.assertEqual(len(gate), 1)
        self.assertTrue(gate[0]["flagged"])

    def test_a_peer_on_the_same_floor_is_gated(self):
        ours, theirs = self.row("ours", False, 100.0, 500.0), self.row("theirs", True, 300.0, 540.0)
        analysis.peer_ratios([ours, theirs])
        self.assertFalse(ours["peer_ratio"]["floors_differ"])
        self.assertNotIn("peer ran on another floor", report.notes(ours))
        gate = [g for g in analysis.gates({"rows": [ours, theirs]}) if g["id"] == "peer_ratio:ours"]
        self.assertFalse(gate[0]["flagged"])


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.rc, cls.folder, cls.output = run_matrix(cls.tmp.name)
        cls.report = load(cls.folder)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_the_run_succeeds_into_the_quick_folder(self):
        self.assertEqual(self.rc, 0, self.output)
        self.assertTrue(self.folder.endswith("-quick"), self.folder)
        self.assertTrue(self.report["complete"])
        self.assertFalse(self.report["interrupted"])

    def test_the_report_follows_the_schema(self):
        self.assertEqual(schema.validate(self.report), [])

    def test_every_registered_row_is_reported(self):
        listed = json.loads(subprocess.run([FAKE, "--ringlab_rows"], capture_output=True, text=True).stdout)
        # --quick: the rows a machine of this many cores runs without oversubscription.
        listed = [r for r in listed if r.get("threads", 2) <= (os.cpu_count() or 1) and not r["full_only"] and
                  r.get("wait", "") in ("", "busy_spin_wait", "blocking_wait", "spin", "blocking")]
        # Each table's rows back to back, in the order the tables were first listed.
        first = {}
        for i, r in enumerate(listed):
            first.setdefault(r["group"], i)
        expected = [r["name"] for r in sorted(listed, key=lambda r: first[r["group"]])]
        self.assertEqual([r["name"] for r in self.report["rows"]], expected)
        self.assertEqual(len(self.report["probes"]), len(listed) + 1, "one probe before each row and one after the last")

    def test_rows_carry_their_floors_and_ratios(self):
        rows = {r["name"]: r for r in self.report["rows"]}
        rt = rows["round_trip/spsc_ring/busy_spin_wait"]
        self.assertAlmostEqual(rt["floor_ratio"]["median"], 64.0 / 60.0, delta=0.02)  # 1% noise per repetition
        self.assertFalse(rt["floor_moved"])
        tp = rows["throughput/spsc_ring/busy_spin_wait"]
        self.assertEqual(tp["peer_ratio"]["peer"], "throughput/peer.boost_spsc_queue/spin")
        self.assertAlmostEqual(tp["peer_ratio"]["value"], 450 / 230, places=1)
        # --quick leaves out a row needing more threads than this machine has; with enough
        # cores it runs, and is not flagged.
        if (os.cpu_count() or 1) < 3:
            self.assertNotIn("throughput/spsc_ring/busy_spin_wait/producers_2", rows)
        else:
            self.assertFalse(rows["throughput/spsc_ring/busy_spin_wait/producers_2"]["oversubscribed"])
        self.assertNotIn("peer_ratio", rows["throughput/peer.atomic_queue/spin"], "peers are not rated against peers")

    def test_headlines_are_measured_and_judged(self):
        by_name = {h["name"]: h for h in self.report["headlines"]}
        h = by_name["spsc_ring throughput / atomic_queue"]
        self.assertAlmostEqual(h["ratio_median"], 450 / 170, places=1)
        self.assertTrue(h["met"])
        self.assertEqual(h["rounds_kept"], h["rounds"])
        self.assertAlmostEqual(by_name["spsc_ring round trip / cache-line floor"]["ratio_median"], 64 / 60, places=2)
        # a rate (M events/s) and a counter of the row (its payload bytes/s over memcpy's)
        self.assertAlmostEqual(by_name["journal tail, 8 B records (M records/s)"]["ratio_median"], 60, places=0)
        tail = by_name["journal tail, 64 KiB records / memcpy"]
        self.assertAlmostEqual(tail["ratio_median"], 0.8, places=2)
        self.assertTrue(tail["met"])
        # every kept round keeps its value and the floor probed around it
        self.assertEqual(len(tail["round_values"]), tail["rounds_kept"])
        self.assertEqual(tail["round_floors_ns"], [60.0] * tail["rounds_kept"])

    def test_what_to_pick_comes_from_the_numbers(self):
        picks = {p["criterion"]: p for p in self.report["picks"]}
        self.assertEqual(picks["least CPU when idle"]["wait"], "blocking_wait")
        self.assertEqual(picks["best one-way p99 at 10,000/s"]["wait"], "busy_spin_wait")
        self.assertEqual(picks["best throughput"]["best_peer"]["row"], "throughput/peer.boost_spsc_queue/spin")

    def test_gates_cover_ratios_and_idle(self):
        ids = {g["id"] for g in self.report["gates"]}
        self.assertIn("peer_ratio:throughput/spsc_ring/busy_spin_wait", ids)
        self.assertIn("floor_ratio:one_way/spsc_ring/busy_spin_wait/rate_10k", ids)
        self.assertIn("idle:idle/spsc_ring/blocking_wait", ids)
        self.assertIn("headline:spsc_ring throughput / atomic_queue", ids)
        self.assertFalse(any(i.startswith("floor_ratio:round_trip/peer") for i in ids), "peers are not gated")

    def test_every_file_carries_the_fingerprint(self):
        commit = self.report["host"]["commit"]
        with open(os.path.join(self.folder, "matrix.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn(commit, md)
        self.assertIn("library build: debug", md, "the Debian Google Benchmark's build type is recorded")
        with open(os.path.join(self.folder, "matrix.csv"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertTrue(any(commit in line for line in lines if line.startswith("#")))
        rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
        self.assertEqual(len(rows), len(self.report["rows"]))
        hgrms = [r["hgrm"] for r in self.report["rows"] if r.get("hgrm")]
        self.assertTrue(hgrms)
        for rel in hgrms:
            with open(os.path.join(self.folder, rel), encoding="utf-8") as f:
                text = f.read()
            self.assertTrue(text.startswith("       Value     Percentile TotalCount 1/(1-Percentile)"))
            self.assertIn(commit, text)
        for r in self.report["rows"]:
            self.assertTrue(os.path.exists(os.path.join(self.folder, r["raw"])), r["raw"])

    def test_the_markdown_has_a_table_per_kind(self):
        with open(os.path.join(self.folder, "matrix.md"), encoding="utf-8") as f:
            md = f.read()
        for title in ("## What to pick", "### spsc: throughput", "### spsc: round trip",
                      "### spsc: one-way latency (paced, CO corrected) at 10,000 events/s", "### spsc: idle price",
                      "## The floor, probed around every row", "## Headline ratios"):
            self.assertIn(title, md)


class Interrupted(unittest.TestCase):
    def test_ctrl_c_leaves_the_rows_done_so_far_valid(self):
        with tempfile.TemporaryDirectory() as out:
            proc = subprocess.Popen(matrix_command(out), env=dict(os.environ, FAKE_SLEEP="0.15"),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            deadline = time.monotonic() + 120
            done = 0
            while done < 3 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
                try:
                    folder = os.path.join(out, os.listdir(out)[0])
                    done = len(load(folder)["rows"])
                except (OSError, IndexError, ValueError, KeyError):
                    pass
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
            proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 130)
            rep = load(folder)
            self.assertEqual(schema.validate(rep), [])
            self.assertTrue(rep["interrupted"])
            self.assertFalse(rep["complete"])
            self.assertGreaterEqual(len(rep["rows"]), 3)
            with open(os.path.join(folder, "matrix.md"), encoding="utf-8") as f:
                self.assertIn("Interrupted", f.read())


class Selection(unittest.TestCase):
    ROWS = [{"name": "throughput/a/busy_spin_wait", "threads": 2, "wait": "busy_spin_wait"},
            {"name": "throughput/a/yielding_wait", "threads": 2, "wait": "yielding_wait"},
            {"name": "throughput/a/busy_spin_wait/consumers_3", "threads": 5, "wait": "busy_spin_wait"},
            {"name": "throughput/a/busy_spin_wait/capacity_1k", "threads": 2, "wait": "busy_spin_wait",
             "full_only": True}]

    def names(self, mode, cpus=2, pattern=""):
        import matrix
        return [r["name"] for r in matrix.select_rows(self.ROWS, mode, cpus, pattern)]

    def test_each_mode_measures_its_set(self):
        self.assertEqual(self.names("quick"), ["throughput/a/busy_spin_wait"])
        self.assertEqual(self.names("default"), [r["name"] for r in self.ROWS[:3]])
        self.assertEqual(self.names("full"), [r["name"] for r in self.ROWS])

    def test_a_filter_reaches_a_full_only_row(self):
        self.assertEqual(self.names("default", pattern="capacity"), ["throughput/a/busy_spin_wait/capacity_1k"])


class Analysis(unittest.TestCase):
    def test_a_probe_takes_the_best_repetition(self):
        runs = [{"name": "floor/cacheline_round_trip/real_time", "run_type": "iteration", "real_time": t,
                 "time_unit": "ns"} for t in (400.0, 61.0, 2e6)]
        self.assertEqual(analysis.probe({"benchmarks": runs})["cacheline_rtt_ns"], 61.0)

    def test_a_moving_floor_is_flagged(self):
        self.assertTrue(analysis.floor_moved({"cacheline_rtt_ns": 60}, {"cacheline_rtt_ns": 420}))
        self.assertFalse(analysis.floor_moved({"cacheline_rtt_ns": 60}, {"cacheline_rtt_ns": 62}))
        self.assertIsNone(analysis.floor_moved(None, {"cacheline_rtt_ns": 62}))

    def test_summaries_use_iterations_not_aggregates(self):
        data = {"benchmarks": [
            {"name": "x", "run_type": "iteration", "real_time": 10.0, "time_unit": "us", "p99_ns": 5.0},
            {"name": "x", "run_type": "iteration", "real_time": 30.0, "time_unit": "us", "p99_ns": 7.0},
            {"name": "x", "run_type": "aggregate", "aggregate_name": "mean", "real_time": 999.0, "time_unit": "us"}]}
        s = analysis.summarize(data)
        self.assertEqual(s["repetitions"], 2)
        self.assertEqual(s["metrics"]["real_time_ns"]["median"], 20000.0)
        self.assertEqual(s["metrics"]["p99_ns"]["max"], 7.0)

    def test_an_error_is_a_row_with_its_message(self):
        data = {"benchmarks": [{"name": "x", "run_type": "iteration", "error_occurred": True,
                                "error_message": "boom", "real_time": 0, "time_unit": "ns"}]}
        self.assertEqual(analysis.summarize(data), {"error": "boom"})

    def test_the_schema_catches_a_missing_field(self):
        with tempfile.TemporaryDirectory() as out:
            rc, folder, output = run_matrix(out, extra=("--filter", "idle/"))
            self.assertEqual(rc, 0, output)
            rep = load(folder)
            self.assertEqual(schema.validate(rep), [])
            del rep["rows"][0]["floor_before"]
            self.assertTrue(any("floor_before" in p for p in schema.validate(rep)))
            report.write(load(folder), folder)  # a rewrite of a valid report stays valid
            self.assertEqual(schema.validate(load(folder)), [])


if __name__ == "__main__":
    unittest.main()
