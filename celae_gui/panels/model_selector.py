"""The model picker in the tool bar: bundled and user models, plus a folder chooser."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from celae_gui.state import AppState


def entry_text(entry) -> str:
    """Combo text of a ``core.models.io.ModelEntry``: name, architecture, latent size."""
    shape = "×".join(str(d) for d in entry.latent_shape) if entry.latent_shape else "?"
    return f"{entry.name}  ·  {entry.arch}  ·  latent {shape}  ({entry.source})"


def entry_tooltip(entry) -> str:
    """Tool tip of a ``core.models.io.ModelEntry``: its folder and what its latent costs."""
    from core.latent.bitrate import entry_bitrate

    rate = entry_bitrate(entry)
    if rate is None:
        return str(entry.path)
    return (f"{entry.path}\nLatent: {rate.floats_per_second:,.0f} values/s, {rate.text()}")


class ModelSelector(QWidget):
    """Combo box of models; ``model_requested(Path)`` when the user picks one."""

    model_requested = Signal(object)

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self._state = state
        self.combo = QComboBox()
        self.combo.setMinimumWidth(380)
        self.combo.setPlaceholderText("Loading models…")
        self.combo.activated.connect(self._on_activated)
        self.status = QLabel()
        self.status.setObjectName("muted")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Model")
        label.setObjectName("muted")
        layout.addWidget(label)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.status)
        state.model_changed.connect(self._on_model_changed)

    def set_models(self, entries: list) -> None:
        """Fill the combo from ``core.models.io.list_models()`` entries, keeping the selection."""
        self.combo.blockSignals(True)
        self.combo.clear()
        for entry in entries:
            self.combo.addItem(entry_text(entry), str(entry.path))
            self.combo.setItemData(self.combo.count() - 1, entry_tooltip(entry), 3)  # tooltip
        self.combo.blockSignals(False)
        if not entries:
            self.combo.setPlaceholderText("No models: Train ▸ Train model (Ctrl+T)")
        self._select(self._state.model.path if self._state.model is not None else None)

    def model_paths(self) -> list[Path]:
        """Folders of the listed models."""
        return [Path(self.combo.itemData(i)) for i in range(self.combo.count())]

    def _select(self, path: Path | None) -> None:
        index = -1 if path is None else self.combo.findData(str(path))
        self.combo.setCurrentIndex(index)

    def _on_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data:
            self.model_requested.emit(Path(data))

    def _on_model_changed(self, loaded) -> None:
        if loaded is None:
            self.status.setText(self._state.model_error and "⚠ no model")
            self.status.setToolTip(self._state.model_error)
            self._select(None)
            return
        self.status.setText("")
        self.status.setToolTip("")
        if self.combo.findData(str(loaded.path)) < 0:
            self.combo.addItem(f"{loaded.name}  ·  {loaded.arch}", str(loaded.path))
        self._select(loaded.path)
