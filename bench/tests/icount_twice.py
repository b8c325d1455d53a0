#!/usr/bin/python3
"""Counts three kernels twice under callgrind and fails unless the counts are identical: the
property that lets scripts/compare gate on instruction counts with a margin of 2%.

Usage: icount_twice.py PATH/ringlab-bench-icount
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from matrixlib import runner  # noqa: E402


def main():
    binary = sys.argv[1]
    failures = 0
    for kernel in ("spsc_ring.try_push_pop", "mpsc_ring.blocking_wait.push_pop",
                   "ring_buffer.multi_producer.blocking_wait.next_publish_poll"):
        first, second = (runner.count_instructions(binary, kernel, 6400) for _ in range(2))
        print(f"{kernel}: {first.get('instructions')} then {second.get('instructions')}")
        if "error" in first or first.get("instructions") != second.get("instructions"):
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
