"""scripts/compare: an identical rerun passes, a planted 30% regression fails, noise derived
from repetitions widens the margin, flagged rows are never gated, instruction counts gate on
their own margin, and --gate narrows what fails the run to the kinds it names."""
import copy
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import tempfile
import unittest

from matrix_fixture import PYTHON, ROOT, load, run_matrix

COMPARE = os.path.join(ROOT, "scripts", "compare")


def regressed(out, gate):
    return re.search(r"^REGRESSION\s+" + re.escape(gate) + r"\s", out, re.MULTILINE) is not None


def compare(base, new, *extra):
    done = subprocess.run([PYTHON, COMPARE, base, new, *extra], capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


class CompareRuns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        runs = {"base": {}, "rerun": {}, "slower": {"FAKE_SCALE": "spsc_ring=1.3"},
                "noisy": {"FAKE_SCALE": "spsc_ring=1.3", "FAKE_NOISE": "0.5"}}
        cls.folders = {}
        for name, env in runs.items():
            rc, folder, output = run_matrix(os.path.join(cls.tmp.name, name), env)
            assert rc == 0, output
            cls.folders[name] = folder

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_an_identical_rerun_passes(self):
        rc, out = compare(self.folders["base"], self.folders["rerun"])
        self.assertEqual(rc, 0, out)
        self.assertIn("0 present in one report only", out)

    def test_a_planted_30_percent_regression_fails(self):
        rc, out = compare(self.folders["base"], self.folders["slower"])
        self.assertEqual(rc, 1, out)
        for gate in ("peer_ratio:throughput/spsc_ring/busy_spin_wait", "floor_ratio:round_trip/spsc_ring/busy_spin_wait",
                     "floor_ratio:one_way/spsc_ring/busy_spin_wait/rate_10k",
                     "headline:spsc_ring throughput / atomic_queue"):
            self.assertTrue(regressed(out, gate), gate + "\n" + out)

    def test_the_reverse_change_is_an_improvement_not_a_failure(self):
        rc, out = compare(self.folders["slower"], self.folders["base"])
        self.assertEqual(rc, 0, out)
        self.assertIn("improved", out)

    def test_noise_between_repetitions_widens_the_margin(self):
        # The same 30% slowdown, but the repetitions of NEW disagree by 50%: not provable.
        _, out = compare(self.folders["base"], self.folders["noisy"])
        self.assertFalse(regressed(out, "peer_ratio:throughput/spsc_ring/busy_spin_wait"), out)
        self.assertFalse(regressed(out, "floor_ratio:round_trip/spsc_ring/busy_spin_wait"), out)

    def test_a_regression_that_shows_again_on_recheck_fails(self):
        with tempfile.TemporaryDirectory() as out:
            rc, folder, output = run_matrix(out, {"FAKE_SCALE": "spsc_ring=1.3"}, ("--recheck", self.folders["base"]))
            self.assertEqual(rc, 0, output)
            self.assertIn("throughput/spsc_ring/busy_spin_wait", load(folder)["rechecked"])
            rc, out_text = compare(self.folders["base"], folder)
            self.assertEqual(rc, 1, out_text)
            self.assertTrue(regressed(out_text, "floor_ratio:round_trip/spsc_ring/busy_spin_wait"), out_text)

    def test_a_slowdown_that_does_not_show_again_is_unconfirmed(self):
        with tempfile.TemporaryDirectory() as out:
            env = {"FAKE_SCALE": "spsc_ring=1.3", "FAKE_ONCE": os.path.join(out, "seen")}
            rc, folder, output = run_matrix(os.path.join(out, "m"), env, ("--recheck", self.folders["base"]))
            self.assertEqual(rc, 0, output)
            rc, out_text = compare(self.folders["base"], folder)
            self.assertEqual(rc, 0, out_text)
            self.assertRegex(out_text, r"unconfirmed\s+floor_ratio:round_trip/spsc_ring/busy_spin_wait")

    def test_a_report_root_resolves_to_this_hosts_folder(self):
        rc, out = compare(os.path.dirname(self.folders["base"]), os.path.join(self.folders["rerun"], "matrix.json"))
        self.assertEqual(rc, 0, out)

    def test_unreadable_input_is_exit_2(self):
        rc, out = compare(self.tmp.name, self.folders["base"])
        self.assertEqual(rc, 2, out)

    def test_a_gate_on_other_kinds_prints_the_regression_and_passes(self):
        rc, out = compare(self.folders["base"], self.folders["slower"], "--gate", "icount")
        self.assertEqual(rc, 0, out)
        self.assertTrue(regressed(out, "peer_ratio:throughput/spsc_ring/busy_spin_wait"), out)
        self.assertIn("of kinds not gated (gating on icount only)", out)
        rc, out = compare(self.folders["base"], self.folders["slower"], "--gate", "icount,peer_ratio")
        self.assertEqual(rc, 1, out)

    def test_an_unknown_gate_kind_is_exit_2(self):
        rc, out = compare(self.folders["base"], self.folders["rerun"], "--gate", "icounts")
        self.assertEqual(rc, 2, out)
        self.assertIn("unknown gate kind(s) icounts", out)


class CompareGates(unittest.TestCase):
    """compare() on reports whose gates are set by hand."""

    def setUp(self):
        with tempfile.TemporaryDirectory() as out:
            rc, folder, output = run_matrix(out, extra=("--filter", "idle/"))
            self.assertEqual(rc, 0, output)
            self.base = load(folder)
        loader = importlib.machinery.SourceFileLoader("compare_script", COMPARE)
        self.mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
        loader.exec_module(self.mod)
        self.base["gates"] = [
            {"id": "icount:spsc_ring.try_push_pop", "value": 42.0, "better": "lower", "noise": 0.0,
             "instructions": True, "flagged": False},
            {"id": "floor_ratio:round_trip/x", "value": 1.1, "better": "lower", "noise": 0.02, "flagged": False},
            {"id": "idle:idle/x/blocking_wait", "value": 0.001, "better": "lower", "noise": 0.0, "absolute": True,
             "flagged": False}]

    def changed(self, gate_id, value, **extra):
        new = copy.deepcopy(self.base)
        for g in new["gates"]:
            if g["id"] == gate_id:
                g["value"] = value
                g.update(extra)
        return new

    def test_instruction_counts_gate_beyond_their_margin(self):
        _, regressions = self.mod.compare(self.base, self.changed("icount:spsc_ring.try_push_pop", 42.0 * 1.3))
        self.assertEqual(regressions, 1)
        _, regressions = self.mod.compare(self.base, self.changed("icount:spsc_ring.try_push_pop", 42.5))
        self.assertEqual(regressions, 0, "1% more instructions is inside the 2% margin")

    def test_a_gate_on_instruction_counts_fails_on_them_alone(self):
        icount_only = {"icount"}
        _, regressions = self.mod.compare(self.base, self.changed("floor_ratio:round_trip/x", 5.0),
                                          gate_kinds=icount_only)
        self.assertEqual(regressions, 0, "a ratio regression does not fail an icount-only gate")
        _, regressions = self.mod.compare(self.base, self.changed("icount:spsc_ring.try_push_pop", 42.0 * 1.3),
                                          gate_kinds=icount_only)
        self.assertEqual(regressions, 1, "3 in 10 more instructions per event")

    def test_instruction_counts_of_another_compiler_are_not_compared(self):
        new = self.changed("icount:spsc_ring.try_push_pop", 42.0 * 1.3)
        new["host"]["compiler"] = "another compiler"
        lines, regressions = self.mod.compare(self.base, new)
        self.assertEqual(regressions, 0)
        self.assertTrue(any("different compilers" in line for line in lines))

    def test_a_flagged_row_is_never_gated(self):
        _, regressions = self.mod.compare(self.base, self.changed("floor_ratio:round_trip/x", 5.0, flagged=True))
        self.assertEqual(regressions, 0)
        _, regressions = self.mod.compare(self.base, self.changed("floor_ratio:round_trip/x", 5.0))
        self.assertEqual(regressions, 1)

    def test_idle_cpu_gates_on_an_absolute_margin(self):
        _, regressions = self.mod.compare(self.base, self.changed("idle:idle/x/blocking_wait", 0.03))
        self.assertEqual(regressions, 0, "0.1% to 3% of a core is inside the 5-point margin")
        _, regressions = self.mod.compare(self.base, self.changed("idle:idle/x/blocking_wait", 0.4))
        self.assertEqual(regressions, 1, "a blocking wait that stopped parking")


if __name__ == "__main__":
    unittest.main()
