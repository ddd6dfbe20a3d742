"""The ViSQOL child process: scores pairs of signals sent over a pipe, at low priority.

ViSQOL is seconds of pure-Python and numpy work per clip; in a thread of the app it would hold
the GIL for much of that and stall live edits. This module imports no Qt, so the spawned child
starts with numpy, soxr and visqol-python only.

Messages to the child are ``(ref, est, sample_rate)`` (or None to stop); replies are
``("ok", score)`` or ``("failed", message)``.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any


def serve(conn: Any) -> None:
    """Child-process entry point (module level so ``spawn`` can pickle it)."""
    with contextlib.suppress(OSError):
        os.nice(5)  # the app's own threads come first
    from core.audio.visqol import visqol
    from core.errors import CelaeError

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        ref, est, sample_rate = message
        try:
            reply = ("ok", visqol(ref, est, sample_rate))
        except (CelaeError, ValueError) as err:
            reply = ("failed", str(err))
        try:
            conn.send(reply)
        except OSError:  # the app dropped the score (or closed) while it was computed
            return
