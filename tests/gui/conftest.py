"""Fixtures of the app tests: a tiny real model and short real songs under a temp folder, a
ready main window, and a Qt message handler that fails a test on cross-thread widget use."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.constants import SAMPLE_RATE

THREAD_WARNINGS = ("different thread", "Cannot set parent", "Cannot create children",
                   "QThread: Destroyed", "Timers cannot be started from another thread",
                   "Cannot send events to objects owned by a different thread")


def write_song(path: Path, seconds: float, freq: float, seed: int = 0) -> Path:
    """A short tone-plus-noise WAV (real file, real decode)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    x = 0.5 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
    x = x + 0.05 * rng.standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    return path


@pytest.fixture(scope="session")
def gui_resources(tmp_path_factory) -> Path:
    """A resources folder holding one untrained CELAutoencoderSiLU and two demo songs."""
    from core.models import build_model
    from core.models.io import save_model

    root = tmp_path_factory.mktemp("resources")
    save_model(build_model("CELAutoencoderSiLU"), root / "models" / "tiny-silu")
    (root / "models" / "DEFAULT").write_text("tiny-silu\n")
    write_song(root / "demo" / "demo_a.wav", 6.0, 220.0, seed=1)
    write_song(root / "demo" / "demo_b.wav", 6.0, 440.0, seed=2)
    os.environ["CELAE_RESOURCES_DIR"] = str(root)
    return root


@pytest.fixture
def qt_thread_guard(qapp):
    """Fail the test if Qt warns about objects used from the wrong thread."""
    from PySide6.QtCore import qInstallMessageHandler

    seen: list[str] = []

    def handler(_mode, _context, message):
        if any(w in message for w in THREAD_WARNINGS):
            seen.append(message)

    previous = qInstallMessageHandler(handler)
    yield seen
    qInstallMessageHandler(previous)
    assert not seen, f"Qt thread warnings: {seen}"


@pytest.fixture(scope="module")
def workbench(qapp, gui_resources):
    """One main window per test module (starting one loads torch and a model: seconds), with
    the tiny model loaded and demo_a reconstructed and edited. Closed, threads joined, after."""
    from PySide6.QtCore import QEventLoop, QTimer

    from celae_gui.main_window import MainWindow

    win = MainWindow()
    win.show()
    loop = QEventLoop()
    win.state.source_changed.connect(lambda kind: loop.quit() if kind == "edited" else None)
    QTimer.singleShot(120_000, loop.quit)
    win.start([gui_resources / "demo" / "demo_a.wav"],
              str(gui_resources / "models" / "tiny-silu"))
    loop.exec()
    assert win.state.audio("edited") is not None, "the window never reconstructed demo_a"
    yield win
    win.close()
    assert not win.controller.edits._thread.isRunning()
    win.deleteLater()


@pytest.fixture
def window(workbench, qtbot, qt_thread_guard):
    """The module's main window, its edits reset and the original selected."""
    workbench.state.reset_edits()
    workbench.playback.select("original")
    qtbot.waitUntil(lambda: workbench.state.source("edited") is not None)
    return workbench
