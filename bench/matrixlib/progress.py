"""Progress with an ETA: a bar redrawn in place on a terminal, one plain line per step in CI.

The ETA scales the remaining steps' estimated seconds by how the finished steps compared
with their estimates, so a slow machine corrects the estimate as the run goes.
"""
import sys
import time


def clock(seconds):
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    def __init__(self, estimates, stream=None, interactive=None):
        """estimates: seconds expected for each step, in order."""
        self.estimates = list(estimates)
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.done = 0
        self.started = time.monotonic()

    def eta(self):
        elapsed = time.monotonic() - self.started
        expected_done = sum(self.estimates[:self.done])
        remaining = sum(self.estimates[self.done:])
        scale = elapsed / expected_done if expected_done > 0 else 1.0
        return remaining * scale

    def step(self, what):
        self.done = min(self.done + 1, len(self.estimates))
        total = len(self.estimates)
        elapsed = time.monotonic() - self.started
        if self.interactive:
            width = 24
            filled = int(width * self.done / total) if total else width
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{total} {clock(elapsed)} ETA {clock(self.eta())} "
                              f"{what[:56]:<56}")
        else:
            self.stream.write(f"[{self.done}/{total}] {clock(elapsed)} ETA {clock(self.eta())} {what}\n")
        self.stream.flush()

    def finish(self):
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
