"""Genre probabilities of the current clip as bars, or why there are none yet.

A model's genre classifier lives in a ``classifier/`` folder inside the model folder, written by
``celae classify train``. When there is none the panel says so and how to get one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QStackedWidget, QVBoxLayout, QWidget

from celae_gui import theme
from celae_gui.plot_style import configure_pyqtgraph
from celae_gui.state import AppState

CLASSIFIER_DIR = "classifier"


def classifier_dir(model_path: Path | None) -> Path | None:
    """The classifier folder of a model folder, or None when it has none."""
    if model_path is None:
        return None
    folder = Path(model_path) / CLASSIFIER_DIR
    return folder if folder.is_dir() else None


def placeholder_text(model_name: str | None) -> str:
    """Why the panel is empty and how to fill it."""
    if model_name is None:
        return "No model loaded, so no genre probabilities."
    return (f"No genre classifier for “{model_name}” yet.\n\n"
            "Train one on a labelled dataset (GTZAN layout, one folder per genre):\n"
            f"celae classify train DATA --model {model_name} --out CLF\n"
            "or Train ▸ Train classifier, then reload the model.")


class GenrePanel(QGroupBox):
    """Bar chart of genre probabilities with a placeholder page."""

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__("Genre", parent)
        configure_pyqtgraph()
        self._state = state
        self.stack = QStackedWidget()
        self.placeholder = QLabel(placeholder_text(None))
        self.placeholder.setWordWrap(True)
        self.placeholder.setObjectName("muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumHeight(140)
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.getViewBox().setMouseEnabled(False, False)
        plot.setYRange(0, 1, padding=0.02)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=theme.ACCENT)
        plot.addItem(self.bars)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.plot_widget)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        state.model_changed.connect(self._on_model_changed)

    def showing_placeholder(self) -> bool:
        """True while the panel explains why it is empty."""
        return self.stack.currentWidget() is self.placeholder

    def show_probabilities(self, genres: list[str], proba: np.ndarray) -> None:
        """Show one bar per genre (``proba[n_genres]``, summing to 1)."""
        x = np.arange(len(genres))
        self.bars.setOpts(x=x, height=np.asarray(proba, dtype=float), width=0.7)
        axis = self.plot_widget.getPlotItem().getAxis("bottom")
        axis.setTicks([[(i, g[:5]) for i, g in enumerate(genres)]])
        self.stack.setCurrentWidget(self.plot_widget)

    def _on_model_changed(self, loaded) -> None:
        name = None if loaded is None else loaded.path.name
        folder = classifier_dir(None if loaded is None else loaded.path)
        text = placeholder_text(name)
        if folder is not None:
            # The hook for the analysis work: once core.classify can load a classifier folder,
            # probabilities come from core.classify.predict_proba_from_latent on state.latents.
            text = (f"A classifier was found in {folder.name}/ but this build cannot load it "
                    "yet (core.classify has no loader).")
        self.placeholder.setText(text)
        self.stack.setCurrentWidget(self.placeholder)
