"""The analysis view: how well the latents classify and cluster, and a map of a data set.

Two tabs. *Classification* shows a classifier's confusion matrix as a heat map (row-normalised
colour, counts written in the cells) and its per-class precision/recall/F1 table, for the latent
probe and each baseline stored with the classifier. *Clustering & map* runs
``core.analysis_cli.run_cluster`` on a folder in a worker and shows, per feature set, the
metric-vs-k curves with the elbow marked and the 2-D PCA scatter of every clip, coloured by
cluster or genre. Hovering a point names its clip and plays a short preview of it; clicking it
loads that clip into the main window and plays it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from celae_gui import settings, theme
from celae_gui.plot_style import configure_pyqtgraph, style_plot
from celae_gui.state import AppState, ClipWindow
from celae_gui.workers.base import TaskSlot
from celae_gui.workers.cluster_worker import (
    ClipAudio,
    ClipLoadWorker,
    ClusterSettings,
    ClusterWorker,
)

HOVER_DELAY_MS = 250
TABLE_COLUMNS = ("genre", "precision", "recall", "F1", "support")
CURVES = (("silhouette", "silhouette", "#5ce1a6"), ("v_measure", "V-measure", "#4fa3ff"),
          ("ari", "ARI", "#ffa94d"), ("ami", "AMI", "#d98cff"))


class PreviewPlayer(QObject):
    """Plays one short buffer on its own output (hover previews, morph steps).

    Without sound output it still records what it was asked to play (``last_audio``), so the
    rest of the app behaves the same.
    """

    started = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._player = None
        self.last_audio: np.ndarray | None = None

    def play(self, audio: np.ndarray) -> None:
        """Play ``audio[T]`` from its start, replacing what was playing."""
        self.last_audio = np.asarray(audio, dtype=np.float32)
        try:
            if self._player is None:
                from celae_gui.player import Player

                self._player = Player()
            self._player.stop()
            self._player.set_source("A", self.last_audio)
            self._player.select("A")
            self._player.play()
        except Exception:  # no sound output is not an error for a preview
            self._player = None
        self.started.emit(self.last_audio)

    def stop(self) -> None:
        """Stop the preview."""
        if self._player is not None:
            self._player.stop()

    def close(self) -> None:
        """Close the output stream."""
        if self._player is not None:
            self._player.close()
            self._player = None


def _table_item(text: str, right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class ConfusionView(QWidget):
    """Confusion matrix heat map and per-class table of one ``ClassificationMetrics``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget()
        plot = self.plot_widget.getPlotItem()
        style_plot(plot, "true genre", "predicted genre")
        plot.showGrid(x=False, y=False)
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.getViewBox().setMouseEnabled(False, False)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        plot.addItem(self.image)
        self._texts: list[pg.TextItem] = []
        self.summary = QLabel("")
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.plot_widget)
        splitter.addWidget(self.table)
        splitter.setSizes([520, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self.metrics = None

    def show_metrics(self, m) -> None:
        """Draw ``m`` (a ``core.classify.ClassificationMetrics``)."""
        self.metrics = m
        cm = np.asarray(m.confusion, dtype=float)
        rows = cm.sum(1, keepdims=True)
        # Row-normalised colour: a small genre's misses show as clearly as a big one's.
        self.image.setImage(np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0),
                            levels=(0.0, 1.0))
        self.image.setRect(0, 0, cm.shape[1], cm.shape[0])
        plot = self.plot_widget.getPlotItem()
        for t in self._texts:
            plot.removeItem(t)
        self._texts = []
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                share = cm[i, j] / rows[i, 0] if rows[i, 0] else 0.0
                text = pg.TextItem(f"{int(cm[i, j])}", anchor=(0.5, 0.5),
                                   color="#101010" if share > 0.6 else theme.TEXT)
                text.setPos(j + 0.5, i + 0.5)
                plot.addItem(text)
                self._texts.append(text)
        ticks = [(i + 0.5, g[:7]) for i, g in enumerate(m.genres)]
        plot.getAxis("bottom").setTicks([ticks])
        plot.getAxis("left").setTicks([ticks])
        # Room for the genre names beside the axis label (custom ticks do not resize it).
        plot.getAxis("left").setWidth(86)
        plot.setRange(xRange=(0, cm.shape[1]), yRange=(0, cm.shape[0]), padding=0.02)
        song = "" if m.song_accuracy is None else f", per song {100 * m.song_accuracy:.1f} %"
        self.summary.setText(f"{m.name}: accuracy {100 * m.accuracy:.1f} %{song}, macro F1 "
                             f"{m.macro.f1:.3f} on {m.n_clips} {m.evaluated_on} clips")
        rows_out = [*m.per_class, m.macro, m.weighted]
        self.table.setRowCount(len(rows_out))
        for r, row in enumerate(rows_out):
            values = (row.genre, f"{row.precision:.3f}", f"{row.recall:.3f}", f"{row.f1:.3f}",
                      str(row.support))
            for c, text in enumerate(values):
                self.table.setItem(r, c, _table_item(text, right=c > 0))
        self.table.resizeColumnsToContents()

    def cell_text(self, row: int, col: int) -> str:
        """The count written in cell (true ``row``, predicted ``col``)."""
        return self._texts[row * len(self.metrics.genres) + col].toPlainText()


class ClusterView(QWidget):
    """Metric-vs-k curves with the elbow, and the 2-D map of the clips of one sweep."""

    point_hovered = Signal(int)
    point_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.curve_widget = pg.PlotWidget()
        cplot = self.curve_widget.getPlotItem()
        style_plot(cplot, "score", "k (clusters)")
        cplot.addLegend(offset=(-10, 8), labelTextColor=theme.TEXT)
        self.curves = {key: cplot.plot(pen=pg.mkPen(colour, width=2), symbol="o",
                                       symbolSize=5, name=label)
                       for key, label, colour in CURVES}
        self.inertia_curve = cplot.plot(pen=pg.mkPen(theme.MUTED, width=2,
                                                     style=Qt.PenStyle.DashLine),
                                        name="inertia (scaled)")
        self.elbow_line = pg.InfiniteLine(angle=90, movable=False,
                                          pen=pg.mkPen(theme.ERROR, width=1.5),
                                          label="elbow k = {value:.0f}",
                                          labelOpts={"color": theme.ERROR, "position": 0.92})
        self.elbow_line.setVisible(False)
        cplot.addItem(self.elbow_line)
        self._tips: list[str] = []
        self.map_widget = pg.PlotWidget()
        mplot = self.map_widget.getPlotItem()
        style_plot(mplot, "PC 2", "PC 1")
        self.legend = mplot.addLegend(offset=(-10, 8), labelTextColor=theme.TEXT)
        self.scatter = pg.ScatterPlotItem(size=9, pen=None, hoverable=True,
                                          hoverSize=13, hoverPen=pg.mkPen(theme.TEXT),
                                          tip=self._tip)
        self.scatter.sigHovered.connect(self._on_hovered)
        self.scatter.sigClicked.connect(self._on_clicked)
        mplot.addItem(self.scatter)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.curve_widget)
        splitter.addWidget(self.map_widget)
        splitter.setSizes([420, 560])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.report = None
        self._hovered = -1

    def show_report(self, report, colour_by: str, names: list[str]) -> None:
        """Draw one ``core.cluster.ClusterReport``; ``names[i]`` is point ``i``'s hover text."""
        self.report = report
        ks = np.array([r.k for r in report.rows], dtype=float)
        for key, curve in self.curves.items():
            values = [getattr(r, key) for r in report.rows]
            ok = [v is not None and np.isfinite(v) for v in values]
            curve.setData(ks[ok], np.array([v for v, o in zip(values, ok, strict=True) if o],
                                           dtype=float))
        inertia = np.array([r.inertia for r in report.rows], dtype=float)
        span = np.ptp(inertia) or 1.0
        self.inertia_curve.setData(ks, (inertia - inertia.min()) / span)
        self.elbow_line.setVisible(True)
        self.elbow_line.setValue(report.elbow_k)
        self.elbow_line.label.valueChanged()  # the label skips updates while hidden
        self.set_colouring(colour_by, names)

    def set_colouring(self, colour_by: str, names: list[str]) -> None:
        """Colour the map's points by ``"cluster"`` or ``"genre"``."""
        report = self.report
        if report is None:
            return
        if colour_by == "genre" and report.labels is not None:
            groups = np.asarray(report.labels)
            labels = list(report.label_names)
        else:
            groups = np.asarray(report.assignments)
            labels = [f"cluster {i + 1}" for i in range(int(groups.max()) + 1)]
        hues = max(len(labels), 9)
        brushes = [pg.mkBrush(pg.intColor(int(g), hues=hues)) for g in groups]
        coords = np.asarray(report.coords, dtype=float)
        tips = [f"{names[i] if i < len(names) else f'clip {i}'}\n"
                f"{labels[int(g)] if 0 <= int(g) < len(labels) else ''}"
                for i, g in enumerate(groups)]
        self.scatter.setData(x=coords[:, 0], y=coords[:, 1], brush=brushes,
                             data=list(range(len(coords))))
        self._tips = tips
        self.legend.clear()
        for g, label in enumerate(labels):
            self.legend.addItem(pg.ScatterPlotItem(brush=pg.intColor(g, hues=hues), pen=None,
                                                   size=9), label)

    def _tip(self, x: float, y: float, data) -> str:
        return self._tips[int(data)] if 0 <= int(data) < len(self._tips) else ""

    def point_position(self, index: int):
        """Where point ``index`` is drawn, in the map widget's viewport coordinates."""
        x, y = self.report.coords[index]
        scene = self.map_widget.getPlotItem().getViewBox().mapViewToScene(pg.Point(x, y))
        return self.map_widget.mapFromScene(scene)

    def _on_hovered(self, _item, points, _ev) -> None:
        index = int(points[0].data()) if len(points) else -1
        if index != self._hovered:
            self._hovered = index
            if index >= 0:
                self.point_hovered.emit(index)

    def _on_clicked(self, _item, points, _ev) -> None:
        if len(points):
            self.point_clicked.emit(int(points[0].data()))


class _Shown(NamedTuple):
    """The part of a reconstruction result :meth:`AnalysisWindow._on_reconstructed` reads."""

    path: Path
    window: ClipWindow


class AnalysisWindow(QDialog):
    """Classification and clustering results, and the clickable map of a data set.

    ``controller`` and ``playback`` (the main window's) let a click load and play a clip.
    """

    clip_loaded = Signal(object, float)
    """A clicked clip was made the main window's current song and window."""
    preview_ready = Signal(object)
    """The :class:`ClipAudio` of a hovered point, as handed to the preview player."""

    def __init__(self, state: AppState, controller=None, playback=None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        configure_pyqtgraph()
        self.setWindowTitle("Analysis")
        self.setModal(False)
        self.resize(1080, 640)
        self._state = state
        self._controller = controller
        self._playback = playback
        self._cluster = TaskSlot("cluster", self)
        self._preview = TaskSlot("preview", self)
        self.preview_player = PreviewPlayer(self)
        self.result = None
        self._play_when = None
        self._hover_index = -1
        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(HOVER_DELAY_MS)
        self._hover_timer.timeout.connect(self._load_preview)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_classification_tab(), "Classification")
        self.tabs.addTab(self._build_cluster_tab(), "Clustering && map")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        state.classifier_changed.connect(self._on_classifier_changed)
        if controller is not None:
            controller.reconstructed.connect(self._on_reconstructed)
        self._on_classifier_changed(state.classifier)

    # --- layout ------------------------------------------------------------------------------
    def _build_classification_tab(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        row = QHBoxLayout()
        row.addWidget(QLabel("Classifier"))
        self.metrics_choice = QComboBox()
        self.metrics_choice.currentIndexChanged.connect(self._on_metrics_choice)
        row.addWidget(self.metrics_choice, 1)
        box.addLayout(row)
        self.no_metrics = QLabel("No classifier for this model yet: Train ▸ Train classifier…")
        self.no_metrics.setObjectName("muted")
        box.addWidget(self.no_metrics)
        self.confusion = ConfusionView()
        box.addWidget(self.confusion, 1)
        self._metrics: list = []
        return page

    def _build_cluster_tab(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        row = QHBoxLayout()
        self.dataset = QLineEdit(settings.read_str("folders/dataset"))
        self.dataset.setPlaceholderText("Folder of songs (one sub-folder per genre colours by "
                                        "genre)")
        browse = QPushButton("…")
        browse.setFixedWidth(32)
        browse.clicked.connect(self._browse)
        self.max_clips = QSpinBox()
        self.max_clips.setRange(0, 1_000_000)
        self.max_clips.setValue(600)
        self.max_clips.setSpecialValueText("all")
        self.max_clips.setPrefix("max clips ")
        self.k_max = QSpinBox()
        self.k_max.setRange(3, 40)
        self.k_max.setValue(20)
        self.k_max.setPrefix("k ≤ ")
        self.run_button = QPushButton("Cluster")
        self.run_button.clicked.connect(self.run_clustering)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_clustering)
        for w, stretch in ((QLabel("Dataset"), 0), (self.dataset, 1), (browse, 0),
                           (self.max_clips, 0), (self.k_max, 0), (self.run_button, 0),
                           (self.cancel_button, 0)):
            row.addWidget(w, stretch)
        box.addLayout(row)
        row2 = QHBoxLayout()
        self.feature_choice = QComboBox()
        self.feature_choice.setToolTip("Which features were clustered")
        self.feature_choice.currentIndexChanged.connect(self._redraw_cluster)
        self.colour_choice = QComboBox()
        self.colour_choice.addItems(["cluster", "genre"])
        self.colour_choice.currentIndexChanged.connect(self._recolour)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.message = QLabel("Choose a folder and press Cluster. Hover a point to hear it, "
                              "click it to open it.")
        self.message.setObjectName("muted")
        row2.addWidget(QLabel("Features"))
        row2.addWidget(self.feature_choice, 1)
        row2.addWidget(QLabel("Colour by"))
        row2.addWidget(self.colour_choice)
        row2.addWidget(self.progress, 1)
        box.addLayout(row2)
        box.addWidget(self.message)
        self.cluster_view = ClusterView()
        self.cluster_view.point_hovered.connect(self._on_point_hovered)
        self.cluster_view.point_clicked.connect(self.open_clip)
        box.addWidget(self.cluster_view, 1)
        return page

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.dataset.text())
        if folder:
            self.dataset.setText(folder)

    # --- classification ----------------------------------------------------------------------
    def show_metrics(self, metrics: list) -> None:
        """Offer these ``ClassificationMetrics`` (probe first, then baselines) in the tab."""
        self._metrics = list(metrics)
        self.metrics_choice.blockSignals(True)
        self.metrics_choice.clear()
        self.metrics_choice.addItems([m.name for m in self._metrics])
        self.metrics_choice.blockSignals(False)
        self.no_metrics.setVisible(not self._metrics)
        self.confusion.setVisible(bool(self._metrics))
        if self._metrics:
            self.metrics_choice.setCurrentIndex(0)
            self.confusion.show_metrics(self._metrics[0])

    def _on_metrics_choice(self, index: int) -> None:
        if 0 <= index < len(self._metrics):
            self.confusion.show_metrics(self._metrics[index])

    def _on_classifier_changed(self, loaded_classifier) -> None:
        if loaded_classifier is None:
            self.show_metrics([])
            return
        # Imported here: core.classify pulls in torch, which must stay off the launch path.
        from core.classify import ClassificationMetrics

        stored = loaded_classifier.meta.get("metrics", {})
        found = []
        for d in [stored.get("probe"), *stored.get("baselines", [])]:
            if d:
                try:
                    found.append(ClassificationMetrics.from_dict(d))
                except (KeyError, TypeError, ValueError):
                    continue  # metrics written by another version: show the others
        self.show_metrics(found)

    # --- clustering --------------------------------------------------------------------------
    def run_clustering(self, data: Path | None = None, *, k_max: int | None = None,
                       baseline: bool = True) -> None:
        """Cluster the clips of ``data`` (default: the folder field) with the current model."""
        model = self._state.model
        folder = Path(data) if data is not None else Path(self.dataset.text().strip())
        if model is None:
            self._show_error("Load a model first")
            return
        if not str(folder) or not folder.is_dir():
            self._show_error(f"{folder}: choose an existing folder of songs")
            return
        settings.write_value("folders/dataset", str(folder))
        self.dataset.setText(str(folder))
        worker = ClusterWorker(ClusterSettings(
            folder, Path(model.path), k_max=k_max or int(self.k_max.value()),
            max_clips=int(self.max_clips.value()) or None, baseline=baseline))
        worker.progress.connect(self._on_progress)
        worker.result.connect(self._on_cluster_result)
        worker.failed.connect(self._show_error)
        worker.finished.connect(self._on_cluster_finished)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.message.setText(f"Clustering {folder.name}…")
        self._cluster.start(worker)

    def cancel_clustering(self) -> None:
        """Stop the running sweep."""
        self._cluster.cancel()
        self.message.setText("Cancelled")
        self._on_cluster_finished()

    def show_cluster_result(self, result) -> None:
        """Show a ``core.analysis_cluster.ClusterResult``."""
        self.result = result
        self.feature_choice.blockSignals(True)
        self.feature_choice.clear()
        self.feature_choice.addItems([r.name for r in result.reports])
        self.feature_choice.blockSignals(False)
        labelled = any(r.labels is not None for r in result.reports)
        self.colour_choice.model().item(1).setEnabled(labelled)
        if not labelled:
            self.colour_choice.setCurrentIndex(0)
        self._redraw_cluster()
        self.message.setText(f"{len(result.clips)} clips of {Path(result.dataset).name} in "
                             f"{result.seconds:.1f} s. Hover a point to hear it, click it to "
                             "open it.")

    def clip_names(self) -> list[str]:
        """Hover text of every point: song file, start and genre."""
        if self.result is None:
            return []
        return [f"{Path(c.path).name} @ {c.offset:.0f} s" + (f" ({c.genre})" if c.genre else "")
                for c in self.result.clips]

    def _redraw_cluster(self, *_args) -> None:
        if self.result is None or not self.result.reports:
            return
        report = self.result.reports[max(0, self.feature_choice.currentIndex())]
        self.cluster_view.show_report(report, self.colour_choice.currentText(),
                                      self.clip_names())

    def _recolour(self, *_args) -> None:
        self.cluster_view.set_colouring(self.colour_choice.currentText(), self.clip_names())

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        self.message.setText(message)

    def _on_cluster_result(self, result) -> None:
        self.progress.setValue(1000)
        self.show_cluster_result(result)

    def _on_cluster_finished(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _show_error(self, message: str) -> None:
        self.message.setText(f"⚠ {message}")

    # --- hover preview and click -------------------------------------------------------------
    def _on_point_hovered(self, index: int) -> None:
        self._hover_index = index
        self._hover_timer.start()

    def _load_preview(self) -> None:
        if self.result is None or not 0 <= self._hover_index < len(self.result.clips):
            return
        clip = self.result.clips[self._hover_index]
        worker = ClipLoadWorker(Path(clip.path), clip.offset)
        worker.result.connect(self._on_preview_loaded)
        self._preview.start(worker)

    def preview(self, index: int) -> None:
        """Play the preview of point ``index`` now (what hovering does after a short rest)."""
        self._hover_index = index
        self._load_preview()

    def _on_preview_loaded(self, clip: ClipAudio) -> None:
        self.preview_player.play(clip.audio)
        self.preview_ready.emit(clip)

    def open_clip(self, index: int) -> None:
        """Make point ``index``'s clip the main window's current song and window; it plays once
        it is reconstructed."""
        if self.result is None or not 0 <= index < len(self.result.clips):
            return
        clip = self.result.clips[index]
        path, window = Path(clip.path), ClipWindow(offset=float(clip.offset))
        self.preview_player.stop()
        state = self._state
        if state.entry(path) is None:
            state.add_paths([path])
            if self._controller is not None:
                self._controller.open_paths([path])  # probes it, so the library shows its status
        already = (state.current_path == path and state.window == window
                   and state.audio("original") is not None)
        state.set_current_song(path)
        state.set_window(window)
        self._play_when = (path, window)
        self.clip_loaded.emit(path, window.offset)
        if already:  # nothing to reconstruct: play it now
            self._on_reconstructed(_Shown(path, window))

    def _on_reconstructed(self, result) -> None:
        if self._play_when != (result.path, result.window):
            return
        self._play_when = None
        if self._playback is not None:
            self._playback.select("original")
            self._playback.seek(0.0)
            self._playback.play()

    # --- closing -----------------------------------------------------------------------------
    def shutdown(self) -> bool:
        """Cancel and join the workers and close the preview output."""
        self._hover_timer.stop()
        self.preview_player.close()
        return self._cluster.shutdown() and self._preview.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._cluster.cancel()
        self.preview_player.stop()
        super().closeEvent(event)
