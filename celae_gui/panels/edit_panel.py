"""The live latent-edit panel: scale, noise (with seed), smoothing, interpolation, reset.

Every change goes straight to ``AppState.set_edit_params``; the controller coalesces the
requests so a dragged slider decodes only the newest value. Each control is one undo step per
drag (its name is the merge key).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from celae_gui.state import AppState


@dataclass(frozen=True)
class SliderSpec:
    """One slider: the EditParams field, its label, range and the slider's steps per unit."""

    field: str
    label: str
    minimum: float
    maximum: float
    steps_per_unit: int
    fmt: str
    tip: str


SLIDERS = (
    SliderSpec("scale", "Scale", 0.0, 2.0, 100, "×{:.2f}",
               "Multiply the latent (the report's ×1.5 amplifies, ×0.5 attenuates)"),
    SliderSpec("noise_sigma", "Noise σ", 0.0, 1.0, 100, "{:.2f}",
               "Gaussian noise, as a fraction of the latent's RMS"),
    SliderSpec("smooth_window", "Smoothing", 1, 129, 1, "{:.0f} steps",
               "Moving average over latent steps (a flatter sound)"),
    SliderSpec("mix_t", "Interpolate t", 0.0, 1.0, 100, "{:.2f}",
               "Move the latent toward the second song's latent over the same window"),
)


class EditPanel(QGroupBox):
    """Sliders bound to ``state.edit_params``."""

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__("Latent edits", parent)
        self._state = state
        self.sliders: dict[str, QSlider] = {}
        self._value_labels: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        grid.setColumnStretch(1, 1)
        row = 0
        for spec in SLIDERS:
            if spec.field == "mix_t":
                row = self._add_other_song_row(grid, row)
            label = QLabel(spec.label)
            label.setToolTip(spec.tip)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(round(spec.minimum * spec.steps_per_unit),
                            round(spec.maximum * spec.steps_per_unit))
            slider.setToolTip(spec.tip)
            slider.setAccessibleName(spec.label)
            value = QLabel()
            value.setMinimumWidth(64)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            slider.valueChanged.connect(lambda v, s=spec: self._on_slider_changed(s, v))
            grid.addWidget(label, row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(value, row, 2)
            self.sliders[spec.field] = slider
            self._value_labels[spec.field] = value
            row += 1
            if spec.field == "noise_sigma":
                row = self._add_seed_row(grid, row)
        buttons = QHBoxLayout()
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the unedited latent")
        self.undo_button.clicked.connect(state.undo)
        self.redo_button.clicked.connect(state.redo)
        self.reset_button.clicked.connect(state.reset_edits)
        for b in (self.undo_button, self.redo_button):
            b.setEnabled(False)
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.reset_button)
        grid.addLayout(buttons, row, 0, 1, 3)
        state.edit_params_changed.connect(self._on_edit_params_changed)
        state.undo_changed.connect(self._on_undo_changed)
        state.library_changed.connect(self._on_library_changed)
        state.current_song_changed.connect(self._on_library_changed)
        self._on_edit_params_changed(state.edit_params)

    def _add_seed_row(self, grid: QGridLayout, row: int) -> int:
        grid.addWidget(QLabel("Noise seed"), row, 0)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed gives the same noise")
        self.seed.valueChanged.connect(self._on_seed_changed)
        grid.addWidget(self.seed, row, 1, 1, 2)
        return row + 1

    def _add_other_song_row(self, grid: QGridLayout, row: int) -> int:
        grid.addWidget(QLabel("Toward"), row, 0)
        self.other_song = QComboBox()
        self.other_song.setToolTip("Second song to interpolate toward (same window)")
        self.other_song.currentIndexChanged.connect(self._on_other_song_changed)
        grid.addWidget(self.other_song, row, 1, 1, 2)
        return row + 1

    def set_value(self, field: str, value: float) -> None:
        """Move the slider of ``field`` to ``value`` (as a user would)."""
        spec = next(s for s in SLIDERS if s.field == field)
        self.sliders[field].setValue(round(value * spec.steps_per_unit))

    def _on_slider_changed(self, spec: SliderSpec, raw: int) -> None:
        value = raw / spec.steps_per_unit
        if spec.field == "smooth_window":
            value = int(raw)
        self._value_labels[spec.field].setText(spec.fmt.format(value))
        self._state.set_edit_params(self._state.replace_params(**{spec.field: value}),
                                    merge_key=spec.field)

    def _on_seed_changed(self, seed: int) -> None:
        self._state.set_edit_params(self._state.replace_params(noise_seed=int(seed)),
                                    merge_key="noise_seed")

    def _on_edit_params_changed(self, params) -> None:
        for spec in SLIDERS:
            value = getattr(params, spec.field)
            slider = self.sliders[spec.field]
            slider.blockSignals(True)
            slider.setValue(round(value * spec.steps_per_unit))
            slider.blockSignals(False)
            self._value_labels[spec.field].setText(spec.fmt.format(value))
        self.seed.blockSignals(True)
        self.seed.setValue(params.noise_seed)
        self.seed.blockSignals(False)

    def _on_undo_changed(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_button.setEnabled(can_undo)
        self.redo_button.setEnabled(can_redo)

    def _on_library_changed(self, *_args) -> None:
        current = self._state.other_path
        songs = [e for e in self._state.playable_entries() if e.path != self._state.current_path]
        self.other_song.blockSignals(True)
        self.other_song.clear()
        self.other_song.addItem("(none)", None)
        for entry in songs:
            self.other_song.addItem(entry.name, str(entry.path))
        index = self.other_song.findData(str(current)) if current else 0
        self.other_song.setCurrentIndex(max(index, 0))
        self.other_song.blockSignals(False)
        self.sliders["mix_t"].setEnabled(self.other_song.currentIndex() > 0)
        if index < 0:
            self._state.set_other_song(None)

    def _on_other_song_changed(self, index: int) -> None:
        data = self.other_song.itemData(index)
        self._state.set_other_song(Path(data) if data else None)
        self.sliders["mix_t"].setEnabled(data is not None)
