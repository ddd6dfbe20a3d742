"""Morph between two songs of the library through the model's latent space.

Pick song A and song B (and where each clip starts), linear or spherical interpolation and the
number of steps; the steps are decoded in a worker (``core.latent.morph.morph``). Any step can be
played, and the whole sequence exported as one WAV/FLAC file with equal-power crossfades
(``core.latent.morph.export_morph``, written atomically).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from celae_gui import export, settings
from celae_gui.playback.preview import PreviewPlayer
from celae_gui.state import AppState
from celae_gui.workers.base import TaskSlot
from celae_gui.workers.morph_worker import MorphResult, MorphSettings, MorphWorker
from core.atomic import ensure_not_input
from core.constants import SAMPLE_RATE
from core.errors import AudioSaveError, CelaeError

MODES = (("Linear", "linear"), ("Spherical (slerp)", "slerp"))


class MorphDialog(QDialog):
    """Morph settings, the decoded steps, play and export.

    Signals
    -------
    morphed(object)
        The :class:`MorphResult` of a finished morph.
    exported(object)
        The ``Path`` of an exported sequence.
    """

    morphed = Signal(object)
    exported = Signal(object)

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Morph between two songs")
        self.setModal(False)
        self.resize(560, 480)
        self._state = state
        self._slot = TaskSlot("morph", self)
        self._worker: MorphWorker | None = None
        self.player = PreviewPlayer(self)
        self.result: MorphResult | None = None
        form = QFormLayout()
        self.song_a = QComboBox()
        self.song_b = QComboBox()
        self.offset_a = self._offset_box()
        self.offset_b = self._offset_box()
        for label, combo, offset in (("Song A", self.song_a, self.offset_a),
                                     ("Song B", self.song_b, self.offset_b)):
            row = QHBoxLayout()
            row.addWidget(combo, 1)
            row.addWidget(QLabel("from"))
            row.addWidget(offset)
            form.addRow(label, row)
        self.mode = QComboBox()
        for text, value in MODES:
            self.mode.addItem(text, value)
        self.mode.setToolTip("Spherical interpolation keeps the latent's energy steadier halfway "
                             "between unlike songs")
        form.addRow("Path", self.mode)
        self.steps = QSpinBox()
        self.steps.setRange(2, 64)
        self.steps.setValue(8)
        form.addRow("Steps", self.steps)
        self.crossfade = QDoubleSpinBox()
        self.crossfade.setRange(0.0, 2.5)
        self.crossfade.setSingleStep(0.1)
        self.crossfade.setValue(0.5)
        self.crossfade.setSuffix(" s")
        form.addRow("Crossfade (export)", self.crossfade)
        self.step_list = QListWidget()
        self.step_list.itemDoubleClicked.connect(lambda _item: self.play_step())
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.message = QLabel("Choose two songs and press Morph.")
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        self.morph_button = QPushButton("Morph")
        self.morph_button.setDefault(True)
        self.morph_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.play_button = QPushButton("Play step")
        self.play_button.clicked.connect(lambda: self.play_step())
        self.export_button = QPushButton("Export sequence…")
        self.export_button.clicked.connect(self._on_export_clicked)
        buttons = QHBoxLayout()
        for b in (self.morph_button, self.cancel_button, self.play_button, self.export_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.step_list, 1)
        state.library_changed.connect(self._on_library_changed)
        state.model_changed.connect(self._on_model_changed)
        self._on_library_changed()
        self._set_running(False)

    @staticmethod
    def _offset_box() -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, 36_000.0)
        box.setSuffix(" s")
        box.setToolTip("Where the clip starts in the song")
        return box

    # --- commands ----------------------------------------------------------------------------
    def is_running(self) -> bool:
        """True while steps are being decoded."""
        return self._worker is not None

    def start(self) -> None:
        """Decode the morph with the form's settings."""
        model = self._state.model
        a, b = self.song_a.currentData(), self.song_b.currentData()
        if model is None:
            self._show_error("Load a model first")
            return
        if not a or not b:
            self._show_error("Choose two songs of the library")
            return
        settings_ = MorphSettings(Path(a), Path(b), int(self.steps.value()),
                                  self.mode.currentData(), float(self.offset_a.value()),
                                  float(self.offset_b.value()))
        worker = MorphWorker(model.model, settings_)
        worker.progress.connect(self._on_progress)
        worker.result.connect(self._on_result)
        worker.failed.connect(self._on_failed)
        self._worker = worker
        self.result = None
        self.step_list.clear()
        self.progress.setValue(0)
        self.message.setText(f"Morphing {Path(a).name} → {Path(b).name}…")
        self._set_running(True)
        self._slot.start(worker)

    def cancel(self) -> None:
        """Stop decoding (after the current step)."""
        self._slot.cancel()
        self._worker = None
        self.message.setText("Cancelled")
        self._set_running(False)

    def play_step(self, index: int | None = None) -> None:
        """Play step ``index`` (default: the selected one)."""
        if self.result is None:
            return
        if index is None:
            index = max(0, self.step_list.currentRow())
        self.player.play(self.result.steps[index])

    def export_to(self, path: str | Path) -> Path | None:
        """Write the whole sequence, crossfaded, to ``path`` (WAV/FLAC); None on failure."""
        from core.latent.morph import export_morph

        if self.result is None:
            self._show_error("Nothing to export yet: press Morph first")
            return None
        out = Path(path)
        if not out.suffix:
            out = out.with_suffix(".wav")
        try:
            if out.suffix.lower() not in (".wav", ".flac"):
                raise AudioSaveError(out, "choose a .wav or .flac file name")
            ensure_not_input(out, *(e.path for e in self._state.library))
            audio = export_morph(out, self.result.steps, float(self.crossfade.value()))
        except (CelaeError, OSError) as err:
            self._show_error(str(err))
            return None
        self.message.setText(f"Saved {out.name} ({len(audio) / SAMPLE_RATE:.1f} s)")
        self.exported.emit(out)
        return out

    def shutdown(self) -> bool:
        """Cancel and join the worker, close the player."""
        self.player.close()
        self._worker = None
        return self._slot.shutdown()

    # --- slots -------------------------------------------------------------------------------
    def _on_export_clicked(self) -> None:
        a = self.song_a.currentText() or "a"
        b = self.song_b.currentText() or "b"
        start = Path(settings.start_folder("folders/export")) / \
            f"morph-{Path(a).stem}-{Path(b).stem}.wav"
        path, _ = QFileDialog.getSaveFileName(self, "Export morph", str(start),
                                              export.AUDIO_FILTER)
        if path:
            saved = self.export_to(path)
            if saved is not None:
                settings.write_value("folders/export", str(saved.parent))

    def _on_library_changed(self) -> None:
        entries = self._state.playable_entries()
        for i, combo in enumerate((self.song_a, self.song_b)):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for entry in entries:
                combo.addItem(entry.name, str(entry.path))
            index = combo.findData(current) if current else -1
            if i == 1 and (index < 0 or current == self.song_a.currentData()):
                # Morphing a song into itself says nothing: B defaults to another song.
                index = next((k for k in range(combo.count())
                              if combo.itemData(k) != self.song_a.currentData()), 0)
            combo.setCurrentIndex(index if index >= 0 else 0)
            combo.blockSignals(False)

    def _on_model_changed(self, _loaded) -> None:
        if self.is_running():
            self.cancel()
        self.result = None
        self.step_list.clear()
        self._set_running(False)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        self.message.setText(message)

    def _on_result(self, result: MorphResult) -> None:
        # A cancelled morph reports ``cancelled``, never a result: this is the current one.
        self._worker = None
        self.result = result
        self.progress.setValue(1000)
        n = len(result.steps)
        for i in range(n):
            t = i / (n - 1)
            self.step_list.addItem(f"step {i + 1}/{n}   t = {t:.2f}")
        self.step_list.setCurrentRow(0)
        self.message.setText(f"{n} steps ready: double-click one to hear it, or export the "
                             "sequence")
        self._set_running(False)
        self.morphed.emit(result)

    def _on_failed(self, message: str) -> None:
        self._worker = None
        self._set_running(False)
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.message.setText(f"⚠ {message}")

    def _set_running(self, running: bool) -> None:
        self.morph_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        has = self.result is not None and not running
        self.play_button.setEnabled(has)
        self.export_button.setEnabled(has)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.player.stop()
        super().closeEvent(event)
