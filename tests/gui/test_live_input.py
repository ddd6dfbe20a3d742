"""Play > Live input through a real PulseAudio stream (see ``tests/gui/sound.py``).

The harness's second null sink is the live stream's input (its monitor is the default source);
a known sound is played into it and, on the same clock, into the recorded sink. The recording
then holds the known sound twice: as it went in, and as the model gave it back. The gap between
the two, found by correlation, is the input-to-output latency that actually happened; the
dialog's reported latency must match it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core.audio.metrics import si_sdr
from core.constants import SAMPLE_RATE
from tests.gui.sound import sound_harness  # noqa: F401

SR = SAMPLE_RATE
BUNDLED = Path(__file__).resolve().parents[2] / "resources" / "models"
MODEL = BUNDLED / "celae-silu-demo"  # a trained model: its output is the input, audibly


def known_sound(seconds: float) -> np.ndarray:
    """Two rising chirps under an envelope: every stretch of it is unique, so the correlation
    with it has one clear peak per copy."""
    t = np.arange(round(seconds * SR)) / SR
    phase = 2 * np.pi * (150 * t + 700 * t**2 / seconds)
    env = np.sin(np.pi * t / seconds) ** 0.5
    return (0.3 * env * (np.sin(phase) + 0.5 * np.sin(2.7 * phase))).astype(np.float32)


def copies(rec: np.ndarray, x: np.ndarray) -> list[int]:
    """Start of the two strongest copies of ``x`` in ``rec``, earliest first."""
    n = len(rec) + len(x)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(rec, size) * np.conj(np.fft.rfft(x, size)), size)[:len(rec)]
    first = int(np.argmax(corr))
    masked = corr.copy()
    guard = round(0.02 * SR)
    masked[max(first - guard, 0):first + guard] = -np.inf
    second = int(np.argmax(masked))
    return sorted((first, second))


@pytest.fixture
def live_window(workbench, qtbot, sound_harness):  # noqa: F811
    """The window with a trained bundled model loaded and Play > Live input open."""
    win = workbench
    with qtbot.waitSignal(win.state.model_changed, timeout=60_000):
        win.controller.load_model(MODEL)
    win.live_action.trigger()
    dialog = win.live_dialog
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=30_000)
    yield win, dialog
    dialog.stop()
    dialog.close()


def test_live_input_plays_the_microphone_through_the_model_at_the_latency_it_shows(
        live_window, qtbot, sound_harness):  # noqa: F811
    win, dialog = live_window
    assert dialog.isVisible() and "celae-silu-demo" in dialog.model_label.text()
    assert dialog.check_label.text().startswith("Keeps up"), dialog.check_label.text()
    assert dialog.block == 2048
    # Shorter than the smallest possible latency (one block), so the two copies never overlap.
    x = known_sound(0.08)
    with sound_harness.record() as rec:
        QTest.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert dialog.running and dialog.start_button.text() == "Stop"
        qtbot.waitUntil(lambda: dialog._stream.stats().blocks >= 10, timeout=10_000)
        before = len(rec.samples)
        feeder = sound_harness.feed(x)
        assert feeder.wait(timeout=15) == 0
        # Both copies are in once the sound plus a generous latency has been recorded.
        rec.wait_for(lambda r: len(r) > before + len(x) + SR, "the live output")
        stats = dialog._stream.stats()
        shown = dialog.stats_label.text()
        QTest.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert not dialog.running and dialog.start_button.text() == "Start"
    assert shown.startswith("Latency ") and " dropped" in shown
    recording = rec.samples[before:]
    direct, heard = copies(recording, x)
    measured_ms = 1000 * (heard - direct) / SR
    # The dialog's latency is what happened, within what the devices' estimates can promise.
    assert abs(measured_ms - stats.latency_ms) <= 0.15 * stats.latency_ms + 30, (
        measured_ms, stats)
    # What came out is the model's reconstruction of the input, not noise or silence.
    assert si_sdr(x, recording[heard:heard + len(x)]) > 3
    assert stats.dropped == 0 and stats.blocks > 10
    assert 0 < stats.real_time_factor < 1


def test_a_model_too_slow_for_the_block_is_marked_before_start(workbench, qtbot):
    win = workbench
    with qtbot.waitSignal(win.state.model_changed, timeout=60_000):
        win.controller.load_model(BUNDLED / "celcodec64-real")
    win.live_action.trigger()
    dialog = win.live_dialog
    try:
        dialog.block_box.setFocus()
        QTest.keyClick(dialog.block_box, Qt.Key.Key_Home)  # the smallest block: 512
        assert dialog.block == 512
        qtbot.waitUntil(lambda: dialog._report is not None
                        and dialog._report.block == 512, timeout=60_000)
        report, text = dialog._report, dialog.check_label.text()
        if report.real_time_factor >= 1:
            assert text.startswith("⚠ Too slow") and not dialog.start_button.isEnabled()
        else:
            assert text.startswith(("Keeps up", "⚠ Barely")) and dialog.start_button.isEnabled()
        from celae_gui.dialogs.live_dialog import _times

        assert _times(report.real_time_factor) in text
    finally:
        dialog.close()
