"""Benchmarks of the desktop app (offscreen): launch time, slider latency, event-loop stalls
during training, frame time while panning a 10-minute song.

Usage: python scripts/bench_gui.py [--iterations N]. Uses the bundled default model when there
is one, else an untrained CELAutoencoderSiLU (same compute); songs are synthesised in a temp
folder. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
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
    from core.model_io import resolve_model, save_model

    try:
        return str(resolve_model(None))
    except ModelLoadError:
        from core.models import build_model

        return str(save_model(build_model("CELAutoencoderSiLU"), TMP / "models" / "bench-silu"))


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


def bench_sliders(window, iterations: int) -> tuple[list[float], list[float]]:
    """Milliseconds from a slider change to the edited audio ready, and to the plots repainted."""
    ready, plotted = [], []
    marks = {}
    window.playback.sources_updated.connect(
        lambda kind: marks.setdefault("ready", time.perf_counter()) if kind == "edited" else None)
    for i in range(iterations):
        marks.clear()
        value = 0.5 + (i % 20) / 20
        done = {}

        def on_source(kind, done=done):
            if kind == "edited" and "ready" in marks and not done:
                window.waveform_view.plot_widget.viewport().repaint()
                window.spectrogram_view.layout_widget.viewport().repaint()
                done["t"] = time.perf_counter()

        window.state.source_changed.connect(on_source)
        start = time.perf_counter()
        window.edit_panel.set_value("scale", value)
        wait(window.state.source_changed, lambda kind, done=done: "t" in done)
        window.state.source_changed.disconnect(on_source)
        ready.append((marks["ready"] - start) * 1000)
        plotted.append((done["t"] - start) * 1000)
    return ready, plotted


def bench_training_stall(window, dataset: Path) -> tuple[float, int, float]:
    """Worst gap (ms) between 10 ms timer ticks while one training epoch runs."""
    from PySide6.QtCore import QTimer

    dialog = window.training_dialog
    dialog.dataset.setText(str(dataset))
    dialog.epochs.setValue(1)
    dialog.batch_size.setValue(2)
    dialog.device.setCurrentText("cpu")
    dialog.model_name.setText("bench-train")
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
    return float(gaps.max()), len(ticks), time.perf_counter() - start


def bench_panning(window, frames: int = 60) -> list[float]:
    """Milliseconds per repaint while panning a 10-minute song's waveform 10 s at a time."""
    from celae_gui.state import SourceData

    t = np.arange(600 * SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
    song = (0.5 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 0.05 * t)).astype(np.float32)
    for kind in ("original", "recon", "edited"):
        window.state.set_source(kind, SourceData(audio=song * (1 - 0.1 * "ore".index(kind[0]))))
    plot = window.waveform_view.plot
    viewport = window.waveform_view.plot_widget.viewport()
    times = []
    for i in range(frames):
        x0 = i * 9.0
        start = time.perf_counter()
        plot.setXRange(x0, x0 + 30.0, padding=0)
        viewport.repaint()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=40)
    args = parser.parse_args()

    launch = bench_launch()
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
    print(f"model: {window.state.model.name} ({window.state.model.arch})", flush=True)

    ready, plotted = bench_sliders(window, args.iterations)
    print(f"slider to audio ready: median {statistics.median(ready):.1f} ms, "
          f"p95 {percentile(ready, 95):.1f} ms (n={len(ready)})", flush=True)
    print(f"slider to plots updated: median {statistics.median(plotted):.1f} ms, "
          f"p95 {percentile(plotted, 95):.1f} ms", flush=True)

    dataset = TMP / "dataset"
    for i in range(6):
        write_song(dataset / f"g{i % 2}" / f"song{i}.wav", 10.0, 150.0 + 50 * i)
    worst, n_ticks, seconds = bench_training_stall(window, dataset)
    print(f"worst event-loop stall while training: {worst:.1f} ms "
          f"({n_ticks} ticks of 10 ms over {seconds:.1f} s of training)", flush=True)

    frames = bench_panning(window)
    print(f"panning a 10-minute waveform: median {statistics.median(frames):.1f} ms/frame, "
          f"p95 {percentile(frames, 95):.1f} ms", flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
