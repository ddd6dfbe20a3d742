"""Whole-song edits in the app (offscreen): slider move to edited audio heard, and stalls.

A 10-minute song (synthesised in a temp folder) is opened in the main window with the bundled
default model (``--model`` another), "Whole song" is ticked, and the scale slider is moved
``--iterations`` times, the play head at a different place each time. For each move:

- heard: from the slider's value change to the edited audio at the play head being in the
  player (``PlaybackController.share_live``; with no sound device, the moment it would be);
- complete: to the whole edited song in the state (plots, figures, export);
- stall: the longest gap of a 5 ms GUI timer from the move to completion.

Then, per bundled model and block size, live input through :class:`core.models.live.LiveEngine`:
algorithmic latency (block + measured receptive context, before the sound device's buffers)
and compute real-time factor (median over 30 blocks, one torch thread).

Prints median, p95 and worst; the load average beside them (a busy machine makes every figure
worse). ``--json`` prints one JSON object last. ``--events`` says what each move's worst gap was
made of (``scripts/event_timer.py``): the GUI thread's time on a core, waiting for one and
asleep, the GUI events delivered in it with their CPU time, any long hold of the interpreter
lock with every thread's frames, and the garbage collections in it. The timing override of
``QApplication.notify`` costs every event a Python call: read its figures as a diagnosis, not as
the stall a user sees.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TMP = Path(tempfile.mkdtemp(prefix="celae-bench-live-"))
os.environ.setdefault("CELAE_SETTINGS_ORG", "celae-bench")
os.environ.setdefault("CELAE_USER_MODELS_DIR", str(TMP / "user-models"))
os.environ.setdefault("CELAE_CACHE_DIR", str(TMP / "cache"))

import numpy as np  # noqa: E402

from scripts.bench_gui import model_folder, percentile, write_song  # noqa: E402


def run(iterations: int, model: str | None, minutes: float, events: bool = False) -> dict:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from celae_gui.main_window import MainWindow

    if events:
        from scripts.event_timer import Collections, LockWatch, TimedApplication

        app = TimedApplication([], threshold_ms=8.0)
        watch, collections = LockWatch(), Collections()
    else:
        app = QApplication.instance() or QApplication([])
    song = write_song(TMP / "song-10min.wav", minutes * 60, 220.0)
    win = MainWindow()
    win.show()

    def wait_for(signal, timeout_ms=300_000, check=lambda *a: True):
        loop = QEventLoop()
        got = []

        def on(*args):
            if check(*args):
                got.append(args)
                loop.quit()

        signal.connect(on)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        signal.disconnect(on)
        if not got:
            raise SystemExit(f"timed out waiting for {signal}")
        return got[0]

    win.start([song], model or model_folder())
    wait_for(win.state.source_changed, check=lambda k: k == "edited")
    win.library_panel.whole_song.setChecked(True)
    wait_for(win.state.source_changed, check=lambda k: k == "edited")
    assert win.state.window.whole_song and len(win.state.latents.z) > 100

    clock = QElapsedTimer()
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    sched: list[tuple[int, int]] = []
    if events:
        # The GUI thread's CPU time and its time waiting for a core (Linux schedstat, ns):
        # across a gap, what is neither was time asleep (the interpreter lock, a mutex).
        stat = f"/proc/self/task/{threading.get_native_id()}/schedstat"

        def tick_sched() -> None:
            with open(stat) as f:
                run_ns, delay_ns, _ = f.read().split()
            sched.append((int(run_ns), int(delay_ns)))

        timer.timeout.connect(tick_sched)
    heard, complete, stalls = [], [], []
    marks: dict[str, float] = {}
    # The moment the worker handed the audio to the player (its signal reaches this thread
    # later when the GUI thread is busy; the player reads the buffer without it).
    win.controller.live.heard.connect(
        lambda _s: marks.setdefault("heard", win.controller.live.heard_at))
    rng = np.random.default_rng(0)
    for i in range(iterations):
        # The play head somewhere in the song (the player's position when no device plays).
        position = float(rng.uniform(0, minutes * 60 - 10))
        win.controller._live_position = lambda p=position: p
        marks.clear()
        clock.start()
        ticks.clear()
        sched.clear()
        timer.start()
        t0 = time.perf_counter()
        if events:
            app.slow.clear()
            app.recording = True
            watch.late.clear()
            watch.start()
            collections.done.clear()
            collections.recording = True
        win.edit_panel.set_value("scale", 1.0 + 0.05 * (i + 1))
        wait_for(win.controller.live.edited)
        done = time.perf_counter()
        timer.stop()
        if events:
            app.recording = collections.recording = False
            watch.stop()
        heard.append(1000 * (marks["heard"] - t0))
        complete.append(done - t0)
        gaps = np.diff([0, *ticks]) if ticks else np.array([0])
        stalls.append(float(gaps.max()))
        print(f"  move {i + 1}: heard {heard[-1]:.1f} ms, complete {complete[-1]:.2f} s, "
              f"worst stall {stalls[-1]:.0f} ms", flush=True)
        if events:
            # The deliveries that overlap the worst gap, then the slowest of the move.
            end = int(np.argmax(gaps))
            gap_end = t0 + ticks[end] / 1000 if end < len(ticks) else done
            gap_start = gap_end - gaps[end] / 1000
            cpu = delay = float("nan")
            if 0 < end < len(sched):
                cpu = (sched[end][0] - sched[end - 1][0]) / 1e6
                delay = (sched[end][1] - sched[end - 1][1]) / 1e6
            print(f"    worst gap {gap_start - t0:.2f}-{gap_end - t0:.2f} s after the move: GUI "
                  f"thread {cpu:.1f} ms on a core, {delay:.1f} ms waiting for one, "
                  f"{gaps[end] - cpu - delay:.1f} ms asleep; deliveries in it:", flush=True)
            for line in (app.report(gap_start - 0.2, gap_end) + watch.report(gap_start, gap_end)
                         + collections.report(gap_start, gap_end)):
                print(f"      {line}", flush=True)
    win.close()
    app.processEvents()
    return {"minutes": minutes, "iterations": iterations,
            "heard_ms_median": round(float(np.median(heard)), 1),
            "heard_ms_p95": round(percentile(heard, 95), 1),
            "complete_s_median": round(float(np.median(complete)), 2),
            "stall_ms_worst": round(max(stalls), 1),
            "stall_ms_median": round(float(np.median(stalls)), 1),
            "load_average": round(os.getloadavg()[0], 2)}


def live_input(blocks=(256, 512, 1024, 2048, 4096, 8192)) -> list[dict]:
    import torch

    from core.models.io import list_models, load_model
    from core.models.live import measure_live

    torch.set_num_threads(1)
    rows = []
    for name in [m.name for m in list_models() if m.source == "bundled"]:
        loaded = load_model(name)
        for block in blocks:
            r = measure_live(loaded.model, block, loaded.model.sample_rate, blocks=30)
            rows.append({"model": name, "block": block, "latency_ms": round(r.latency_ms, 1),
                         "real_time_factor": round(r.real_time_factor, 3),
                         "keeps_up": r.keeps_up})
            print(f"  live {name} block {block}: latency {r.latency_ms:.1f} ms, compute "
                  f"real-time factor {r.real_time_factor:.3f}"
                  f"{'' if r.keeps_up else ' (cannot keep up)'}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--model", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=["song", "input"], default=None)
    parser.add_argument("--events", action="store_true",
                        help="print each move's slowest GUI events, with the GUI thread's CPU "
                             "time in them (scripts/event_timer.py)")
    parser.add_argument("--switch-interval", type=float, default=None, metavar="MS",
                        help="the interpreter's thread switch interval (default: the app's)")
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000)
    try:
        result = {} if args.only == "input" else run(args.iterations, args.model, args.minutes,
                                                     args.events)
        if args.only != "song":
            result["live_input"] = live_input()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    if args.only == "input":
        print(json.dumps(result) if args.json else "")
        return 0
    print(f"slider to heard (whole {result['minutes']:g}-minute song): median "
          f"{result['heard_ms_median']} ms, p95 {result['heard_ms_p95']} ms (target <= 50 ms)")
    print(f"slider to whole song rendered: median {result['complete_s_median']} s")
    print(f"worst GUI stall {result['stall_ms_worst']} ms (median of the worst per move "
          f"{result['stall_ms_median']} ms; target <= 50 ms); load average "
          f"{result['load_average']}")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
