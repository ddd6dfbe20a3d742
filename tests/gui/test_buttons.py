"""The main window driven as a user drives it: typing into "Window from", pressing keys after,
clicking the library, the plots, the error's ×, the menus; asserting on what is then shown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel

from celae_gui.playback.transport_bar import format_time
from tests.gui.conftest import write_song
from tests.gui.test_workbench import drop_files

LONG_SECONDS = 20.0


def click_item(panel, path: Path) -> None:
    """A real mouse click on the library row of ``path``."""
    item = panel.item_for(path)
    assert item is not None, f"{path.name} is not in the library"
    rect = panel.list.visualItemRect(item)
    QTest.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def type_into(field, text: str) -> None:
    """Click into a field, select what it holds, type ``text`` and press Enter."""
    line = field.lineEdit() if hasattr(field, "lineEdit") else field
    QTest.mouseClick(line, Qt.MouseButton.LeftButton)
    line.selectAll()
    QTest.keyClicks(line, text)
    QTest.keyClick(line, Qt.Key.Key_Return)


def focused():
    return QApplication.focusWidget()


@pytest.fixture(scope="module")
def long_song(workbench, tmp_path_factory) -> Path:
    path = write_song(tmp_path_factory.mktemp("long") / "long_song.wav", LONG_SECONDS, 300.0,
                      seed=7)
    workbench.controller.open_paths([path])
    return path


def select_song(qtbot, window, path: Path) -> None:
    state = window.state
    qtbot.waitUntil(lambda: state.entry(path) is not None
                    and state.entry(path).status == "ok", timeout=30_000)
    click_item(window.library_panel, path)
    qtbot.waitUntil(lambda: state.current_path == path
                    and state.source("edited") is not None, timeout=30_000)


def test_window_from_clamps_shows_song_time_and_gives_the_keys_back(qtbot, window, long_song):
    state, panel = window.state, window.library_panel
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    select_song(qtbot, window, long_song)

    # 99999 s is past the end: the window starts one clip before the end (was: cut to 99 s).
    with qtbot.waitSignal(state.source_changed, timeout=30_000,
                          check_params_cb=lambda k: k == "recon"
                              and state.audio(k) is not None):
        type_into(panel.offset, "99999")
    assert state.window.offset == pytest.approx(LONG_SECONDS - 5.0)
    assert panel.offset.value() == pytest.approx(LONG_SECONDS - 5.0)

    # After Enter, the window's keys work again: 2 picks B, Space is play/pause (not text).
    assert focused() is not panel.offset.lineEdit()
    QTest.keyClick(focused(), Qt.Key.Key_2)
    assert window.playback.selected == "recon"
    assert panel.offset.value() == pytest.approx(LONG_SECONDS - 5.0)
    space = next(s for s in window._shortcuts if s.key().toString() == "Space")
    with qtbot.waitSignal(space.activated, timeout=2_000):
        QTest.keyClick(focused(), Qt.Key.Key_Space)

    # Song time on the axes, the spectrograms and the clock.
    qtbot.waitUntil(lambda: state.source("edited") is not None, timeout=30_000)
    x = window.waveform_view.curves["original"].xData
    assert x[0] == pytest.approx(15.0) and x[-1] == pytest.approx(20.0, abs=0.01)
    image = window.spectrogram_view.images["original"]
    assert image.mapRectToParent(image.boundingRect()).left() == pytest.approx(15.0)
    view = window.waveform_view.plot.getViewBox()
    plot_widget = window.waveform_view.plot_widget
    qtbot.waitUntil(lambda: plot_widget.isVisible(), timeout=5_000)
    scene_point = view.mapViewToScene(QPoint(17, 0))
    QTest.mouseClick(plot_widget.viewport(), Qt.MouseButton.LeftButton,
                     pos=plot_widget.mapFromScene(scene_point))
    clock = window.transport_bar.position_label.text()
    assert clock.startswith("0:16.") or clock.startswith("0:17."), clock
    assert window.waveform_view.play_head.value() == pytest.approx(
        15.0 + float(clock.split(":")[1]) - 15.0, abs=0.1)

    # Another song: the field says where its window starts, not the last song's offset.
    demo_a = next(e.path for e in state.library if e.name == "demo_a.wav")
    select_song(qtbot, window, demo_a)
    assert state.window.offset == 0.0
    assert panel.offset.value() == 0.0
    assert window.transport_bar.position_label.text() == format_time(0.0)


def test_a_dropped_folder_counts_its_failures_hides_dot_files_and_delete_removes(
        qtbot, window, tmp_path):
    state, panel = window.state, window.library_panel
    folder = tmp_path / "junk"
    folder.mkdir()
    for name in ("a1.mp3", "a2.mp3", "a3.mp3"):
        (folder / name).write_text("not audio")
    write_song(folder / ".hidden.wav", 1.0, 300.0)
    write_song(folder / "good.wav", 1.0, 300.0)
    drop_files(panel, [folder])
    qtbot.waitUntil(lambda: all(state.entry(folder / n) is not None
                                and state.entry(folder / n).status != "pending"
                                for n in ("a1.mp3", "a2.mp3", "a3.mp3", "good.wav")),
                    timeout=30_000)
    assert state.entry(folder / ".hidden.wav") is None
    # All three failures of the drop are counted, not only those of the last batch.
    assert window.error_label.text().startswith("⚠ 3 files could not be read")

    # An error stays visible while info messages follow, until its × is clicked.
    state.info("Model loaded")
    assert "3 files" in window.error_label.text()
    QTest.mouseClick(window.dismiss_error_button, Qt.MouseButton.LeftButton)
    assert window.error_label.text() == ""

    # Delete on a selected row removes it; the context menu removes every unreadable one.
    click_item(panel, folder / "a1.mp3")
    QTest.keyClick(panel.list, Qt.Key.Key_Delete)
    assert state.entry(folder / "a1.mp3") is None
    assert panel.item_for(folder / "a1.mp3") is None
    assert (folder / "a1.mp3").exists()  # the file itself is never touched
    assert panel.remove_errors_action in panel.list.actions()
    panel.remove_errors_action.trigger()
    assert not [e for e in state.library if e.status == "error"]
    assert panel.item_for(folder / "good.wav") is not None


def test_long_names_are_cut_in_the_middle_not_hidden_behind_a_scroll_bar(qtbot, window,
                                                                            tmp_path):
    state, panel = window.state, window.library_panel
    path = write_song(tmp_path / ("a very long song name " * 4 + "end.wav"), 1.0, 300.0)
    window.controller.open_paths([path])
    qtbot.waitUntil(lambda: state.entry(path) is not None
                    and state.entry(path).status == "ok", timeout=30_000)
    item = panel.item_for(path)
    assert "0:01.0" in item.text()
    assert not panel.list.horizontalScrollBar().isVisible()
    assert panel.list.visualItemRect(item).right() <= panel.list.viewport().width()
    state.remove_entries([path])


def test_the_edited_curve_is_drawn_only_when_it_differs(qtbot, window):
    view = window.waveform_view
    assert view.visible_traces() == ["original", "recon"]
    with qtbot.waitSignal(window.state.source_changed, timeout=30_000,
                          check_params_cb=lambda kind: kind == "edited"):
        window.edit_panel.set_value("scale", 1.5)
    assert view.visible_traces() == ["original", "recon", "edited"]
    QTest.mouseClick(window.edit_panel.reset_button, Qt.MouseButton.LeftButton)
    assert view.visible_traces() == ["original", "recon"]


def test_spectrograms_have_a_frequency_axis(window):
    ticks = window.spectrogram_view.frequency_ticks("original")
    labels = [label for _, label in ticks]
    assert labels == ["100 Hz", "1k", "4k", "10k"]
    positions = [y for y, _ in ticks]
    assert positions == sorted(positions) and positions[0] > 0 and positions[-1] < 64


def test_f1_lists_every_shortcut_of_the_menus(qtbot, window):
    action = next(a for a in window.findChildren(type(window.about_action))
                  if a.text() == "&Shortcuts")
    action.trigger()
    dialog = next(d for d in window.findChildren(QLabel) if "<table>" in d.text())
    for key in ("Ctrl+M", "Ctrl+Shift+A", "Ctrl+T", "F1", "Delete"):
        assert f"<b>{key}</b>" in dialog.text()
    dialog.window().close()


def _answer_file_dialog(qtbot, seen: dict, accept: bool = False) -> None:
    """When the app's file dialog is up: note its folder, then press Save/Open or Cancel."""
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(50, answer)
            return
        seen["folder"] = Path(dialog.directory().absolutePath())
        if accept:
            dialog.accept()
        else:
            dialog.reject()

    QTimer.singleShot(50, answer)


def test_file_dialogs_start_in_the_music_folder_and_the_status_bar_names_files(
        qtbot, window, tmp_path, monkeypatch):
    from celae_gui import settings

    home = tmp_path / "home"
    (home / "Music").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_MUSIC_DIR", str(home / "Music"))
    monkeypatch.chdir(tmp_path)
    settings.write_value("folders/open", "")
    settings.write_value("folders/export", "")
    seen: dict = {}
    _answer_file_dialog(qtbot, seen)
    open_action = next(a for a in window.findChildren(type(window.about_action))
                       if a.text() == "&Open songs…")
    open_action.trigger()
    assert seen["folder"] in (home / "Music", home), seen
    assert seen["folder"] != tmp_path

    # Export proposes "<song>-edited.wav" in the music folder; the status bar names the file.
    _answer_file_dialog(qtbot, seen, accept=True)
    window.export_action.trigger()
    out = home / "Music" / f"{window.state.current_path.stem}-edited.wav"
    qtbot.waitUntil(out.exists, timeout=10_000)
    assert window.statusBar().currentMessage() == f"Saved {out.name}"


def test_whole_song_mode_never_shows_a_stale_c_and_says_it_is_working(qtbot, window,
                                                                       long_song):
    state = window.state
    select_song(qtbot, window, long_song)
    seen = []

    def record(kind: str) -> None:
        recon, edited = state.audio("recon"), state.audio("edited")
        seen.append((kind, None if recon is None else len(recon),
                     None if edited is None else len(edited)))

    state.source_changed.connect(record)
    try:
        QTest.mouseClick(window.library_panel.whole_song, Qt.MouseButton.LeftButton)
        assert state.window.whole_song
        # Until the new B and C land, C is gone (not the old window's) and the bar says why.
        assert state.audio("edited") is None
        assert window.busy_label.isVisible() and "Reconstructing" in window.busy_label.text()
        qtbot.waitUntil(lambda: state.audio("edited") is not None
                        and len(state.audio("edited")) > 15 * 22_050, timeout=60_000)
        qtbot.waitUntil(lambda: not window.busy_label.isVisible(), timeout=10_000)
    finally:
        state.source_changed.disconnect(record)
        QTest.mouseClick(window.library_panel.whole_song, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: state.source("edited") is not None
                        and not state.window.whole_song, timeout=60_000)
    # Whenever B and C were both shown they were of the same audio length (the same window).
    assert all(r == e for _k, r, e in seen if r is not None and e is not None), seen
    assert window.transport_bar.position_label.text() == format_time(state.time_origin())


def test_clear_empties_the_library(qtbot, window, gui_resources):
    state = window.state
    QTest.mouseClick(window.library_panel.clear_button, Qt.MouseButton.LeftButton)
    assert state.library == [] and state.current_path is None
    assert window.library_panel.list.count() == 0
    assert window.waveform_view.visible_traces() == []
    # Back to the module's starting point for any test that follows.
    window.controller.open_paths([gui_resources / "demo" / "demo_a.wav"])
    qtbot.waitUntil(lambda: state.source("edited") is not None, timeout=60_000)
    assert np.asarray(state.audio("original")).size


def test_a_long_source_is_drawn_from_its_min_max_envelope():
    """Every sample of a 5-minute song froze the window while pyqtgraph decimated them."""
    from celae_gui.views.figures import ENVELOPE_BINS, envelope_of

    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(300 * 22_050)).astype(np.float32)
    audio[123_456] = 0.9
    audio[4_000_000] = -0.8
    seconds, values = envelope_of(audio)
    assert len(values) <= 2 * ENVELOPE_BINS and len(seconds) == len(values)
    assert values.max() == pytest.approx(0.9) and values.min() == pytest.approx(-0.8)
    assert np.all(np.diff(seconds) >= 0) and seconds[-1] < 300.0
    assert envelope_of(audio[:22_050 * 5]) is None  # a 5 s window is drawn sample by sample
