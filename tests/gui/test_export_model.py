"""File > Export model... with a real tiny model: the graphs written after the parity check,
the figures shown, and a bad folder answered with its reason."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.conftest import write_song
from tests.gui.test_genre_panel import close_window, open_window, save_tiny_model


@pytest.fixture(scope="module")
def export_window(qapp, gui_resources, tmp_path_factory):
    root = tmp_path_factory.mktemp("export-model")
    model = save_tiny_model(root / "tiny-export", seed=5)
    win = open_window(model, [write_song(root / "songs" / "tone.wav", 1.0, 330.0, seed=8)])
    yield win
    close_window(win)


def _open_dialog(win):
    win.export_model_action.trigger()
    dialog = win.export_model_dialog
    assert dialog.isVisible()
    return dialog


def _type_folder(dialog, text: str) -> None:
    dialog.folder.selectAll()
    QTest.keyClick(dialog.folder, Qt.Key.Key_Delete)
    QTest.keyClicks(dialog.folder, text)


def test_export_model_writes_torchscript_and_shows_the_parity_figures(
        qtbot, export_window, tmp_path, qt_thread_guard):
    dialog = _open_dialog(export_window)
    assert dialog.model_label.text() == "tiny-export (CELAutoencoderSiLU)"
    QTest.keyClick(dialog.format_box, Qt.Key.Key_Down)
    assert dialog.format_box.currentText().startswith("TorchScript")
    out = tmp_path / "exported"
    _type_folder(dialog, str(out))

    with qtbot.waitSignal(dialog.exported, timeout=120_000):
        QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        assert not dialog.export_button.isEnabled()
    text = dialog.message.text()
    assert text.startswith(f"Wrote encoder.ts, decoder.ts, export.json to {out}")
    assert "Matches torch on 4 096 and 1 365 samples: worst SI-SDR" in text
    assert dialog.progress.value() == 1000 and dialog.export_button.isEnabled()
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["model"]["name"] == "tiny-export"
    assert manifest["export_format"] == "torchscript"
    assert (out / "encoder.ts").stat().st_size > 0 and (out / "decoder.ts").stat().st_size > 0


def test_export_model_into_a_file_says_why_and_writes_nothing(
        qtbot, export_window, tmp_path, qt_thread_guard):
    dialog = _open_dialog(export_window)
    QTest.keyClick(dialog.format_box, Qt.Key.Key_Up)
    assert dialog.format_box.currentText().startswith("ONNX")
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    _type_folder(dialog, str(taken))
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.message.text().startswith("⚠"), timeout=60_000)
    assert dialog.message.text() == "⚠ notes.txt: is a file: give a folder to export into"
    assert "is a file" in export_window.error_label.text()
    assert taken.read_text() == "mine" and sorted(tmp_path.iterdir()) == [taken]
    assert dialog.export_button.isEnabled()
