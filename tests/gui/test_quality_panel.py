"""The quality panel: pool+interp beside each figure, ViSQOL in the background (cached, stale
work dropped), the latent's kbps, and B heard at 16 and 8 bits."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core.constants import SAMPLE_RATE
from tests.gui.conftest import write_song

pytestmark = pytest.mark.slow

CLIP = int(1.2 * SAMPLE_RATE)  # ViSQOL costs about a second per second of audio


@pytest.fixture
def bench(qtbot, tmp_path, qt_thread_guard):
    """State, controller and the panel over a tiny model with 1.2 s clips and a 2 s song."""
    from celae_gui.controller import Controller
    from celae_gui.panels.quality_panel import QualityPanel
    from celae_gui.state import AppState
    from core.models import build_model
    from core.models.io import save_model

    save_model(build_model("CELAutoencoderSiLU", clip_samples=CLIP), tmp_path / "short-silu")
    song = write_song(tmp_path / "song.wav", 2.0, 330.0, seed=3)
    state = AppState()
    controller = Controller(state)
    panel = QualityPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(controller.model_load_done, timeout=60_000):
        controller.load_model(tmp_path / "short-silu")
    state.add_paths([song])
    state.set_current_song(song)
    qtbot.waitUntil(lambda: state.source("edited") is not None, timeout=60_000)
    yield state, controller, panel
    assert controller.shutdown()


def is_score(text: str) -> bool:
    try:
        return 1.0 <= float(text) <= 5.0
    except ValueError:
        return False


def test_figures_sit_beside_the_baseline_and_the_bitrate(bench):
    state, _controller, panel = bench
    # 1 x 13 230 latent values per 1.2 s clip: half the samples, 11 025 values a second.
    assert panel.heads["baseline"].text() == "pool+interp 1/2"
    assert "<b>352.8</b> / 176.4 / 88.2 kbps" in panel.bitrate_label.text()
    recon, baseline = state.source("recon").quality, state.source("recon").baseline
    assert panel.text("recon", "si_sdr") == f"{recon.si_sdr:.1f} dB"
    assert panel.text("baseline", "si_sdr") == f"{baseline.si_sdr:.1f} dB"
    # An untrained model against plain decimation: the baseline must be the better one here.
    assert baseline.si_sdr > recon.si_sdr


@pytest.mark.timeout(600)
def test_visqol_arrives_in_the_background_and_is_cached_per_bit_depth(bench, qtbot):
    state, _controller, panel = bench
    qtbot.waitUntil(lambda: is_score(panel.text("recon", "visqol"))
                    and is_score(panel.text("baseline", "visqol")), timeout=240_000)
    first = panel.text("recon", "visqol")
    # The edit is the identity: the same audio, the same score, not a second computation.
    qtbot.waitUntil(lambda: panel.text("edited", "visqol") == first, timeout=30_000)
    audio32 = state.audio("recon").copy()

    panel.bits_combo.setFocus()
    with qtbot.waitSignal(state.latents_changed, timeout=60_000):
        QTest.keyClick(panel.bits_combo, Qt.Key.Key_Down)
        QTest.keyClick(panel.bits_combo, Qt.Key.Key_Down)
    assert panel.bits_combo.currentText() == "8 bits" and state.latent_bits == 8
    assert "<b>88.2</b> kbps" in panel.bitrate_label.text()
    qtbot.waitUntil(lambda: state.source("recon") is not None
                    and not np.array_equal(state.audio("recon"), audio32), timeout=60_000)
    # B is now decoded from 8-bit codes: close to, but not, the float32 reconstruction.
    assert np.abs(state.audio("recon") - audio32).max() > 0
    assert panel.text("recon", "visqol") == "…"

    # Back to 32 bits before the 8-bit score is done: the stale score is dropped and the
    # 32-bit one shows again from the cache as soon as the reconstruction lands.
    with qtbot.waitSignal(state.latents_changed, timeout=60_000):
        QTest.keyClick(panel.bits_combo, Qt.Key.Key_Up)
        QTest.keyClick(panel.bits_combo, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: np.array_equal(state.audio("recon"), audio32), timeout=60_000)
    assert panel.text("recon", "visqol") == first


def test_model_selector_tooltip_gives_kbps_at_each_depth(qtbot, gui_resources):
    from celae_gui.panels.model_selector import ModelSelector
    from celae_gui.state import AppState
    from core.models.io import list_models

    selector = ModelSelector(AppState())
    qtbot.addWidget(selector)
    selector.set_models(list_models())
    tip = selector.combo.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert "11,025 values/s, 352.8 / 176.4 / 88.2 kbps at 32/16/8 bits" in tip
