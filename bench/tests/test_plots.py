"""scripts/plots draws every figure from a report's files, with the fingerprint in each PNG."""
import os
import subprocess
import tempfile
import unittest

from matrix_fixture import PYTHON, ROOT, load, run_matrix

PLOTS = os.path.join(ROOT, "scripts", "plots")


class Plots(unittest.TestCase):
    def test_every_plot_is_drawn_from_the_report(self):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.skipTest("python3-matplotlib is not installed")
        with tempfile.TemporaryDirectory() as out:
            rc, folder, output = run_matrix(out)
            self.assertEqual(rc, 0, output)
            done = subprocess.run([PYTHON, PLOTS, folder], capture_output=True, text=True)
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
            names = sorted(os.listdir(os.path.join(folder, "plots")))
            self.assertEqual(names, ["batch.png", "batch_max.png", "cpu_vs_p99.png",
                                     "latency_spsc.png", "overload.png", "throughput.png"])
            commit = load(folder)["host"]["commit"]
            for name in names:
                with open(os.path.join(folder, "plots", name), "rb") as f:
                    data = f.read()
                self.assertTrue(data.startswith(b"\x89PNG"), name)
                self.assertIn(commit.encode(), data, f"{name} carries the fingerprint in its metadata")

    def test_a_folder_without_a_report_is_an_error(self):
        with tempfile.TemporaryDirectory() as out:
            done = subprocess.run([PYTHON, PLOTS, out], capture_output=True, text=True)
            self.assertEqual(done.returncode, 2)


if __name__ == "__main__":
    unittest.main()
