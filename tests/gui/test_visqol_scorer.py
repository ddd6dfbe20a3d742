"""The ViSQOL child process: closing the app never waits for a score, even a stuck one."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import numpy as np
import pytest

from core.constants import SAMPLE_RATE
from core.errors import CelaeError

pytestmark = pytest.mark.slow


def noisy_pair(seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    ref = (0.4 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(t.size))
    est = ref + 0.02 * rng.standard_normal(t.size)
    return ref.astype(np.float32), est.astype(np.float32)


def score_in_thread(scorer, ref, est) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = scorer.score(ref, est, lambda: False)
        except CelaeError as err:
            outcome["error"] = str(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def close_in_time(scorer, limit_s: float) -> float:
    """Seconds ``scorer.close()`` took; fails when it has not returned within ``limit_s``."""
    done: dict = {}
    start = time.monotonic()
    closer = threading.Thread(target=lambda: done.setdefault("ok", scorer.close()), daemon=True)
    closer.start()
    closer.join(limit_s)
    assert not closer.is_alive(), f"close() still waiting after {limit_s} s"
    assert done["ok"]
    return time.monotonic() - start


def test_closing_during_a_long_score_stops_it_at_once():
    from celae_gui.workers.visqol_worker import VisqolScorer

    scorer = VisqolScorer()
    ref, est = noisy_pair(12.0, seed=1)  # some 12 s of ViSQOL work in the child
    thread, outcome = score_in_thread(scorer, ref, est)
    time.sleep(2.0)
    assert close_in_time(scorer, limit_s=3.0) < 3.0
    thread.join(3.0)
    assert not thread.is_alive()
    assert outcome == {"error": "the ViSQOL process was closed"}
    with pytest.raises(CelaeError, match="closed"):
        scorer.score(ref[:SAMPLE_RATE], est[:SAMPLE_RATE], lambda: False)


def test_a_child_that_stops_reading_does_not_hold_the_close():
    from celae_gui.workers.visqol_worker import VisqolScorer

    scorer = VisqolScorer()
    short_ref, short_est = noisy_pair(1.2, seed=2)
    first = scorer.score(short_ref, short_est, lambda: False)
    assert 1.0 <= first <= 5.0
    # The child stops (as if wedged): a clip of megabytes then blocks on the full pipe.
    pid = scorer._process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        ref, est = noisy_pair(30.0, seed=3)
        thread, outcome = score_in_thread(scorer, ref, est)
        time.sleep(0.5)
        assert thread.is_alive() and not outcome
        assert close_in_time(scorer, limit_s=8.0) < 8.0
        thread.join(3.0)
        assert not thread.is_alive()
        assert outcome == {"error": "the ViSQOL process was closed"}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_child_whose_score_was_dropped_exits_quietly():
    # The app closes its end while a score is computed (a stale score, the window closing): the
    # child must end cleanly, not print a BrokenPipeError traceback on the user's terminal.
    import multiprocessing

    from celae_gui.workers.visqol_child import serve

    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    process = context.Process(target=serve, args=(child,), daemon=True)
    process.start()
    child.close()
    ref, est = noisy_pair(3.0, seed=4)
    conn.send((ref, est, SAMPLE_RATE))
    conn.close()
    process.join(60)
    assert not process.is_alive()
    assert process.exitcode == 0
