"""Progress display for the command line: a bar on a terminal, sparse lines in a log.

Progress always goes to stderr so that ``--json`` output on stdout stays machine-readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """A ``ProgressFn`` that draws ``[#####-----]  42%  message  ETA 0:12`` on stderr.

    On a terminal the bar is redrawn in place at most ten times a second; otherwise (CI logs,
    pipes) one line is written every ``log_interval`` seconds and at the end. ``quiet`` turns it
    off entirely.
    """

    def __init__(self, label: str = "", *, stream: TextIO | None = None, quiet: bool = False,
                 log_interval: float = 5.0):
        self.label = label
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._interval = 0.1 if self.tty else log_interval
        self._start = time.monotonic()
        self._last = -1e9
        self._open = False

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.quiet:
            return
        now = time.monotonic()
        done = fraction >= 1.0
        if not done and now - self._last < self._interval:
            return
        self._last = now
        fraction = min(max(fraction, 0.0), 1.0)
        elapsed = now - self._start
        eta = ""
        if 0.02 < fraction < 1.0 and "ETA" not in message:  # the trainer gives its own
            eta = f"  ETA {_clock(elapsed * (1 - fraction) / fraction)}"
        width = 24
        filled = int(round(width * fraction))
        text = (f"{self.label}[{'#' * filled}{'-' * (width - filled)}] {fraction * 100:5.1f}%  "
                f"{message}{eta}")
        if self.tty:
            self.stream.write("\r" + text[:160].ljust(100))
            self._open = True
            if done:
                self.stream.write("\n")
                self._open = False
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line if it is still open (after an error or a cancel)."""
        if self._open and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
