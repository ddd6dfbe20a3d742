"""The analysis view: how well the latents classify and cluster, and a map of a data set.

Two tabs. *Classification* shows a classifier's confusion matrix as a heat map (row-normalised
colour, counts written in the cells) and its per-class precision/recall/F1 table, for the latent
probe and each baseline stored with the classifier. *Clustering & map* runs
``core.analysis.run_cluster`` on a folder in a worker and shows, per feature set, the
metric-vs-k curves with the elbow marked and the 2-D PCA scatter of every clip, coloured by
cluster or genre. Hovering a point names its clip and plays a short preview of it; clicking it
loads that clip into the main window and plays it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QTimer, Signal
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
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from celae_gui import settings
from celae_gui.playback.preview import PreviewPlayer
from celae_gui.state import AppState, ClipWindow
from celae_gui.views.analysis_views import HOVER_DELAY_MS, ClusterView, ConfusionView
from celae_gui.views.plot_style import configure_pyqtgraph
from celae_gui.workers.base import TaskSlot
from celae_gui.workers.cluster_worker import (
    ClipAudio,
    ClipLoadWorker,
    ClusterSettings,
    ClusterWorker,
)


def separation(report) -> tuple[str, float]:
    """How well a clustering separates the clips: the adjusted mutual information with the
    genres at the chosen k when they are known, else the silhouette."""
    row = next((r for r in report.rows if r.k == report.chosen_k), report.rows[-1])
    if report.labels is not None and row.ami is not None:
        return "genre AMI", float(row.ami)
    return "silhouette", float(row.silhouette)


def best_report_index(reports) -> int:
    """The latent feature set that separates the clips best (any set when no latent one).

    "latent (flatten)" collapses real music onto a line; the pooled statistics usually
    separate styles far better, but which is best is measured, not assumed.
    """
    latent = [i for i, r in enumerate(reports) if r.name.startswith("latent")]
    candidates = latent or list(range(len(reports)))
    return max(candidates, key=lambda i: separation(reports[i])[1])


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
        # clicked(bool) would land in run_clustering's ``data`` argument: call it with none.
        self.run_button.clicked.connect(lambda _checked=False: self.run_clustering())
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
        self.features_note = QLabel("")
        self.features_note.setObjectName("muted")
        box.addWidget(self.features_note)
        box.addWidget(self.message)
        self.cluster_view = ClusterView()
        self.cluster_view.point_hovered.connect(self._on_point_hovered)
        self.cluster_view.point_clicked.connect(self.open_clip)
        box.addWidget(self.cluster_view, 1)
        return page

    def _browse(self) -> None:
        start = self.dataset.text() or settings.start_folder("folders/dataset")
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", start)
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
        # Imported here: core.genre.probe pulls in torch, which must stay off the launch path.
        from core.genre.probe import ClassificationMetrics

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
        """Show a ``core.analysis.cluster.ClusterResult``."""
        self.result = result
        self.feature_choice.blockSignals(True)
        self.feature_choice.clear()
        self.feature_choice.addItems([r.name for r in result.reports])
        if result.reports:
            self.feature_choice.setCurrentIndex(best_report_index(result.reports))
        self.feature_choice.blockSignals(False)
        labelled = any(r.labels is not None for r in result.reports)
        self.colour_choice.model().item(1).setEnabled(labelled)
        if not labelled:
            self.colour_choice.setCurrentIndex(0)
        self._redraw_cluster()
        self.message.setText(f"{len(result.clips)} clips of {Path(result.dataset).name} in "
                             f"{result.seconds:.1f} s. Hover a point to hear it, click it to "
                             "open it.")
        self._describe_features()

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
        self._describe_features()

    def _describe_features(self) -> None:
        """Say which features the map shows and how well each set separates the clips."""
        if self.result is None or not self.result.reports:
            self.features_note.setText("")
            return
        reports = self.result.reports
        shown = reports[max(0, self.feature_choice.currentIndex())]
        best = reports[best_report_index(reports)]
        scores = ", ".join(f"{r.name} {separation(r)[1]:.2f}" for r in reports)
        self.features_note.setText(
            f"Map of {shown.name} features"
            + (" (the best-separating latent features)" if shown is best else "")
            + f". {separation(shown)[0]}: {scores}")

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
        results = [slot.shutdown() for slot in (self._cluster, self._preview)]
        return all(results)

    def closeEvent(self, event) -> None:  # noqa: N802
        self._cluster.cancel()
        self.preview_player.stop()
        super().closeEvent(event)
