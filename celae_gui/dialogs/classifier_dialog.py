"""Train a genre classifier on the current model's frozen encoder, in the background.

Settings (labelled dataset folder, epochs, head, baselines, device), then a live view: loss and
accuracy per epoch, progress, ETA, cancel. ``core.analysis.run_classify_train`` does the
work and saves the classifier to ``default_classifier_dir(model)``, where the genre panel finds
it; ``classifier_trained(Path)`` tells the window to pick it up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from celae_gui import settings, theme
from celae_gui.dialogs.run_dialog import RunDialog, add_device_and_max_clips
from celae_gui.state import AppState
from celae_gui.workers.classify_worker import ClassifierTrainSettings, ClassifierTrainWorker

HEADS = (("Latent statistics + MLP (fast)", "stats"), ("Small conv net on the latent", "conv"),
         ("The report's dense head", "report"),
         ("Multi-scale latent statistics + MLP", "multiscale"),
         ("Latent + the encoder's first stage (CELCodec; best on real music)", "encoder"))


class ClassifierDialog(RunDialog):
    """Settings + live run view; ``classifier_trained(Path)`` when a classifier is saved."""

    classifier_trained = Signal(object)

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__("classifier-train", "Train a genre classifier", parent)
        self.resize(820, 520)
        self._state = state
        self._history: list[dict] = []
        self._assemble(self._build_form(), self._build_view())
        state.model_changed.connect(self._on_model_changed)
        self._on_model_changed(state.model)
        self._set_running(False)

    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        self.model_label = QLabel("")
        self.model_label.setWordWrap(True)
        form.addRow("Model", self.model_label)
        self.dataset = QLineEdit(settings.read_str("folders/dataset"))
        self.dataset.setPlaceholderText("Labelled folder: one sub-folder per genre")
        form.addRow("Dataset", self._folder_row(self.dataset, "Labelled dataset"))
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(30)
        form.addRow("Epochs", self.epochs)
        self.head = QComboBox()
        for text, value in HEADS:
            self.head.addItem(text, value)
        form.addRow("Head", self.head)
        self.baselines = QCheckBox("Also train the mel-CNN and MFCC baselines")
        self.baselines.setChecked(True)
        self.baselines.setToolTip("Trained and evaluated on the same split, so the latent "
                                  "probe's accuracy can be compared")
        form.addRow("", self.baselines)
        self.device, self.max_clips = add_device_and_max_clips(form)
        self.out_label = QLabel("")
        self.out_label.setObjectName("muted")
        self.out_label.setWordWrap(True)
        form.addRow("Saved to", self.out_label)
        return form

    def _build_view(self) -> QVBoxLayout:
        view = self._build_curve_view("loss / accuracy", (
            ("train_curve", "train loss", theme.ACCENT, "o"),
            ("valid_curve", "valid loss", theme.TRACE_COLOURS["recon"], "o"),
            ("accuracy_curve", "valid accuracy", theme.TRACE_COLOURS["edited"], "t")),
            "Choose a labelled dataset and press Start.")
        self.results = QLabel("")
        self.results.setWordWrap(True)
        view.addWidget(self.results)
        return view

    # --- running -----------------------------------------------------------------------------
    def output_folder(self) -> Path | None:
        """Where the classifier of the current model is saved (None without a model)."""
        model = self._state.model
        if model is None:
            return None
        from core.paths import default_classifier_dir

        return default_classifier_dir(model.path)

    def start(self) -> None:
        """Train with the form's settings."""
        if self.is_running():
            return
        model = self._state.model
        text = self.dataset.text().strip()
        if model is None:
            self._show_error("Load a model first: the classifier reads its latents")
            return
        if not text or not Path(text).is_dir():
            self._show_error(f"{text or 'Dataset'}: choose an existing folder with one "
                             "sub-folder per genre")
            return
        settings.write_value("folders/dataset", text)
        job = ClassifierTrainSettings(
            Path(text), Path(model.path), epochs=int(self.epochs.value()),
            head=self.head.currentData(), device=self.device.currentText(),
            max_clips=int(self.max_clips.value()) or None,
            baselines=("mel", "mfcc") if self.baselines.isChecked() else ())
        worker = ClassifierTrainWorker(job)
        worker.epoch_done.connect(self._on_epoch)
        worker.result.connect(self._on_result)
        worker.cancelled.connect(self._on_cancelled)
        self._history.clear()
        self._update_curves()
        self.results.setText("")
        self._launch(worker, "Loading the dataset…")

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.is_running():
            self.stop_and_join()
        event.accept()

    # --- worker slots ------------------------------------------------------------------------
    def _on_epoch(self, row: dict) -> None:
        self._history.append(dict(row))
        self._update_curves()

    def _update_curves(self) -> None:
        x = np.arange(1, len(self._history) + 1)

        def column(key: str) -> np.ndarray:
            return np.array([r.get(key, np.nan) for r in self._history], dtype=float)

        self.train_curve.setData(x, column("train_loss"))
        self.valid_curve.setData(x, column("valid_loss"))
        self.accuracy_curve.setData(x, column("valid_accuracy"))

    def _on_result(self, result) -> None:
        self.last_result = result
        self._show_done(f"Done in {result.seconds:.0f} s: saved to {result.classifier}")
        lines = [_metrics_line(result.probe)] + [_metrics_line(b) for b in result.baselines]
        self.results.setText("\n".join(lines))
        self.classifier_trained.emit(Path(result.classifier))

    def _on_cancelled(self) -> None:
        self.eta.setText("")
        self.message.setText("Cancelled; Start continues from the last finished epoch.")

    def _on_model_changed(self, loaded) -> None:
        self.model_label.setText("(none loaded)" if loaded is None else loaded.path.name)
        self._allow_encoder_head(loaded)
        out = self.output_folder()
        self.out_label.setText("" if out is None else str(out))
        if not self.is_running():
            self.start_button.setEnabled(loaded is not None)

    def _allow_encoder_head(self, loaded) -> None:
        """The ``encoder`` head reads a CELCodec's encoder layers: offered for those only."""
        ok = False
        if loaded is not None:  # torch is loaded with the model; never imported before it
            from core.genre.encoder_stats import supports

            ok = supports(loaded.model)
        item = self.head.model().item(self.head.findData("encoder"))
        item.setEnabled(ok)
        item.setToolTip("" if ok else "Needs a CELCodec model: this one has no encoder stages")
        if not ok and self.head.currentData() == "encoder":
            self.head.setCurrentIndex(0)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running and self._state.model is not None)
        self.cancel_button.setEnabled(running)
        for w in (self.dataset, self.epochs, self.head, self.baselines, self.device,
                  self.max_clips):
            w.setEnabled(not running)
        super()._set_running(running)


def _metrics_line(m) -> str:
    return f"{m.name}: accuracy {100 * m.accuracy:.1f} %, macro F1 {m.macro.f1:.3f}"
