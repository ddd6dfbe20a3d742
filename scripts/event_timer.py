"""Which events hold the GUI thread: a ``QApplication`` that times every event it delivers.

``TimedApplication.notify`` records each delivery over ``threshold_ms`` with its wall time and
the GUI thread's own CPU time in it (``time.thread_time``). A delivery whose CPU time is close to
its wall time was the thread's own work (a paint, a slot); one whose CPU time is far below it
was waiting: for the interpreter lock held by another thread, a mutex, or a core the OS gave to
another process. Nested deliveries (an event loop inside a slot) are timed separately.

Used by ``scripts/bench_live.py --events`` and ``scripts/bench_switch.py --events``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class SlowEvent:
    """One delivery that took ``wall_ms`` (``cpu_ms`` of it on the GUI thread's own CPU)."""

    at: float
    wall_ms: float
    cpu_ms: float
    event: str
    receiver: str

    def line(self) -> str:
        waited = self.wall_ms - self.cpu_ms
        return (f"{self.wall_ms:6.1f} ms ({self.cpu_ms:5.1f} ms CPU, {waited:5.1f} waiting) "
                f"{self.event} -> {self.receiver}")


def _name(obj: QObject) -> str:
    try:
        name = obj.objectName() if isinstance(obj, QObject) else ""
    except RuntimeError:  # its C++ side is already gone
        name = "(deleted)"
    return f"{type(obj).__name__}{f' {name!r}' if name else ''}"


class TimedApplication(QApplication):
    """A ``QApplication`` whose :attr:`slow` lists the deliveries over ``threshold_ms``."""

    def __init__(self, argv: list[str], threshold_ms: float = 20.0):
        super().__init__(argv)
        self.threshold_ms = threshold_ms
        self.slow: list[SlowEvent] = []
        self.recording = False
        self._gui = threading.get_ident()

    def notify(self, receiver: QObject, event: QEvent) -> bool:
        # Workers' own event loops deliver through here too: only the GUI thread is timed.
        if not self.recording or threading.get_ident() != self._gui:
            return super().notify(receiver, event)
        # Named before the delivery: a DeferredDelete leaves no receiver to name after it.
        kind, who = event.type().name, _name(receiver)
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return super().notify(receiver, event)
        finally:
            wall_ms = 1000 * (time.perf_counter() - wall)
            if wall_ms >= self.threshold_ms:
                self.slow.append(SlowEvent(wall, wall_ms, 1000 * (time.thread_time() - cpu),
                                           kind, who))

    def report(self, t0: float, t1: float, limit: int = 6) -> list[str]:
        """The slowest deliveries that overlap ``t0``-``t1`` (perf_counter)."""
        inside = sorted((e for e in self.slow if e.at <= t1 and e.at + e.wall_ms / 1000 >= t0),
                        key=lambda e: -e.wall_ms)
        return [e.line() for e in inside[:limit]]


class Collections:
    """Every garbage collection while :attr:`recording`: start, milliseconds, generation and
    thread (a collection holds the interpreter lock, so any thread's stalls the GUI's)."""

    def __init__(self) -> None:
        import gc

        self.done: list[tuple[float, float, int, str]] = []
        self.recording = False
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if not self.recording:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.done.append((self._started, 1000 * (time.perf_counter() - self._started),
                              info["generation"], threading.current_thread().name))

    def report(self, t0: float, t1: float) -> list[str]:
        """The collections that overlap ``t0``-``t1``."""
        return [f"garbage collection {ms:.1f} ms, generation {gen}, thread {name}"
                for t, ms, gen, name in self.done if t <= t1 and t + ms / 1000 >= t0]


class LockWatch:
    """Finds who holds the interpreter lock for long: a thread that sleeps 1 ms at a time.

    When its sleep overruns by more than ``threshold_ms`` it could not get the lock back, so
    some thread held it through a long call into C; the moment it gets the lock it records
    every other thread's innermost frames, the holder's among them (just past that call).
    """

    def __init__(self, threshold_ms: float = 15.0):
        self.threshold_ms = threshold_ms
        self.late: list[tuple[float, float, dict[str, tuple[str, ...]]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        import sys
        import traceback
        from pathlib import Path

        me = threading.get_ident()
        names = {}
        while not self._stop.is_set():
            t = time.perf_counter()
            time.sleep(0.001)
            late_ms = 1000 * (time.perf_counter() - t) - 1.0
            if late_ms < self.threshold_ms:
                continue
            if not names or len(names) != threading.active_count():
                names = {th.ident: th.name for th in threading.enumerate()}
            stacks = {}
            for ident, frame in sys._current_frames().items():
                if ident != me:
                    stacks[names.get(ident, str(ident))] = tuple(
                        f"{Path(s.filename).name}:{s.lineno} {s.name}"
                        for s in traceback.extract_stack(frame)[-4:])
            self.late.append((t, late_ms, stacks))

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lock-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def report(self, t0: float, t1: float) -> list[str]:
        """Each overrun that overlaps ``t0``-``t1``, with the other threads' frames."""
        lines = []
        for t, late_ms, stacks in self.late:
            if t <= t1 and t + late_ms / 1000 >= t0:
                lines.append(f"lock held {late_ms:.0f} ms; threads then:")
                for name, stack in stacks.items():
                    lines.append(f"  {name}: {' <- '.join(reversed(stack))}")
        return lines
