"""Whole-song edits rendered from the play head: heard first there, the rest filled in after."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core.audio.metrics import si_sdr
from core.latent.window_edits import SongEdits, latent_rms
from core.models.streaming import LatentRenderer, WindowPlan, torch_decode_fn


def test_a_slider_move_on_a_whole_song_is_rendered_from_the_play_head(qtbot, window):
    state, controller = window.state, window.controller
    box = window.library_panel.whole_song
    if not box.isChecked():
        QTest.mouseClick(box, Qt.MouseButton.LeftButton)
    # C is cleared while a new reconstruction or edit is on its way: wait for the real one.
    qtbot.waitUntil(lambda: state.latents is not None and len(state.latents.z) >= 2
                    and state.source("edited") is not None, timeout=60_000)
    assert state.window.whole_song
    before = state.audio("edited").copy()
    heard = []
    controller.live.heard.connect(heard.append)
    slider = window.edit_panel.sliders["scale"]
    slider.setFocus()
    with qtbot.waitSignal(state.source_changed, timeout=60_000,
                          check_params_cb=lambda kind: kind == "edited"
                          and state.source("edited") is not None):
        QTest.keyClick(slider, Qt.Key.Key_PageUp)  # a user's step up of the scale slider
    assert state.edit_params.scale > 1.0
    assert heard and heard[-1] > 0  # the play-head window was handed over before the rest
    edited = state.audio("edited")
    assert edited.shape == before.shape and not np.allclose(edited, before)
    # What the app shows and plays is the edited song rendered offline, every window of it.
    song = state.latents
    plan = WindowPlan(length=song.length, clip=song.clip_samples, hop=song.hop)
    edits = SongEdits(state.edit_params, rms=latent_rms(song.z))
    model = state.model.model
    offline = np.clip(LatentRenderer(plan, song.z,
                                     torch_decode_fn(model, song.clip_samples, edits)).render(),
                      -1, 1)
    assert si_sdr(offline, edited) >= 60
    assert window.waveform_view.curve_data("edited").shape == edited.shape
    QTest.mouseClick(box, Qt.MouseButton.LeftButton)  # back to a 5 s window
    qtbot.waitUntil(lambda: state.source("edited") is not None
                    and len(state.audio("edited")) == state.model.model.clip_samples,
                    timeout=60_000)
    assert not state.window.whole_song


def test_the_waveform_shows_a_whole_song_edit_as_it_is_rendered(qtbot, window, tmp_path,
                                                                 monkeypatch):
    from celae_gui.workers import live_render_worker
    from tests.gui.conftest import write_song
    from tests.gui.test_buttons import click_item

    monkeypatch.setattr(live_render_worker, "PARTIAL_INTERVAL_S", 0.0)  # every window shown
    state, controller = window.state, window.controller
    song = write_song(tmp_path / "long.wav", 70.0, 330.0, seed=4)  # drawn as an envelope
    controller.open_paths([song])
    panel = window.library_panel
    qtbot.waitUntil(lambda: any(e.path == song and e.status == "ok" for e in state.library),
                    timeout=30_000)
    with qtbot.waitSignal(state.current_song_changed, timeout=30_000):
        click_item(panel, song)
    box = window.library_panel.whole_song
    if not box.isChecked():
        QTest.mouseClick(box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.window.whole_song and state.latents is not None
                    and len(state.latents.z) > 10 and state.source("edited") is not None
                    and len(state.audio("edited")) > 1_000_000, timeout=120_000)
    seen: list[np.ndarray] = []
    state.partial_source.connect(
        lambda kind, _env: seen.append(window.waveform_view.curve_data(kind).copy()))
    slider = window.edit_panel.sliders["scale"]
    slider.setFocus()
    with qtbot.waitSignal(state.source_changed, timeout=120_000,
                          check_params_cb=lambda kind: kind == "edited"
                          and state.source("edited") is not None):
        QTest.keyClick(slider, Qt.Key.Key_PageUp)
    assert len(seen) >= 3, "the plot waited for the whole song"
    drawn = [float(np.mean(np.abs(curve) > 1e-4)) for curve in seen]
    # Each partial draws more of the song than the one before, the first a small part of it.
    assert drawn[0] < 0.5 and all(b >= a for a, b in zip(drawn, drawn[1:], strict=False))
    final = window.waveform_view.curve_data("edited")
    assert float(np.mean(np.abs(final) > 1e-4)) > 0.9
    QTest.mouseClick(box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not state.window.whole_song and state.source("edited") is not None,
                    timeout=60_000)
