"""A new user's first minutes in one go, through the widgets only: two songs, a new window
start typed in, B chosen and played from the keyboard, a folder clustered with the Cluster
button, a CELCodec trained for one epoch from the Train dialog, and the window closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import write_song
from tests.gui.test_genre_panel import close_window, open_window


def menu_action(win, text: str):
    """The menu action whose text is ``text`` (as shown, with its & accelerator)."""
    for menu in win.menuBar().findChildren(type(win.menuBar().actions()[0].menu())):
        for action in menu.actions():
            if action.text() == text:
                return action
    raise AssertionError(f"no menu action {text!r}")


def test_a_first_session_through_the_widgets(qtbot, gui_resources, tmp_path):
    songs = [write_song(tmp_path / "songs" / "first.wav", 12.0, 260.0, seed=11),
             write_song(tmp_path / "songs" / "second.wav", 6.0, 520.0, seed=12)]
    data = tmp_path / "data"
    for i, genre in enumerate(("blues", "jazz", "metal") * 2):
        write_song(data / genre / f"{genre}.{i:05d}.wav", 5.5, 150.0 + 300 * (i % 3), seed=i)
    win = open_window(gui_resources / "models" / "tiny-silu", songs)
    state = win.state
    try:
        qtbot.waitUntil(lambda: all(e.status == "ok" for e in state.library), timeout=30_000)
        assert [e.name for e in state.library] == ["first.wav", "second.wav"]
        win.activateWindow()
        qtbot.waitUntil(win.isActiveWindow, timeout=5_000)

        # "Window from" 4 s, Enter; then 2 and Space go to the window, not into the field.
        line = win.library_panel.offset.lineEdit()
        QTest.mouseClick(line, Qt.MouseButton.LeftButton)
        line.selectAll()
        with qtbot.waitSignal(state.source_changed, timeout=30_000,
                              check_params_cb=lambda k: k == "recon"
                              and state.audio(k) is not None):
            QTest.keyClicks(line, "4")
            QTest.keyClick(line, Qt.Key.Key_Return)
        assert state.window.offset == pytest.approx(4.0)
        assert win.waveform_view.curves["original"].xData[0] == pytest.approx(4.0)
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_2)
        assert win.playback.selected == "recon"
        space = next(s for s in win._shortcuts if s.key().toString() == "Space")
        with qtbot.waitSignal(space.activated, timeout=2_000):
            QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
        assert win.library_panel.offset.value() == pytest.approx(4.0)

        # Explore > Analysis: type the folder, press Cluster.
        menu_action(win, "&Analysis and latent map…").trigger()
        view = win.analysis_window
        view.tabs.setCurrentIndex(1)
        view.dataset.clear()
        QTest.keyClicks(view.dataset, str(data))
        view.k_max.setValue(3)
        with qtbot.waitSignal(view.feature_choice.model().rowsInserted, timeout=60_000):
            QTest.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(view.run_button.isEnabled, timeout=30_000)
        assert len(view.result.clips) == 6
        assert len(view.cluster_view.scatter.data) == 6
        assert "Map of latent" in view.features_note.text()
        view.close()

        # Train > Train model: a CELCodec for one epoch, from the dialog's own Start button.
        menu_action(win, "Train &model…").trigger()
        dialog = win.training_dialog
        assert dialog.isVisible()
        dialog.generate_demo.setChecked(False)
        dialog.dataset.clear()
        QTest.keyClicks(dialog.dataset, str(data))
        dialog.arch.setCurrentText("CELCodec4")
        dialog.epochs.setValue(1)
        dialog.batch_size.setValue(2)
        dialog.device.setCurrentText("cpu")
        dialog.model_name.clear()
        QTest.keyClicks(dialog.model_name, "first-codec")
        with qtbot.waitSignal(dialog.model_trained, timeout=240_000) as trained:
            QTest.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not dialog.is_running(), timeout=30_000)
        folder = Path(trained.args[0])
        assert json.loads((folder / "config.json").read_text())["arch"] == "CELCodec4"
        assert dialog.table.rowCount() == 1
        assert folder in win.model_selector.model_paths()
        dialog.close()
    finally:
        close_window(win)
