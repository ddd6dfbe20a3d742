"""Principal-direction sliders with a real tiny model: fit the latent PCA from the library in a
worker, save it beside the model, then hear (see) the slider move the edited curve."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.conftest import write_song
from tests.gui.test_genre_panel import close_window, open_window, save_tiny_model


@pytest.fixture(scope="module")
def pc_window(qapp, gui_resources, tmp_path_factory):
    root = tmp_path_factory.mktemp("pc")
    model = save_tiny_model(root / "tiny-pca", seed=1)
    songs = [write_song(root / "songs" / f"song{i}.wav", 1.5, 180.0 * (i + 1), seed=i)
             for i in range(3)]
    win = open_window(model, songs)
    yield win, model
    close_window(win)


def test_fit_button_fits_and_saves_the_pca_then_sliders_move_the_edited_curve(
        qtbot, pc_window, qt_thread_guard):
    from core.latent.pca import PCA_FILE, load_latent_pca

    win, model = pc_window
    state, panel = win.state, win.pc_panel
    qtbot.waitUntil(lambda: len(state.playable_entries()) == 3, timeout=30_000)
    assert not panel.showing_sliders()
    assert model.name in panel.placeholder.text()
    assert panel.source.currentText() == "Library songs"

    with qtbot.waitSignal(panel.fit_done, timeout=60_000) as done:
        panel.fit_button.click()
    qtbot.waitUntil(lambda: not panel.fitting(), timeout=10_000)
    assert done.args[0].saved_to == model / PCA_FILE
    assert done.args[0].n_clips > 3  # every clip of every library song
    stored = load_latent_pca(model)
    assert stored is not None and stored.n_components >= 8
    assert panel.showing_sliders()
    assert all(s.isEnabled() for s in panel.sliders)
    assert "90 %" in panel.variance_label.text()

    before = win.waveform_view.curve_data("edited").copy()
    with qtbot.waitSignal(state.source_changed, timeout=30_000,
                          check_params_cb=lambda kind: kind == "edited"):
        panel.set_value(0, 2.0)
    assert state.edit_params.pc_offsets[0] == pytest.approx(2.0)
    after = win.waveform_view.curve_data("edited")
    assert not np.allclose(after, before, atol=1e-4)

    # The decoded audio is the latent moved by two standard deviations along PC1.
    from core.latent.pca import apply_pc_offsets
    from core.models.inference import decode

    # The decoded audio is that latent moved by two standard deviations along PC1, with its DC
    # level kept at the original's (a DC step is a thump, not music).
    z = apply_pc_offsets(state.latents.z, stored, [2.0])
    expected = decode(state.model.model, z)[0]
    expected = expected - (expected.mean() - state.audio("original").mean())
    np.testing.assert_allclose(state.audio("edited"), expected, atol=1e-5)
    # Each direction is labelled with what +1 sigma measurably does to this clip.
    qtbot.waitUntil(lambda: all(panel.effect_texts()), timeout=30_000)
    assert len(panel.effect_texts()) == stored.n_components
    assert all(t == "subtle" or any(w in t for w in ("louder", "quieter", "brighter", "darker",
                                                       "DC")) for t in panel.effect_texts())
    assert "RMS" in panel.effect_labels[0].toolTip()

    # Undo puts the slider back and brings back the unedited sound.
    with qtbot.waitSignal(state.source_changed, timeout=30_000,
                          check_params_cb=lambda kind: kind == "edited"):
        win.undo_action.trigger()
    assert panel.sliders[0].value() == 0
    assert np.allclose(win.waveform_view.curve_data("edited"), before, atol=1e-6)


def test_a_stored_pca_is_found_when_the_model_is_loaded_again(qtbot, pc_window):
    win, model = pc_window
    with qtbot.waitSignal(win.state.pca_changed, timeout=30_000,
                          check_params_cb=lambda pca: pca is not None):
        win.controller.load_model(model)
    assert win.pc_panel.showing_sliders()


def test_the_pca_of_a_bundled_model_goes_to_the_user_folder_and_is_found_there(gui_resources):
    from celae_gui.workers.pca_worker import load_model_pca, save_pca
    from core.latent.pca import PCA_FILE, fit_pca_from_latents
    from core.models.io import load_model
    from core.paths import user_models_dir

    bundled = load_model(gui_resources / "models" / "tiny-silu")
    z = np.random.default_rng(0).standard_normal((4, 1, 64)).astype(np.float32)
    saved = save_pca(fit_pca_from_latents([z]), bundled)
    assert not (bundled.path / PCA_FILE).exists()  # what the app ships is never changed
    assert saved.is_relative_to(user_models_dir())
    assert saved.parent.name.startswith("tiny-silu-")
    found = load_model_pca(bundled)
    assert found is not None and found.n_components == 8
