"""Callback types for long work, shared by the CLI, the app's workers and the tests.

Core loops take ``on_progress(fraction, message)`` and ``should_stop() -> bool`` and check the
latter between batches. Both default to doing nothing, so a plain call just runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

ProgressFn = Callable[[float, str], None]
StopFn = Callable[[], bool]


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores everything."""


def never_stop() -> bool:
    """A stop callback that never asks to stop."""
    return False


class Cancelled(Exception):
    """Raised inside a core loop when ``should_stop()`` returned True; callers catch it."""


class Throttle:
    """Pass at most ``rate`` progress reports per second on, plus the final one (fraction 1)."""

    def __init__(self, on_progress: ProgressFn, rate: float = 5.0):
        self._fn = on_progress
        self._interval = 1.0 / rate
        self._last = -1e9

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last >= self._interval:
            self._last = now
            self._fn(fraction, message)
