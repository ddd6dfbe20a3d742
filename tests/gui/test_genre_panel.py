"""The genre panel with a real tiny model: placeholder without a classifier, Train classifier
in the dialog, then bars for the original, the reconstruction and the live edit.

The helpers here (a tiny model, a three-genre tonal dataset, a window on them) are shared by the
other exploration tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core.constants import SAMPLE_RATE
from tests.gui.conftest import write_song

CLIP = 4096
TONES = {"blues": 200.0, "jazz": 1500.0, "metal": 6000.0}


def save_tiny_model(folder: Path, seed: int = 0) -> Path:
    """An untrained CELAutoencoderSiLU on 4096-sample clips, saved to ``folder``."""
    import torch

    from core.models import build_model
    from core.models.io import save_model

    torch.manual_seed(seed)
    save_model(build_model("CELAutoencoderSiLU", clip_samples=CLIP), folder)
    return folder


def write_tone_dataset(root: Path, songs_per_genre: int = 4, clips: int = 3) -> Path:
    """One folder per genre of ``TONES``; each song a noisy tone of ``clips`` model clips."""
    rng = np.random.default_rng(0)
    t = np.arange(CLIP * clips) / SAMPLE_RATE
    for genre, freq in TONES.items():
        (root / genre).mkdir(parents=True, exist_ok=True)
        for i in range(songs_per_genre):
            f = freq * (1 + 0.03 * rng.standard_normal())
            x = 0.5 * np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal(t.size)
            sf.write(root / genre / f"{genre}.{i:05d}.wav", x.astype(np.float32), SAMPLE_RATE)
    return root


def open_window(model: Path, songs: list[Path]):
    """A shown main window with ``model`` loaded and ``songs[0]`` reconstructed and edited."""
    from PySide6.QtCore import QEventLoop, QTimer

    from celae_gui.main_window import MainWindow

    win = MainWindow()
    win.show()
    loop = QEventLoop()
    win.state.source_changed.connect(lambda kind: loop.quit() if kind == "edited" else None)
    QTimer.singleShot(60_000, loop.quit)
    win.start(songs, str(model))
    loop.exec()
    assert win.state.audio("edited") is not None, "the window never reconstructed the song"
    return win


def close_window(win) -> None:
    """Close ``win`` (every thread joined) and check nothing is left running."""
    win.close()
    assert not win.controller.edits._thread.isRunning()
    win.deleteLater()


@pytest.fixture(scope="module")
def explore(qapp, gui_resources, tmp_path_factory):
    """A window on a tiny model without a classifier, two songs in the library."""
    root = tmp_path_factory.mktemp("genre")
    model = save_tiny_model(root / "tiny-4k")
    data = write_tone_dataset(root / "data")
    songs = [write_song(root / "songs" / "low.wav", 1.0, 220.0, seed=3),
             write_song(root / "songs" / "high.wav", 1.0, 3000.0, seed=4)]
    win = open_window(model, songs)
    yield win, model, data
    close_window(win)


def test_without_a_classifier_the_panel_says_how_to_get_one(explore):
    win, model, _ = explore
    panel = win.genre_panel
    assert panel.showing_placeholder()
    assert model.name in panel.placeholder.text()
    assert "Train classifier" in panel.placeholder.text()


def test_the_encoder_head_is_offered_for_codec_models_only(qtbot, explore):
    win, _model, _ = explore
    dialog = win.classifier_dialog
    win._show_dialog(dialog)
    heads = [dialog.head.itemData(i) for i in range(dialog.head.count())]
    assert heads == ["stats", "conv", "report", "multiscale", "encoder"]
    item = dialog.head.model().item(heads.index("encoder"))
    # The window's model is a CELAutoencoderSiLU: no encoder stages to read.
    assert not item.isEnabled() and "CELCodec" in item.toolTip()
    # Stepping through the heads with the keyboard skips it.
    dialog.head.setFocus()
    for _ in range(len(heads)):
        QTest.keyClick(dialog.head, Qt.Key.Key_Down)
    assert dialog.head.currentData() == "multiscale"
    dialog.close()


def test_trained_classifier_shows_bars_that_sum_to_1_and_follow_the_edit(
        qtbot, explore, qt_thread_guard):
    win, model, data = explore
    state, panel, dialog = win.state, win.genre_panel, win.classifier_dialog
    win._show_dialog(dialog)
    dialog.dataset.setText(str(data))
    dialog.epochs.setValue(2)
    dialog.baselines.setChecked(False)
    dialog.device.setCurrentText("cpu")
    with qtbot.waitSignal(dialog.classifier_trained, timeout=120_000) as trained:
        dialog.start()
        assert dialog.is_running() and not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=30_000)
    assert trained.args[0] == model / "classifier"
    assert (model / "classifier" / "model.safetensors").is_file()
    assert dialog.progress.value() == 1000
    assert len(dialog.train_curve.yData) == 2
    assert "latent probe" in dialog.results.text()
    dialog.close()

    # The panel picks the new classifier up and scores all three sources.
    qtbot.waitUntil(lambda: not panel.showing_placeholder()
                    and all(panel.probabilities(k).size == 3
                            for k in ("original", "recon", "edited")), timeout=30_000)
    assert panel.genres() == sorted(TONES)
    for kind in ("original", "recon", "edited"):
        assert panel.probabilities(kind).sum() == pytest.approx(1.0, abs=1e-5)
    axis = panel.plot_widget.getPlotItem().getAxis("bottom")
    assert [label for _, label in axis._tickLevels[0]] == ["blues", "jazz", "metal"]

    # Moving an edit slider moves the edited bars (and only those) in the same pass.
    before = {k: panel.probabilities(k).copy() for k in ("original", "recon", "edited")}
    with qtbot.waitSignal(state.genre_changed, timeout=30_000,
                          check_params_cb=lambda kind: kind == "edited"):
        win.edit_panel.set_value("scale", 0.2)
    after = panel.probabilities("edited")
    assert after.sum() == pytest.approx(1.0, abs=1e-5)
    assert not np.allclose(after, before["edited"], atol=1e-4)
    np.testing.assert_array_equal(panel.probabilities("original"), before["original"])
    from celae_gui.workers.classify_worker import genre_proba

    # C is scored from the audio it is, as A and B are.
    expected = genre_proba(state.classifier, state.audio("edited"))
    np.testing.assert_allclose(after, expected, atol=1e-5)
    assert [line[:2] for line in panel.summary.text().split("\n")] == ["A:", "B:", "C:"]
    # Below the plot and three lines high: a wrapped summary was drawn over the plot's axis.
    assert panel.summary.geometry().top() >= panel.plot_widget.geometry().bottom()
    assert panel.summary.height() >= 3 * panel.summary.fontMetrics().lineSpacing()
    left = panel.plot_widget.getPlotItem().getAxis("left")
    assert [label for _, label in left._tickLevels[0]] == ["0%", "25%", "50%", "75%", "100%"]
    with qtbot.waitSignal(state.genre_changed, timeout=30_000,
                          check_params_cb=lambda kind: kind == "edited"):
        QTest.mouseClick(win.edit_panel.reset_button, Qt.MouseButton.LeftButton)
    # With no edit C is B's audio, so its bars are B's (they were A's when C was scored from
    # the latent and B from its audio).
    np.testing.assert_allclose(panel.probabilities("edited"), panel.probabilities("recon"),
                               atol=1e-4)
    assert "trained on" in panel.source_label.text()


def pick_model(qtbot, win, folder: Path) -> None:
    """Open the model combo and click ``folder``'s row, as a user switches models."""
    combo = win.model_selector.combo
    index = combo.findData(str(folder))
    assert index >= 0, f"{folder} is not offered"
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=5_000)
    rect = view.visualRect(combo.model().index(index, 0))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_the_panel_names_its_data_offers_training_and_keeps_the_legend_off_the_bars(
        qtbot, explore):
    win, model, _ = explore
    panel = win.genre_panel
    qtbot.waitUntil(lambda: not panel.showing_placeholder(), timeout=30_000)
    assert panel.source_label.text() == "Classifier trained on unknown data" or \
        panel.source_label.text().startswith("Classifier trained on ")
    # The legend is a line above the plot, so it cannot cover a bar at 1.0.
    assert panel.legend.isVisible()
    assert panel.legend.geometry().bottom() <= panel.plot_widget.geometry().top()
    assert all(label in panel.legend.text() for label in ("A  original", "B  reconstruction",
                                                          "C  edited"))
    QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert win.classifier_dialog.isVisible()
    assert model.name in win.classifier_dialog.model_label.text()
    win.classifier_dialog.close()


def test_switching_models_never_scores_one_models_latents_with_anothers_classifier(
        qtbot, explore, gui_resources):
    win, model, _ = explore
    state, panel = win.state, win.genre_panel
    errors: list[str] = []
    state.message.connect(lambda level, text: errors.append(text) if level == "error" else None)
    other = gui_resources / "models" / "tiny-silu"
    with qtbot.waitSignal(win.controller.reconstructed, timeout=60_000):
        pick_model(qtbot, win, other)
    assert state.model.path == other
    # Back to the model with a classifier: it loads while the other model's latents are shown.
    # (That model was opened by path and is not among the listed ones, so no row to click.)
    with qtbot.waitSignal(win.controller.reconstructed, timeout=60_000):
        win.controller.load_model(model)
    qtbot.waitUntil(lambda: state.classifier is not None
                    and all(panel.probabilities(k).size == 3
                            for k in ("original", "recon", "edited")), timeout=30_000)
    assert not errors, errors
