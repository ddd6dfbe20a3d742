"""The window's longest stall while a 5-minute song switches to whole-song mode, then two slider
moves on it (offscreen, the bundled default model or ``--model``).

A 5 ms ``QTimer`` on the GUI thread records when it fires; the longest gap between two firings
from the action to the end of its work (plus a second for the figures that follow) is the stall
a user would feel. Prints one line per step with the load average (a busy machine makes every
figure worse), and the longest of the interpreter's garbage collections in it (a collection holds
the interpreter lock, so any thread's collection stalls the window's thread), when the stall
ended and which sources were set near it. ``--sample`` also samples the GUI thread's stack from a
second thread through the longest stall: stacks inside a paint mean drawing, a gap in the
sampler's own samples means something held the interpreter lock. One of two ``--sample`` runs on
2026-12-02 ended in a segmentation fault here, none of eleven runs without it did; the kernel
placed it in libshiboken6 (``Shiboken::Object::cppPointer`` reading address 0), not in
CPython's frame code, so it may as well be a race in the Qt bindings that the
sampler's timing exposed. Its cause is not established: treat a ``--sample`` crash as a finding.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TMP = Path(tempfile.mkdtemp(prefix="celae-bench-switch-"))
os.environ.setdefault("CELAE_SETTINGS_ORG", "celae-bench")
os.environ.setdefault("CELAE_USER_MODELS_DIR", str(TMP / "user-models"))
os.environ.setdefault("CELAE_CACHE_DIR", str(TMP / "cache"))

import numpy as np  # noqa: E402

from scripts.bench_gui import model_folder, write_song  # noqa: E402


class StackSampler:
    """Samples the GUI thread's Python stack every ``interval`` seconds from a second thread.

    If the sampler's own samples stop during a stall, something held the interpreter lock; if they
    go on, the GUI thread was busy and its stack says where.
    """

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.samples: list[tuple[float, tuple[str, ...]]] = []
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stack-sampler", daemon=True)

    def _run(self) -> None:
        import traceback

        while not self._stop.is_set():
            frame = sys._current_frames().get(self._main)
            stack = tuple(f"{Path(s.filename).name}:{s.lineno} {s.name}"
                          for s in traceback.extract_stack(frame)[-12:]) if frame else ()
            self.samples.append((time.perf_counter(), stack))
            time.sleep(self.interval)

    def start(self) -> None:
        self.samples.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stack-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def report(self, t0: float, t1: float) -> str:
        """The sampler's own longest gap and the GUI thread's stacks between ``t0`` and ``t1``."""
        inside = [(t, s) for t, s in self.samples if t0 <= t <= t1]
        times = [t0] + [t for t, _ in inside] + [t1]
        gap = max(np.diff(times)) * 1000 if len(times) > 1 else 0.0
        counts: dict[tuple[str, ...], int] = {}
        for _, stack in inside:
            counts[stack] = counts.get(stack, 0) + 1
        lines = [f"  sampler: {len(inside)} samples, its longest gap {gap:.0f} ms"]
        for stack, n in sorted(counts.items(), key=lambda kv: -kv[1])[:4]:
            lines.append(f"  {n} x " + " <- ".join(reversed(stack[-6:])))
        return "\n".join(lines)


def run(minutes: float, model: str | None, sampler: StackSampler | None = None,
        song: Path | None = None) -> list[dict]:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from celae_gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    if song is None:
        song = write_song(TMP / "song.wav", minutes * 60, 220.0)
    else:
        from core.audio.io import probe

        minutes = probe(song).duration / 60
    win = MainWindow()
    win.show()

    def wait(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def until(predicate, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise SystemExit("timed out")
            wait(0.02)

    whole = round(minutes * 60 * 22_050 * 0.9)
    win.start([song], model or model_folder())
    until(lambda: win.state.source("edited") is not None)
    wait(3.0)
    clock, ticks = QElapsedTimer(), []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    steps = (("whole song on", lambda: QTest.mouseClick(win.library_panel.whole_song,
                                                          Qt.MouseButton.LeftButton)),
             ("scale slider to 1.2", lambda: win.edit_panel.set_value("scale", 1.2)),
             ("scale slider to 1.4", lambda: win.edit_panel.set_value("scale", 1.4)))
    collections: list[tuple[int, float, str]] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            on_gc.t0 = time.perf_counter()
        elif hasattr(on_gc, "t0"):
            collections.append((info["generation"], (time.perf_counter() - on_gc.t0) * 1000,
                                threading.current_thread().name))

    gc.callbacks.append(on_gc)
    changes: list[tuple[float, str]] = []
    win.state.source_changed.connect(lambda kind: changes.append((clock.elapsed(), kind)))
    rows = []
    for label, action in steps:
        ticks.clear()
        collections.clear()
        changes.clear()
        clock.start()
        timer.start()
        t0 = time.perf_counter()
        if sampler is not None:
            sampler.start()
        action()
        wait(0.2)
        until(lambda: win.state.source("edited") is not None
              and len(win.state.audio("edited")) > whole)
        wait(1.0)
        timer.stop()
        if sampler is not None:
            sampler.stop()
        gaps = np.diff([0, *ticks])
        worst_end = ticks[int(np.argmax(gaps))] if len(ticks) else 0
        rows.append({"step": label, "wall_s": round(time.perf_counter() - t0, 1),
                     "stall_ms": int(gaps.max()), "stall_at_s": round(worst_end / 1000, 2),
                     "over_50_ms": int(np.sum(gaps > 50)),
                     "load_average": round(os.getloadavg()[0], 2)})
        worst = max(collections, key=lambda c: c[1], default=(0, 0.0, "-"))
        rows[-1]["longest_gc_ms"] = round(worst[1], 1)
        near = [f"{kind} at {ms / 1000:.2f}" for ms, kind in changes
                if abs(ms - worst_end) < 1000]
        print(f"{label}: {rows[-1]['wall_s']} s, longest stall {rows[-1]['stall_ms']} ms "
              f"(ending at {rows[-1]['stall_at_s']} s; sources set within 1 s of it: "
              f"{', '.join(near) or 'none'}), "
              f"{rows[-1]['over_50_ms']} over 50 ms, load {rows[-1]['load_average']}; "
              f"{len(collections)} garbage collections, longest {worst[1]:.0f} ms "
              f"(generation {worst[0]}, thread {worst[2]})", flush=True)
        if sampler is not None:
            end = int(np.argmax(gaps))
            stall_end = t0 + ticks[end] / 1000 if end < len(ticks) else t0
            print(sampler.report(stall_end - gaps[end] / 1000, stall_end), flush=True)
    win.close()
    app.processEvents()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--model", default=None)
    parser.add_argument("--song", type=Path, default=None,
                        help="a song of your own instead of the synthesised one (--minutes is "
                             "then its length)")
    parser.add_argument("--switch-interval", type=float, default=None, metavar="MS",
                        help="the interpreter's thread switch interval (default: Python's 5 ms)")
    parser.add_argument("--sample", action="store_true",
                        help="sample the GUI thread's stack during the longest stall (it crashed "
                             "once: see the module's docstring)")
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000)
    run(args.minutes, args.model, StackSampler() if args.sample else None, args.song)
    return 0


if __name__ == "__main__":
    sys.exit(main())
