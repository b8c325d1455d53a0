"""Runs bench/matrix.py against tests/fake_bench.py (made-up, deterministic numbers)."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
FAKE = os.path.join(HERE, "fake_bench.py")
PYTHON = "/usr/bin/python3"
sys.path.insert(0, BENCH)


def matrix_command(out, *extra):
    return [PYTHON, os.path.join(BENCH, "matrix.py"), "--bench", FAKE, "--icount", "/nonexistent",
            "--out", out, "--quick", "--no-plots", *extra]


def run_matrix(out, env=None, extra=()):
    """Runs a quick matrix on the fake binary; returns (exit code, report folder)."""
    done = subprocess.run(matrix_command(out, *extra), capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))
    folders = [os.path.join(out, d) for d in os.listdir(out)] if os.path.isdir(out) else []
    return done.returncode, (folders[0] if folders else None), done.stdout + done.stderr


def load(folder):
    with open(os.path.join(folder, "matrix.json"), encoding="utf-8") as f:
        return json.load(f)
