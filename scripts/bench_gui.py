"""Benchmarks of the desktop app (offscreen): launch time, slider latency, event-loop stalls
during training, frame time while panning a 10-minute song.

Usage: python scripts/bench_gui.py [--iterations N] [--only PART ...] [--json]. Uses the
bundled default model when there is one, else an untrained CELAutoencoderSiLU with the demo
model's size (channels (4, 8), kernel 5: the same compute); songs are synthesised in a temp
folder. Prints one line per figure; with ``--json`` the last stdout line is one JSON object of
every figure (what ``make bench`` parses). The machine's load average is reported beside the
figures: on a busy machine every figure is worse, so compare runs made under similar load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TMP = Path(tempfile.mkdtemp(prefix="celae-bench-gui-"))
os.environ.setdefault("CELAE_SETTINGS_ORG", "celae-bench")
os.environ.setdefault("CELAE_USER_MODELS_DIR", str(TMP / "user-models"))
os.environ.setdefault("CELAE_CACHE_DIR", str(TMP / "cache"))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from core.constants import SAMPLE_RATE  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def write_song(path: Path, seconds: float, freq: float) -> Path:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    x = 0.5 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    x += 0.05 * np.random.default_rng(0).standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    return path


def model_folder() -> str:
    """The bundled default model, else an untrained CELAutoencoderSiLU saved under TMP."""
    from core.errors import ModelLoadError
    from core.models.io import resolve_model, save_model

    try:
        return str(resolve_model(None))
    except ModelLoadError:
        from core.models import build_model

        model = build_model("CELAutoencoderSiLU", channels=(4, 8), kernel_size=5)
        return str(save_model(model, TMP / "models" / "bench-silu-small"))


def bench_launch(runs: int = 3) -> list[float]:
    """Seconds from process start to the main window shown (a fresh interpreter each run)."""
    times = []
    env = dict(os.environ, CELAE_REPORT_STARTUP="1", PYTHONPATH=str(REPO))
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "celae_gui.app"], env=env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in proc.stdout:
            if line.startswith("window shown"):
                times.append(time.perf_counter() - start)
                break
        proc.terminate()
        proc.wait(timeout=30)
    return times


def wait(signal, predicate=lambda *a: True, timeout_ms: int = 60_000) -> None:
    """Run an event loop until ``signal`` fires with arguments satisfying ``predicate``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()

    def on_signal(*args):
        if predicate(*args):
            loop.quit()

    signal.connect(on_signal)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(on_signal)


def _paint_watch(widgets):
    """An event filter noting when each of ``widgets`` next finishes painting."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class PaintWatch(QObject):
        def __init__(self):
            super().__init__()
            self.armed = False
            self.painted: dict[int, float] = {}

        def eventFilter(self, obj, event):  # noqa: N802
            if self.armed and event.type() == QEvent.Type.Paint:
                key = id(obj)
                # Queued after the paint: runs once the widget has painted.
                QTimer.singleShot(0, lambda: self.painted.setdefault(key, time.perf_counter()))
            return False

    watch = PaintWatch()
    for widget in widgets:
        widget.installEventFilter(watch)
    return watch


def bench_sliders(window, iterations: int) -> tuple[list[float], list[float]]:
    """Milliseconds from a slider change to the edited audio ready for the player, and to the
    waveform and spectrogram views having painted it (the app's own repaint, none forced)."""
    viewports = [window.waveform_view.plot_widget.viewport(),
                 window.spectrogram_view.layout_widget.viewport()]
    watch = _paint_watch(viewports)
    ready, plotted = [], []
    marks = {}

    def on_ready(kind):
        if kind == "edited":
            marks.setdefault("ready", time.perf_counter())
            watch.painted.clear()
            watch.armed = True

    window.playback.sources_updated.connect(on_ready)
    for i in range(iterations):
        marks.clear()
        watch.armed = False
        value = 0.5 + (i % 20) / 20
        start = time.perf_counter()
        window.edit_panel.set_value("scale", value)
        wait(window.playback.sources_updated, lambda kind: "ready" in marks)
        # Every view painted the new data (the paint events were posted by setData/setImage).
        wait_until(lambda: len(watch.painted) == len(viewports))
        ready.append((marks["ready"] - start) * 1000)
        plotted.append((max(watch.painted.values()) - start) * 1000)
    window.playback.sources_updated.disconnect(on_ready)
    return ready, plotted


def wait_until(predicate, timeout_ms: int = 10_000) -> None:
    """Run the event loop until ``predicate()`` holds (checked every millisecond)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: loop.quit() if predicate() else None)
    timer.start()
    QTimer.singleShot(timeout_ms, loop.quit)
    if not predicate():
        loop.exec()
    timer.stop()


def bench_training_stall(window, dataset: Path) -> dict:
    """Gaps (ms) between 10 ms timer ticks while one training epoch runs (from Start to the
    dialog reporting the end: the trainer process's start-up included)."""
    from PySide6.QtCore import QTimer

    dialog = window.training_dialog
    dialog.generate_demo.setChecked(False)
    dialog.dataset.setText(str(dataset))
    dialog.epochs.setValue(1)
    dialog.batch_size.setValue(2)
    dialog.device.setCurrentText("cpu")
    dialog.model_name.setText(f"bench-train-{os.getpid()}")
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    start = time.perf_counter()
    dialog.start()
    wait(dialog.running_changed, lambda running: not running, timeout_ms=300_000)
    timer.stop()
    gaps = np.diff(ticks) * 1000
    if dialog.last_error:
        print(f"training failed: {dialog.last_error}", file=sys.stderr, flush=True)
    return {"worst_ms": float(gaps.max()), "p99_ms": percentile(list(gaps), 99),
            "over_50ms": int((gaps > 50).sum()), "ticks": len(ticks),
            "seconds": time.perf_counter() - start, "ok": not dialog.last_error}


def bench_panning(window, frames: int = 60) -> tuple[list[float], list[float]]:
    """Milliseconds per repaint while panning a 10-minute song 9 s at a time (30 s visible):
    the waveform alone, then the waveform and the x-linked spectrogram rows together."""
    from celae_gui.state import SourceData
    from celae_gui.views.figures import spectrum_of

    t = np.arange(600 * SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
    song = (0.5 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 0.05 * t)).astype(np.float32)
    spectrum = spectrum_of(song)
    for kind in ("original", "recon", "edited"):
        audio = song * (1 - 0.1 * "ore".index(kind[0]))
        window.state.set_source(kind, SourceData(audio=audio, spectrum=spectrum))
    plot = window.waveform_view.plot
    viewports = [window.waveform_view.plot_widget.viewport(),
                 window.spectrogram_view.layout_widget.viewport()]
    results = []
    for shown in (viewports[:1], viewports):
        times = []
        for i in range(frames):
            x0 = i * 9.0
            start = time.perf_counter()
            plot.setXRange(x0, x0 + 30.0, padding=0)
            for viewport in shown:
                viewport.repaint()
            times.append((time.perf_counter() - start) * 1000)
        results.append(times)
    return results[0], results[1]


def _summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "p95": percentile(values, 95), "n": len(values)}


PARTS = ("launch", "sliders", "training", "panning")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=40, help="slider moves timed")
    parser.add_argument("--launch-runs", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line holding every figure")
    args = parser.parse_args()
    figures: dict = {"load_average_start": list(os.getloadavg()), "cpus": os.cpu_count()}
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)

    if "launch" in args.only:
        launch = bench_launch(args.launch_runs)
        figures["launch_s"] = _summary(launch)
        print(f"launch to window shown: median {statistics.median(launch):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in launch)})", flush=True)

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from celae_gui import theme
    from celae_gui.main_window import MainWindow

    theme.apply_dark_theme(app)
    song = write_song(TMP / "songs" / "five_seconds.wav", 5.0, 330.0)
    window = MainWindow()
    window.resize(1500, 920)
    window.show()
    window.start([song], model_folder())
    wait(window.state.source_changed, lambda kind: kind == "edited", timeout_ms=180_000)
    model = window.state.model
    figures["model"] = {"name": model.name, "arch": model.arch,
                        "channels": list(getattr(model.config, "channels", []) or [])}
    print(f"model: {model.name} ({model.arch}, channels {figures['model']['channels']})",
          flush=True)

    if "sliders" in args.only:
        ready, plotted = bench_sliders(window, args.iterations)
        figures["slider_to_audio_ms"] = _summary(ready)
        figures["slider_to_plots_ms"] = _summary(plotted)
        print(f"slider to audio ready: median {statistics.median(ready):.1f} ms, "
              f"p95 {percentile(ready, 95):.1f} ms (n={len(ready)})", flush=True)
        print(f"slider to plots updated: median {statistics.median(plotted):.1f} ms, "
              f"p95 {percentile(plotted, 95):.1f} ms", flush=True)

    if "training" in args.only:
        dataset = TMP / "dataset"
        for i in range(6):
            write_song(dataset / f"g{i % 2}" / f"song{i}.wav", 10.0, 150.0 + 50 * i)
        stall = bench_training_stall(window, dataset)
        figures["training_stall"] = stall
        print(f"worst event-loop stall while training: {stall['worst_ms']:.1f} ms, "
              f"p99 {stall['p99_ms']:.1f} ms, {stall['over_50ms']} gaps over 50 ms "
              f"({stall['ticks']} ticks of 10 ms over {stall['seconds']:.1f} s)", flush=True)

    if "panning" in args.only:
        wave, both = bench_panning(window)
        figures["pan_frame_ms"] = _summary(wave)
        figures["pan_frame_with_spectrograms_ms"] = _summary(both)
        print(f"panning a 10-minute waveform: median {statistics.median(wave):.1f} ms/frame, "
              f"p95 {percentile(wave, 95):.1f} ms; with the spectrograms: median "
              f"{statistics.median(both):.1f} ms, p95 {percentile(both, 95):.1f} ms", flush=True)
    window.close()
    # Tear Qt down before the interpreter does: left to finalisation, PySide and pyqtgraph
    # objects die in an arbitrary order and the process can abort after printing.
    window.deleteLater()
    app.processEvents()
    del window
    figures["load_average_end"] = list(os.getloadavg())
    print(f"load average {os.getloadavg()[0]:.2f} at the end", flush=True)
    if args.json:
        print(json.dumps(figures), flush=True)
    app.shutdown()
    shutil.rmtree(TMP, ignore_errors=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # After a 10-minute song has been shown, interpreter finalisation aborts in a C extension's
    # garbage collection ("none_dealloc", PySide6 6.12 / pyqtgraph 0.14) after every figure is
    # printed; skip finalisation so `make bench` sees exit status 0.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
