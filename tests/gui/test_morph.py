"""The morph dialog with a real tiny model and two library songs: N decoded steps from song A's
reconstruction to song B's, any step playable, the sequence exported as one crossfaded file."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.gui.conftest import write_song
from tests.gui.test_genre_panel import CLIP, close_window, open_window, save_tiny_model


@pytest.fixture(scope="module")
def morph_window(qapp, gui_resources, tmp_path_factory):
    root = tmp_path_factory.mktemp("morph")
    model = save_tiny_model(root / "tiny-morph", seed=3)
    songs = [write_song(root / "songs" / "low.wav", 1.0, 150.0, seed=6),
             write_song(root / "songs" / "high.wav", 1.0, 2500.0, seed=7)]
    win = open_window(model, songs)
    yield win, songs
    close_window(win)


def test_morph_decodes_n_steps_plays_one_and_exports_one_file(
        qtbot, morph_window, tmp_path, qt_thread_guard):
    from core.latent.morph import render_morph_sequence

    win, (low, high) = morph_window
    state, dialog = win.state, win.morph_dialog
    qtbot.waitUntil(lambda: len(state.playable_entries()) == 2, timeout=30_000)
    win._show_dialog(dialog)
    assert dialog.song_a.count() == 2 and dialog.song_a.currentText() == "low.wav"
    assert dialog.song_b.currentText() == "high.wav"
    assert not dialog.export_button.isEnabled()
    dialog.steps.setValue(5)
    dialog.mode.setCurrentIndex(dialog.mode.findData("slerp"))
    dialog.crossfade.setValue(0.05)

    with qtbot.waitSignal(dialog.morphed, timeout=60_000) as done:
        dialog.morph_button.click()
    result = done.args[0]
    assert result.settings.mode == "slerp" and result.settings.steps == 5
    assert dialog.step_list.count() == 5
    assert all(step.shape == (CLIP,) for step in result.steps)
    # The first step is song A's reconstruction (the current song, offset 0).
    assert state.current_path == low
    np.testing.assert_allclose(result.steps[0], state.audio("recon"), atol=1e-5)
    assert not np.allclose(result.steps[0], result.steps[-1], atol=1e-3)

    dialog.step_list.setCurrentRow(2)
    dialog.play_button.click()
    np.testing.assert_array_equal(dialog.player.last_audio, result.steps[2])

    with qtbot.waitSignal(dialog.exported, timeout=10_000):
        out = dialog.export_to(tmp_path / "morph")
    assert out == tmp_path / "morph.wav"
    audio, rate = sf.read(out, dtype="float32")
    expected = render_morph_sequence(result.steps, 0.05)
    assert rate == 22_050 and len(audio) == len(expected)
    assert len(audio) == 5 * CLIP - 4 * round(0.05 * 22_050)
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically, no leftovers
    assert "Saved morph.wav" in dialog.message.text()

    # A name the writer does not know is refused with the file name and the reason.
    assert dialog.export_to(tmp_path / "morph.mp3") is None
    assert "morph.mp3" in dialog.message.text()
    dialog.close()
