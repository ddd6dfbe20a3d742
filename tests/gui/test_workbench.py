"""The main window with a real model and real files: drops, live edits, A/B/C, export."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from PySide6.QtCore import QMimeData, QPointF, Qt, QThread, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from celae_gui import export
from tests.gui.conftest import write_song


def drop_files(widget, paths) -> None:
    """Drag file URLs onto ``widget`` and drop them, as Qt delivers a real drag and drop.

    Qt routes a drop only to the widget that accepted the drag-enter, so both are sent.
    """
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(*args)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the widget refused a drag of files"
    drop = QDropEvent(*args)
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def test_dropped_bad_files_show_their_reason_and_good_ones_load(qtbot, window, tmp_path):
    good = write_song(tmp_path / "drop" / "good.wav", 3.0, 330.0)
    folder_song = write_song(tmp_path / "drop" / "sub" / "in_folder.wav", 2.0, 550.0)
    bad = tmp_path / "drop" / "notes.mp3"
    bad.write_text("this is not audio")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    state = window.state

    def all_checked() -> bool:
        names = {e.name: e for e in state.library}
        return all(n in names and names[n].status != "pending"
                   for n in ("good.wav", "in_folder.wav", "notes.mp3", "empty.wav"))

    drop_files(window.library_panel, [bad, good, empty, folder_song.parent])
    qtbot.waitUntil(all_checked, timeout=30_000)

    entries = {e.name: e for e in state.library}
    assert entries["good.wav"].status == "ok"
    assert abs(entries["good.wav"].duration - 3.0) < 0.05
    assert entries["in_folder.wav"].status == "ok"
    for name in ("notes.mp3", "empty.wav"):
        assert entries[name].status == "error"
        assert entries[name].reason.startswith(name + ":")
        item = window.library_panel.item_for(entries[name].path)
        assert item.toolTip() == entries[name].reason
        assert "⚠" in item.text()
    assert window.error_label.text()  # the last failure is visible in the status bar

    # A good dropped song can be selected and is reconstructed.
    with qtbot.waitSignal(state.source_changed, timeout=30_000,
                          check_params_cb=lambda kind: kind == "recon"):
        window.library_panel.list.setCurrentItem(
            window.library_panel.item_for(entries["good.wav"].path))
    assert state.current_path == entries["good.wav"].path


def test_slider_change_updates_the_edited_curve_on_the_gui_thread(qtbot, window):
    state = window.state
    before = window.waveform_view.curve_data("edited").copy()
    threads = []
    state.source_changed.connect(lambda _k: threads.append(QThread.currentThread()))
    with qtbot.waitSignal(state.source_changed, timeout=30_000,
                          check_params_cb=lambda kind: kind == "edited"):
        window.edit_panel.set_value("scale", 1.5)
    after = window.waveform_view.curve_data("edited")
    assert state.edit_params.scale == 1.5
    assert after.shape == before.shape
    assert not np.allclose(after, before)
    assert np.array_equal(after, state.audio("edited"))
    assert window.quality_panel.text("edited", "si_sdr") != "—"
    # The spectrogram row of a new image follows the waveform's repaint (STAGGER_MS).
    qtbot.waitUntil(lambda: window.spectrogram_view.has_image("edited"), timeout=2_000)
    assert all(t is QApplication.instance().thread() for t in threads)

    # Undo brings back the unedited audio.
    with qtbot.waitSignal(state.source_changed, timeout=30_000,
                          check_params_cb=lambda kind: kind == "edited"):
        window.undo_action.trigger()
    assert state.edit_params.is_identity
    assert np.allclose(window.waveform_view.curve_data("edited"), before, atol=1e-6)


def test_rapid_slider_moves_end_with_the_decode_of_the_last_value(qtbot, window):
    from core.latent.edits import apply_edits
    from core.models.inference import decode

    state = window.state
    for value in (0.1, 0.2, 0.3, 0.4):
        window.edit_panel.set_value("noise_sigma", value)
    assert state.edit_params.noise_sigma == 0.4
    z = apply_edits(state.latents.z, state.edit_params)
    expected = decode(state.model.model, z)[0]
    qtbot.waitUntil(lambda: state.audio("edited") is not None
                    and np.allclose(state.audio("edited"), expected, atol=1e-5), timeout=30_000)
    assert np.allclose(window.waveform_view.curve_data("edited"), expected, atol=1e-5)


def test_abc_keys_select_the_heard_source(qtbot, window):
    playback = window.playback
    qtbot.keyClick(window, Qt.Key.Key_2)
    assert playback.selected == "recon"
    qtbot.keyClick(window, Qt.Key.Key_3)
    assert playback.selected == "edited"
    assert window.transport_bar.source_buttons["edited"].isChecked()
    playback.cycle()
    assert playback.selected == "original"


def test_export_writes_audio_and_latent(window, tmp_path):
    state = window.state
    wav = export.export_audio(tmp_path / "out" / "edited.flac", state.audio("edited"))
    data, rate = sf.read(wav, dtype="float32")
    assert rate == 22_050 and len(data) == len(state.audio("edited"))
    from core.latent.file import load_latent

    saved = export.export_latent(
        tmp_path / "out" / "latent", state.source("edited").latent, model=state.model,
        song=str(state.current_path), window=state.window, edit_params=state.edit_params)
    back = load_latent(saved)
    assert saved.suffix == ".celat"
    assert np.array_equal(back.z, state.source("edited").latent.z)
    assert back.model.arch == "CELAutoencoderSiLU" and back.length == len(state.audio("edited"))


def test_genre_panel_explains_why_it_is_empty(window):
    assert window.genre_panel.showing_placeholder()
    assert "celae classify train" in window.genre_panel.placeholder.text()
    assert "tiny-silu" in window.genre_panel.placeholder.text()
