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
