"""ViSQOL of the shown sources, in the background after the other figures.

The controller keeps a :class:`VisqolQueue` of the scores it still wants (each with a key naming
song, window, model, bit depth and edit); one :class:`VisqolWorker` at a time takes them in
order and scores them in a child process (:mod:`celae_gui.workers.visqol_child`). A score that is
no longer wanted when it is being computed is abandoned at once: the child is killed rather than
left to burn seconds of CPU on a stale clip, and a fresh one starts for the next score.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from celae_gui.workers.base import BaseWorker, TaskSlot
from core.constants import SAMPLE_RATE
from core.errors import CelaeError


@dataclass(frozen=True)
class VisqolJob:
    """Score ``est[T]`` against ``ref[T]``; the result is shown as ``kind`` if ``key`` is still
    current."""

    key: Hashable
    kind: str
    ref: np.ndarray
    est: np.ndarray


class VisqolQueue:
    """The scores still wanted, in order (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs: list[VisqolJob] = []

    def set_wanted(self, jobs: list[VisqolJob]) -> None:
        """Replace what is wanted (jobs left out become stale)."""
        with self._lock:
            self._jobs = list(jobs)

    def next(self) -> VisqolJob | None:
        with self._lock:
            return self._jobs[0] if self._jobs else None

    def is_wanted(self, key: Hashable) -> bool:
        with self._lock:
            return any(j.key == key for j in self._jobs)

    def done(self, key: Hashable) -> None:
        with self._lock:
            self._jobs = [j for j in self._jobs if j.key != key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)


class VisqolScorer:
    """The child process that computes ViSQOL, started on first use.

    One score at a time (``_lock``). :meth:`close` never waits for that lock: it kills the child
    first, so a score blocked on the pipe (a child that stopped reading) ends at once with an
    error instead of holding the app's shutdown forever.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._process = None
        self._conn = None
        self._closed = False

    def score(self, ref: np.ndarray, est: np.ndarray, abandon: Callable[[], bool]) -> float | None:
        """ViSQOL of one excerpt; None when ``abandon()`` turned true first (the child is killed).

        Raises
        ------
        CelaeError
            ViSQOL cannot score it (package missing, too short), the child died, or the scorer
            was closed.
        """
        with self._lock:
            if self._closed:
                raise CelaeError("the ViSQOL process was closed")
            if self._process is None or not self._process.is_alive():
                self._start()
            process, conn = self._process, self._conn
            try:
                conn.send((np.ascontiguousarray(ref), np.ascontiguousarray(est), SAMPLE_RATE))
                while not conn.poll(0.05):
                    if self._closed:
                        raise EOFError
                    if abandon():
                        self._kill()
                        return None
                    if not process.is_alive():
                        raise EOFError
                status, value = conn.recv()
            except (EOFError, OSError):
                self._kill()
                raise CelaeError("the ViSQOL process was closed" if self._closed else
                                 "the ViSQOL process stopped unexpectedly") from None
        if status == "failed":
            raise CelaeError(value)
        return float(value)

    def close(self, timeout_s: float = 10.0) -> bool:
        """Stop the child (from the GUI thread at shutdown); True when it is gone in time.

        The child is killed before the lock is taken: a score in progress then fails at once.
        """
        self._closed = True
        process = self._process
        if process is not None:
            with contextlib.suppress(AttributeError, OSError, ValueError):
                process.kill()
        if not self._lock.acquire(timeout=timeout_s):
            return False
        try:
            self._kill()
        finally:
            self._lock.release()
        return True

    def _start(self) -> None:
        from celae_gui.workers.visqol_child import serve

        context = multiprocessing.get_context("spawn")
        conn, child = context.Pipe()
        process = context.Process(target=serve, args=(child,), daemon=True, name="celae-visqol")
        try:
            process.start()
        except (OSError, RuntimeError) as err:
            conn.close()
            raise CelaeError(f"the ViSQOL process did not start ({err})") from None
        finally:
            child.close()
        self._process, self._conn = process, conn

    def _kill(self) -> None:
        """Stop the child and close the pipe (lock held)."""
        if self._process is not None:
            self._process.terminate()
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None


class VisqolWorker(BaseWorker):
    """Score the queue's jobs one by one; ``scored(key, kind, value)`` after each.

    ``value`` is the mean over the excerpts :func:`core.audio.visqol.plan_excerpts` picks (the
    whole window, or three 5 s clips of a long song), or None when ViSQOL cannot score it.
    """

    scored = Signal(object, str, object)

    def __init__(self, queue: VisqolQueue, scorer: VisqolScorer):
        super().__init__()
        self._queue = queue
        self._scorer = scorer

    def work(self):
        from core.audio.visqol import MIN_SECONDS, plan_excerpts

        while (job := self._queue.next()) is not None and not self.should_stop():
            n = min(len(job.ref), len(job.est))
            if n < MIN_SECONDS * SAMPLE_RATE or not np.any(job.ref[:n]):
                self._finish(job, None)
                continue
            starts, length, _scope = plan_excerpts(n, SAMPLE_RATE)
            scores = []
            for start in starts:
                try:
                    value = self._scorer.score(
                        job.ref[start:start + length], job.est[start:start + length],
                        lambda key=job.key: self.should_stop() or not self._queue.is_wanted(key))
                except CelaeError:
                    # Not this clip's fault (the package is missing, the child died): nothing
                    # else can be scored either.
                    self._queue.set_wanted([])
                    raise
                if value is None:
                    break
                scores.append(value)
            else:
                self._finish(job, float(np.mean(scores)))
        return None

    def _finish(self, job: VisqolJob, value: float | None) -> None:
        self._queue.done(job.key)
        self.scored.emit(job.key, job.kind, value)


CACHE_SIZE = 256
START_DELAY_MS = 1000
"""Scoring starts once the shown sources have rested this long (not during a slider drag)."""


class VisqolService(QObject):
    """Keeps the state's ViSQOL figures current: cached per song, window, model, bit depth and
    edit; missing ones scored in the background, in order recon, baseline, edit."""

    def __init__(self, state, parent: QObject | None = None):
        super().__init__(parent)
        self._state = state
        self._queue = VisqolQueue()
        self._scorer = VisqolScorer()
        self._slot = TaskSlot("visqol", self)
        self._cache: OrderedDict[Hashable, float | None] = OrderedDict()
        self._current: dict[str, Hashable] = {}
        self.error = ""
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(START_DELAY_MS)
        self._timer.timeout.connect(self._start_if_idle)

    def forget(self) -> None:
        """Nothing shown is wanted any more (a new reconstruction is coming)."""
        self._queue.set_wanted([])
        self._current = {}

    def request(self, baseline_audio: np.ndarray | None) -> None:
        """Show the cached scores of what the state shows and queue the missing ones."""
        state = self._state
        original, recon = state.audio("original"), state.source("recon")
        if (original is None or recon is None or state.model is None or self.error
                or self._closed):
            self.forget()
            return
        song = (str(state.current_path), state.window, str(state.model.path))
        base = (*song, state.latent_bits)
        wanted = [("recon", (*base, "recon"), recon.audio),
                  ("baseline", (*song, "baseline"), baseline_audio)]
        edited = state.source("edited")
        if edited is not None:
            identity = state.edit_params.is_identity
            wanted.append(("edited", (*base, "recon") if identity else
                           (*base, "edited", state.edit_params, str(state.other_path)),
                           recon.audio if identity else edited.audio))
        jobs: dict[Hashable, VisqolJob] = {}
        self._current = {}
        for kind, key, audio in wanted:
            if audio is None:
                continue
            self._current[kind] = key
            if key in self._cache:
                state.set_visqol(kind, self._cache[key])
            else:
                state.set_visqol(kind, math.nan)
                jobs.setdefault(key, VisqolJob(key, kind, original, audio))
        self._queue.set_wanted(list(jobs.values()))
        if jobs:
            self._timer.start()

    def shutdown(self) -> bool:
        """Cancel, stop the child process, join the thread; later requests are ignored (results
        of other tasks can still arrive after the window closed).

        The child goes first: a score blocked on its pipe then ends at once, so the join below
        never waits for a child that stopped answering."""
        self._closed = True
        self._queue.set_wanted([])
        self._timer.stop()
        closed = self._scorer.close()
        return self._slot.shutdown() and closed

    def _start_if_idle(self) -> None:
        if len(self._queue) and not self._slot.busy() and not self.error and not self._closed:
            worker = VisqolWorker(self._queue, self._scorer)
            worker.scored.connect(self._on_scored)
            worker.failed.connect(self._on_failed)
            worker.finished.connect(self._start_if_idle)
            self._slot.start(worker)

    def _on_scored(self, key: Hashable, _kind: str, value: float | None) -> None:
        self._cache[key] = value
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        for kind, current in self._current.items():
            if current == key:
                self._state.set_visqol(kind, value)

    def _on_failed(self, message: str) -> None:
        if self._closed:  # the child was stopped by shutdown(), not by a fault
            return
        self.error = message
        for kind in self._current:
            self._state.set_visqol(kind, None)
        self._state.info(f"ViSQOL is off: {message}")
