"""Genre probabilities of the current clip as grouped bars (original, reconstruction, live
edit), or why there are none yet.

A model's genre classifier lives in ``<model>/classifier`` or, for a bundled model,
``core.paths.default_classifier_dir(model)``; it is written by ``celae classify train`` or
Train ▸ Train classifier. The panel loads it in a worker when the model changes and publishes it
as ``state.classifier``; the original's and the reconstruction's probabilities are computed in a
worker, the edit's come from the edit worker's own pass (so they move with the sliders).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from celae_gui import theme
from celae_gui.state import SOURCES, AppState
from celae_gui.views.plot_style import configure_pyqtgraph
from celae_gui.workers.base import TaskSlot
from celae_gui.workers.classify_worker import (
    ClassifierLoadWorker,
    GenreResult,
    GenreWorker,
    find_classifier,
)

BAR_WIDTH = 0.26
OFFSETS = dict(zip(SOURCES, (-BAR_WIDTH, 0.0, BAR_WIDTH), strict=True))
"""Where each source's bar sits beside the genre's tick."""


def classifier_dir(model_path: Path | None) -> Path | None:
    """The classifier folder of a model folder, or None when it has none."""
    return find_classifier(model_path)


def trained_on(loaded_classifier) -> str:
    """The short label of the data a classifier learned from ("unknown data" when unsaid)."""
    label = getattr(loaded_classifier, "trained_on", None) or \
        loaded_classifier.meta.get("trained_on")
    return str(label) if label else "unknown data"


def legend_html() -> str:
    """A, B and C in their trace colours, for the line above the bars."""
    return "   ".join(f"<span style='color:{theme.TRACE_COLOURS[k]}'>■</span> "
                      f"{theme.TRACE_LABELS[k]}" for k in SOURCES)


def placeholder_text(model_name: str | None) -> str:
    """Why the panel is empty and how to fill it."""
    if model_name is None:
        return "No model loaded, so no genre probabilities."
    return (f"No genre classifier for “{model_name}” yet.\n\n"
            "Train one on a labelled dataset (GTZAN layout, one folder per genre):\n"
            f"celae classify train DATA --model {model_name} --out CLF\n"
            "with CLF the model's classifier/ folder, or “Train classifier on a folder…” below; "
            "the panel picks it up when it is saved.")


class GenrePanel(QGroupBox):
    """Grouped bar chart of genre probabilities with a placeholder page; ``train_requested``
    when the user asks to train a classifier on a folder."""

    train_requested = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__("Genre", parent)
        configure_pyqtgraph()
        self._state = state
        self._load = TaskSlot("classifier", self)
        self._score = TaskSlot("genres", self)
        self.stack = QStackedWidget()
        self.placeholder = QLabel(placeholder_text(None))
        self.placeholder.setWordWrap(True)
        self.placeholder.setObjectName("muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.train_button = QPushButton("Train classifier on a folder…")
        self.train_button.setToolTip("Open Train ▸ Train classifier for the current model")
        self.train_button.clicked.connect(lambda _c=False: self.train_requested.emit())
        empty_page = QWidget()
        empty_layout = QVBoxLayout(empty_page)
        empty_layout.setContentsMargins(0, 0, 0, 0)
        empty_layout.addWidget(self.placeholder, 1)
        self._empty_page = empty_page
        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        # The legend sits above the plot, not in it: inside it covered the tallest bars.
        self.legend = QLabel(legend_html())
        self.legend.setToolTip("Each bar scores the audio of its source (A the original, B the "
                               "reconstruction, C the edit), encoded clip by clip and averaged")
        page_layout.addWidget(self.legend)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumHeight(140)
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.getViewBox().setMouseEnabled(False, False)
        plot.setYRange(0, 1.08, padding=0.0)  # room for the 100% label
        plot.getAxis("left").setTicks([[(v, f"{v:.0%}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)]])
        self.bars: dict[str, pg.BarGraphItem] = {}
        for kind in SOURCES:
            bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH,
                                   brush=theme.TRACE_COLOURS[kind], pen=None,
                                   name=theme.TRACE_LABELS[kind])
            plot.addItem(bars)
            self.bars[kind] = bars
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        # One line per source, in a box three lines high whether or not text is shown, and
        # never asking for width: its width coming and going with the text re-laid out and
        # repainted every plot (60-115 ms window freezes when a whole song was loaded,
        # scripts/bench_switch.py under Xvfb), and a wrapped line in the stack's one-line box
        # was drawn over the plot's axis.
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.summary.setFixedHeight(len(SOURCES) * self.summary.fontMetrics().lineSpacing() + 4)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.source_label = QLabel("")
        self.source_label.setObjectName("muted")
        self.source_label.setWordWrap(True)
        page_layout.addWidget(self.plot_widget, 1)
        page_layout.addWidget(self.summary)
        page_layout.addWidget(self.source_label)
        self.stack.addWidget(empty_page)
        self.stack.addWidget(page)
        self._page = page
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.train_button)
        state.model_changed.connect(self._on_model_changed)
        state.classifier_changed.connect(self._on_classifier_changed)
        state.latents_changed.connect(self._on_latents_changed)
        state.genre_changed.connect(self._on_genre_changed)

    # --- queries (what the user sees) --------------------------------------------------------
    def showing_placeholder(self) -> bool:
        """True while the panel explains why it is empty."""
        return self.stack.currentWidget() is self._empty_page

    def genres(self) -> list[str]:
        """Genre names on the axis, in bar order."""
        clf = self._state.classifier
        return [] if clf is None else list(clf.genres)

    def probabilities(self, kind: str) -> np.ndarray:
        """Heights of the bars of ``kind`` (empty when it has none)."""
        return np.asarray(self.bars[kind].opts.get("height", []), dtype=float)

    # --- commands ----------------------------------------------------------------------------
    def reload(self, *_args) -> None:
        """Look for the current model's classifier again (e.g. after one was trained)."""
        self._on_model_changed(self._state.model)

    def shutdown(self) -> bool:
        """Cancel and join the panel's workers; True when they stopped in time."""
        results = [slot.shutdown() for slot in (self._load, self._score)]
        return all(results)

    # --- slots -------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        self._score.cancel()
        self._state.set_classifier(None)
        self._show_placeholder(placeholder_text(None if loaded is None else loaded.path.name))
        if loaded is None:
            self._load.cancel()
            return
        worker = ClassifierLoadWorker(loaded)
        worker.result.connect(self._on_classifier_loaded)
        worker.failed.connect(self._on_classifier_failed)
        self._load.start(worker)

    def _on_classifier_loaded(self, loaded_classifier) -> None:
        if loaded_classifier is None:
            return
        if self._state.model is None or loaded_classifier.autoencoder is not self._state.model:
            return  # the model changed while the classifier loaded
        self._state.set_classifier(loaded_classifier)
        self._state.info(f"Genre classifier of {loaded_classifier.autoencoder.name} loaded "
                         f"({len(loaded_classifier.genres)} genres)")

    def _on_classifier_failed(self, message: str) -> None:
        self._show_placeholder(f"The genre classifier could not be loaded:\n{message}")
        self._state.error(f"Genre classifier: {message}")

    def _on_classifier_changed(self, loaded_classifier) -> None:
        for bars in self.bars.values():
            bars.setOpts(x=[], height=[])
        if loaded_classifier is None:
            if not self.showing_placeholder():
                model = self._state.model
                self._show_placeholder(placeholder_text(None if model is None
                                                        else model.path.name))
            return
        genres = loaded_classifier.genres
        axis = self.plot_widget.getPlotItem().getAxis("bottom")
        # Ten genres share ~300 px: short labels, the full names in the tooltip.
        width = 4 if len(genres) > 6 else 7
        axis.setTicks([[(i, g[:width]) for i, g in enumerate(genres)]])
        self.plot_widget.setToolTip("Genres: " + ", ".join(genres))
        self.plot_widget.getPlotItem().setXRange(-0.6, len(genres) - 0.4, padding=0)
        self.summary.setText("")
        self.source_label.setText(f"Classifier trained on {trained_on(loaded_classifier)}")
        self.source_label.setToolTip(str(loaded_classifier.path))
        self.stack.setCurrentWidget(self._page)
        self._on_latents_changed(self._state.latents)

    def _on_latents_changed(self, latents) -> None:
        state = self._state
        if latents is None or state.classifier is None:
            self._score.cancel()
            for kind in ("original", "recon"):
                state.set_genre_probabilities(kind, None)
            return
        original = state.audio("original")
        if original is None or state.classifier.autoencoder is not state.model:
            return  # never score with a classifier of another model
        worker = GenreWorker(state.classifier, latents, original, state.audio("recon"))
        worker.result.connect(self._on_scored)
        worker.failed.connect(self._on_score_failed)
        self._score.start(worker)

    def _on_scored(self, result: GenreResult) -> None:
        if result.latents is not self._state.latents or self._state.classifier is None:
            return
        self._state.set_genre_probabilities("original", result.original)
        self._state.set_genre_probabilities("recon", result.recon)

    def _on_score_failed(self, message: str) -> None:
        self._state.error(f"Genre probabilities: {message}")

    def _on_genre_changed(self, kind: str) -> None:
        if kind not in self.bars:
            return
        proba = self._state.genre_probabilities.get(kind)
        if proba is None:
            self.bars[kind].setOpts(x=[], height=[])
        else:
            x = np.arange(len(proba)) + OFFSETS[kind]
            self.bars[kind].setOpts(x=x, height=np.asarray(proba, dtype=float),
                                    width=BAR_WIDTH)
        self._update_summary()

    def _update_summary(self) -> None:
        genres = self.genres()
        parts = []
        for kind in SOURCES:
            proba = self._state.genre_probabilities.get(kind)
            if proba is not None and len(proba) == len(genres):
                top = int(np.argmax(proba))
                parts.append(f"{'ABC'[SOURCES.index(kind)]}: {genres[top]} "
                             f"{100 * proba[top]:.0f} %")
        self.summary.setText("\n".join(parts))

    def _show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.stack.setCurrentWidget(self._empty_page)
