"""The analysis window with a real tiny model and real files: a clustering run drawn as curves
and a map, hovering a point previews its clip, clicking it opens the clip in the main window;
and a confusion matrix drawn from real metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import write_song
from tests.gui.test_genre_panel import (
    close_window,
    open_window,
    save_tiny_model,
    write_tone_dataset,
)


def move_mouse(widget, pos) -> None:
    """Deliver a real mouse-move event at ``pos`` (QTest's mouseMove only moves the cursor,
    which the offscreen platform does not turn into events)."""
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), QPointF(widget.mapToGlobal(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def hover(cv, index: int) -> bool:
    """Move the pointer onto point ``index``; True once the map reports it hovered."""
    move_mouse(cv.map_widget.viewport(), cv.point_position(index))
    return cv._hovered == index


def isolated_point(cv, clips) -> int:
    """A point drawn at least 15 px from every other and clear of the legend (a click there
    hits only it), preferring a clip that does not start its song."""
    pos = np.array([[p.x(), p.y()] for p in (cv.point_position(i) for i in range(len(clips)))])
    dist = np.linalg.norm(pos[:, None] - pos[None], axis=2) + np.eye(len(pos)) * 1e9
    legend = cv.map_widget.mapFromScene(cv.legend.sceneBoundingRect()).boundingRect()
    legend.adjust(-10, -10, 10, 10)  # the legend takes the pointer over the points below it
    alone = [i for i in range(len(clips)) if dist[i].min() > 15
             and not legend.contains(int(pos[i, 0]), int(pos[i, 1]))]
    assert alone, "every point of the map overlaps another or the legend"
    later = [i for i in alone if clips[i].offset > 0]
    return (later or alone)[0]


@pytest.fixture(scope="module")
def analysis(qapp, gui_resources, tmp_path_factory):
    root = tmp_path_factory.mktemp("analysis")
    model = save_tiny_model(root / "tiny-map", seed=2)
    data = write_tone_dataset(root / "data", songs_per_genre=3, clips=2)
    song = write_song(root / "songs" / "start.wav", 1.0, 440.0, seed=5)
    win = open_window(model, [song])
    yield win, data
    close_window(win)


def test_cluster_run_draws_curves_elbow_and_a_map_and_a_click_opens_the_clip(
        qtbot, analysis, qt_thread_guard):
    win, data = analysis
    view = win.analysis_window
    win._show_dialog(view)
    view.tabs.setCurrentIndex(1)
    view.max_clips.setValue(0)
    view.k_max.setValue(6)
    view.dataset.clear()
    QTest.keyClicks(view.dataset, str(data))
    # The Cluster button itself: its clicked(bool) once reached run_clustering as the folder.
    with qtbot.waitSignal(view.feature_choice.model().rowsInserted, timeout=60_000):
        QTest.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=30_000)
    assert not view.message.text().startswith("⚠"), view.message.text()
    result = view.result
    n = len(result.clips)
    assert n == 3 * 3 * 2  # every clip of every song
    assert [view.feature_choice.itemText(i) for i in range(view.feature_choice.count())] \
        == [r.name for r in result.reports]
    # The map shows the latent features that separate the genres best, and says so.
    from celae_gui.dialogs.analysis_window import separation

    report = result.reports[view.feature_choice.currentIndex()]
    latent = [r for r in result.reports if r.name.startswith("latent")]
    assert report.name.startswith("latent")
    assert separation(report)[1] == max(separation(r)[1] for r in latent)
    assert f"Map of {report.name} features" in view.features_note.text()
    assert "genre AMI" in view.features_note.text()
    cv = view.cluster_view
    assert len(cv.scatter.data) == n
    silhouette = cv.curves["silhouette"]
    assert list(silhouette.xData) == [r.k for r in report.rows]
    assert cv.elbow_line.isVisible() and cv.elbow_line.value() == report.elbow_k
    assert f"k = {report.elbow_k}" in cv.elbow_line.label.toPlainText()

    # Colour by genre: points of one genre share a colour, and there are three colours.
    view.colour_choice.setCurrentText("genre")
    colours = cv.point_colours()
    assert len(set(colours)) == 3
    genres = [c.genre for c in result.clips]
    assert all(colours[i] == colours[j] for i in range(n) for j in range(n)
               if genres[i] == genres[j])
    assert cv._tip(0, 0, 4).startswith(Path(result.clips[4].path).name)

    # A hover previews the clip under the pointer.
    state = win.state
    qtbot.waitUntil(lambda: cv.map_widget.isVisible(), timeout=5_000)
    target = isolated_point(cv, result.clips)
    clip = result.clips[target]
    with qtbot.waitSignal(view.preview_ready, timeout=10_000) as preview:
        # pyqtgraph drops moves that follow another within 10 ms (Qt synthesises some when a
        # window appears under the pointer): move until the map has seen the hover.
        qtbot.waitUntil(lambda: hover(cv, target), timeout=5_000)
    assert preview.args[0].path == Path(clip.path)
    assert preview.args[0].offset == pytest.approx(clip.offset)
    tip = cv.map_widget.getPlotItem().getViewBox().toolTip()
    assert f"{Path(clip.path).name} @ {clip.offset:.0f} s ({clip.genre})" in tip
    assert view.preview_player.last_audio is not None and view.preview_player.last_audio.size

    # A real click on the drawn point loads that clip into the main window.
    with qtbot.waitSignal(win.controller.reconstructed, timeout=30_000,
                          check_params_cb=lambda r: r.path == Path(clip.path)):
        qtbot.mouseClick(cv.map_widget.viewport(), Qt.MouseButton.LeftButton,
                         pos=cv.point_position(target))
    assert state.current_path == Path(clip.path)
    assert state.window.offset == pytest.approx(clip.offset)
    # "Window from" says where the opened clip starts (it kept the previous value).
    assert win.library_panel.offset.value() == pytest.approx(clip.offset, abs=0.05)
    assert state.entry(Path(clip.path)) is not None
    view.close()


def test_confusion_matrix_and_per_class_table_show_the_metrics(qtbot, analysis):
    from core.genre.probe import classification_metrics

    win, _ = analysis
    view = win.analysis_window
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 0, 1, 1, 2, 0, 2, 1])
    metrics = classification_metrics(y_true, np.eye(3)[y_pred], ["blues", "jazz", "metal"],
                                     name="latent probe (stats)", evaluated_on="test")
    view.show_metrics([metrics])
    assert view.metrics_choice.currentText() == "latent probe (stats)"
    confusion = view.confusion
    assert [confusion.cell_text(0, j) for j in range(3)] == ["2", "1", "0"]
    assert confusion.cell_text(2, 2) == "2"
    image = confusion.image.image
    assert image[0, 0] == pytest.approx(2 / 3) and image[2, 0] == pytest.approx(1 / 4)
    table = confusion.table
    assert table.rowCount() == 5  # three genres, macro and weighted averages
    assert [table.item(r, 0).text() for r in range(5)] == \
        ["blues", "jazz", "metal", "macro avg", "weighted avg"]
    assert table.item(2, 2).text() == f"{metrics.per_class[2].recall:.3f}"
    assert "accuracy 66.7 %" in confusion.summary.text()  # 6 of 9 right


def _lab(colour) -> np.ndarray:
    """CIE L*a*b* of a QColor (sRGB, D65)."""
    rgb = np.array([colour.redF(), colour.greenF(), colour.blueF()])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_map_colours_of_ten_genres_are_far_apart():
    """Evenly spaced hues gave two neighbouring genres nearly the same green (#33ff00 and
    #00ff66, CIE76 distance 25.8)."""
    from PySide6.QtGui import QColor

    from celae_gui import theme

    lab = [_lab(QColor(theme.category_colour(i, 10))) for i in range(10)]
    gaps = [np.linalg.norm(lab[i] - lab[j]) for i in range(10) for j in range(i + 1, 10)]
    assert min(gaps) > 30
