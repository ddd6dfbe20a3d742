"""Train a model in the background: settings, live loss curves, progress, ETA, epoch table.

Input files left out of the run (empty, not audio, damaged) are counted under the progress line
when it ends; the count is a button that shows each file with its reason.

The dialog is modeless: the workbench stays usable while a run goes on. Cancel stops within one
batch and keeps the last checkpoint; Resume continues that run. Closing the dialog or the app
during a run asks first (``training/quit_answer`` in the settings can answer for tests), then
cancels and joins the worker thread.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from celae_gui import settings, theme
from celae_gui.dialogs.arch_form import ArchForm
from celae_gui.dialogs.run_dialog import RunDialog, add_device_and_max_clips
from celae_gui.workers.train_worker import DemoDatasetSpec, TrainWorker

ARCHITECTURES = ("CELAutoencoderSiLU", "CELAutoencoderLeakyReLU", "CELAutoencoder2",
                 "CELAutoencoder3")
"""Shown before torch is imported; the registry's full list replaces it when available."""
TABLE_COLUMNS = ("epoch", "train loss", "valid loss", "SI-SDR (dB)", "lr", "time (s)")
QUIT_ANSWER_KEY = "training/quit_answer"
EMA_DECAY = 0.999
"""Decay of the weight average the "moving average" box asks for (``TrainConfig.ema``)."""
"""``ask`` (default), ``cancel`` (cancel the run and close) or ``keep`` (keep running)."""


def safe_model_name(text: str) -> str:
    """A folder name from user text: letters, digits, ``-``, ``_`` and ``.`` only."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip(".-")
    return name or "my-model"


class TrainingDialog(RunDialog):
    """Settings form + live run view; ``model_trained(Path)`` when a model folder is written."""

    model_trained = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("train", "Train a model", parent)
        self.resize(980, 620)
        self._train_losses: list[float] = []
        self._valid_losses: list[float] = []
        self.cancelled_run = False
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the cancelled run from its last checkpoint")
        self.resume_button.clicked.connect(self.resume)
        self._assemble(self._build_form(), self._build_run_view(), (self.resume_button,))
        self._set_running(False)

    # --- layout ------------------------------------------------------------------------------
    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        self.dataset = QLineEdit(settings.read_str("folders/dataset"))
        self.dataset.setPlaceholderText("Folder of songs (GTZAN layout or any audio)")
        form.addRow("Dataset", self._folder_row(
            self.dataset, "Dataset folder",
            lambda folder: settings.write_value("folders/dataset", folder)))
        self.generate_demo = QCheckBox("Generate a demo dataset (synthetic, 10 genres)")
        self.generate_demo.toggled.connect(lambda on: self.dataset.setEnabled(not on))
        form.addRow("", self.generate_demo)
        self.arch = QComboBox()
        self.arch.addItems(ARCHITECTURES)
        self.arch.setToolTip("The fields below are this architecture's settings, at its "
                             "preset values")
        self.arch.currentTextChanged.connect(self._on_arch_changed)
        form.addRow("Architecture", self.arch)
        # Filled on first show: reading a config imports torch, which stays off the launch path.
        self.arch_form = ArchForm()
        form.addRow(self.arch_form)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10_000)
        self.epochs.setValue(10)
        form.addRow("Epochs", self.epochs)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 4096)
        self.batch_size.setValue(16)
        form.addRow("Batch size", self.batch_size)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(1e-5, 1.0)
        self.lr.setSingleStep(1e-4)
        self.lr.setValue(1e-3)
        form.addRow("Learning rate", self.lr)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        form.addRow("Seed", self.seed)
        self.device, self.max_clips = add_device_and_max_clips(form)
        self.max_minutes = QDoubleSpinBox()
        self.max_minutes.setRange(0.0, 100_000.0)
        self.max_minutes.setDecimals(1)
        self.max_minutes.setSpecialValueText("no limit")
        self.max_minutes.setToolTip("Stop training after this many minutes (0: no limit)")
        form.addRow("Stop after (minutes)", self.max_minutes)
        self.average_weights = QCheckBox("Keep a moving average of the weights")
        self.average_weights.setToolTip(
            f"Validate and save the average of the weights over about the last "
            f"{round(1 / (1 - EMA_DECAY))} steps instead of the last weights (celae train "
            f"--ema {EMA_DECAY:g}); on real music it gave CELCodec4 +0.26 dB SI-SDR")
        form.addRow("", self.average_weights)
        self.model_name = QLineEdit(time.strftime("model-%Y%m%d-%H%M"))
        form.addRow("Save as", self.model_name)
        return form

    def _build_run_view(self) -> QVBoxLayout:
        view = self._build_curve_view("loss", (
            ("train_curve", "train", theme.ACCENT, "o"),
            ("valid_curve", "valid", theme.TRACE_COLOURS["recon"], "o")),
            "Choose a dataset and press Start.")
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        # Every column shares the width, so the last one is never cut off behind a scroll bar.
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.skipped_button = QPushButton()
        self.skipped_button.setCheckable(True)
        self.skipped_button.setFlat(True)
        self.skipped_button.setStyleSheet(f"color: {theme.WARNING}; text-align: left;")
        self.skipped_button.toggled.connect(self._on_skipped_toggled)
        self.skipped_list = QListWidget()
        self.skipped_list.setWordWrap(True)
        self._show_skipped([])
        view.addWidget(self.skipped_button)
        view.addWidget(self.skipped_list, 1)
        view.addWidget(self.table, 2)
        return view

    # --- skipped input files -----------------------------------------------------------------
    def _show_skipped(self, skipped: list[dict[str, str]]) -> None:
        """List ``TrainResult.skipped`` (``{"path", "reason"}`` each); hide the row when empty."""
        self.skipped_list.clear()
        for entry in skipped:
            item = QListWidgetItem(f"{Path(entry['path']).name}: {entry['reason']}")
            item.setToolTip(entry["path"])
            self.skipped_list.addItem(item)
        lines = [f"{Path(e['path']).name}: {e['reason']}" for e in skipped]
        self.skipped_button.setToolTip("\n".join(lines))
        self.skipped_button.setVisible(bool(skipped))
        self.skipped_button.setChecked(False)
        self._on_skipped_toggled(False)

    def _on_skipped_toggled(self, shown: bool) -> None:
        n = self.skipped_list.count()
        files = "1 input file was" if n == 1 else f"{n} input files were"
        self.skipped_button.setText(f"⚠ {files} skipped, not trained on "
                                    f"({'hide' if shown else 'show'} which and why)")
        self.skipped_list.setVisible(shown and n > 0)

    def showEvent(self, event) -> None:  # noqa: N802
        # The registry imports torch, which must stay off the launch path: list it on first show.
        super().showEvent(event)
        if self.arch.count() == len(ARCHITECTURES) and not self.is_running():
            from core.models import architectures

            current = self.arch.currentText()
            names = list(dict.fromkeys([*ARCHITECTURES, *architectures()]))
            self.arch.blockSignals(True)
            self.arch.clear()
            self.arch.addItems(names)
            self.arch.setCurrentText(current)
            self.arch.blockSignals(False)
        self._ensure_arch_form()

    def _ensure_arch_form(self) -> None:
        if self.arch_form.arch != self.arch.currentText():
            self._on_arch_changed(self.arch.currentText())

    def _on_arch_changed(self, name: str) -> None:
        import core.models  # noqa: F401  (registers every architecture)

        if name:
            self.arch_form.set_arch(name)

    # --- running -----------------------------------------------------------------------------
    def output_folder(self) -> Path:
        """Model folder the run writes (under the user models folder)."""
        from core.paths import user_models_dir

        return user_models_dir() / safe_model_name(self.model_name.text())

    def build_config(self):
        """The ``core.training.trainer.TrainConfig`` of the form's settings."""
        from core.errors import TrainingError
        from core.training.trainer import TrainConfig

        threads = max(1, (os.cpu_count() or 2) - 1)  # leave a core for the GUI and audio
        self._ensure_arch_form()
        try:
            overrides = self.arch_form.overrides()
        except ValueError as err:
            raise TrainingError(str(err)) from None
        return TrainConfig(
            arch=self.arch.currentText(), model=overrides,
            max_minutes=float(self.max_minutes.value()) or None,
            epochs=int(self.epochs.value()), batch_size=int(self.batch_size.value()),
            lr=float(self.lr.value()), seed=int(self.seed.value()),
            device=self.device.currentText(),
            max_clips=int(self.max_clips.value()) or None,
            ema=EMA_DECAY if self.average_weights.isChecked() else None,
            out_dir=str(self.output_folder()), threads=threads)

    def start(self) -> None:
        """Start a new run with the form's settings."""
        self._run(resume=False)

    def resume(self) -> None:
        """Continue the cancelled run (same settings and folder) from its checkpoint."""
        self._run(resume=True)

    def _run(self, resume: bool) -> None:
        if self.is_running():
            return
        from core.errors import CelaeError

        try:
            config = self.build_config()
        except CelaeError as err:
            self._show_error(str(err))
            return
        if self.generate_demo.isChecked():
            from core.paths import cache_dir

            data: Path | DemoDatasetSpec = DemoDatasetSpec(cache_dir() / "demo-dataset")
        else:
            text = self.dataset.text().strip()
            if not text or not Path(text).is_dir():
                self._show_error(f"{text or 'Dataset'}: choose an existing folder of songs, "
                                 "or tick “Generate a demo dataset”")
                return
            data = Path(text)
            settings.write_value("folders/dataset", text)
        self._show_skipped([])
        if not resume:
            self._train_losses.clear()
            self._valid_losses.clear()
            self.table.setRowCount(0)
            self._update_curves()
        self.cancelled_run = False
        self.last_error = ""
        worker = TrainWorker(config, data, resume=resume)
        worker.epoch_done.connect(self._on_epoch_done)
        worker.result.connect(self._on_result)
        worker.cancelled.connect(self._on_cancelled)
        self._launch(worker, "Resuming…" if resume else "Starting…")

    def confirm_stop(self) -> bool:
        """Ask whether to cancel the running training (the setting can answer instead)."""
        answer = settings.read_str(QUIT_ANSWER_KEY, "ask")
        if answer in ("cancel", "keep"):
            return answer == "cancel"
        reply = QMessageBox.question(
            self, "Training is running",
            "A model is being trained. Cancel the run? (Its last checkpoint is kept; "
            "Resume continues it later.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return reply == QMessageBox.StandardButton.Yes

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.is_running():
            if not self.confirm_stop():
                event.ignore()
                return
            self.stop_and_join()
        event.accept()

    def reject(self) -> None:
        # Escape goes through closeEvent's question instead of hiding a running dialog.
        self.close()

    # --- worker slots ------------------------------------------------------------------------
    def _on_epoch_done(self, record) -> None:
        self._train_losses.append(float(record.train_loss))
        self._valid_losses.append(float(record.valid_loss))
        self._update_curves()
        row = self.table.rowCount()
        self.table.insertRow(row)
        values = (str(record.epoch), f"{record.train_loss:.5f}", f"{record.valid_loss:.5f}",
                  f"{record.valid_si_sdr:.2f}", f"{record.lr:.2g}", f"{record.seconds:.1f}")
        for col, text in enumerate(values):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, col, item)
        self.table.scrollToBottom()

    def _update_curves(self) -> None:
        x = np.arange(1, len(self._train_losses) + 1)
        self.train_curve.setData(x, self._train_losses)
        self.valid_curve.setData(x, self._valid_losses)

    def _on_result(self, result) -> None:
        self.last_result = result
        skipped = list(getattr(result, "skipped", []))
        n = len(skipped)
        note = f" ({n} skipped input file{'' if n == 1 else 's'})" if n else ""
        warnings = "".join(f". ⚠ {w}" for w in getattr(result, "warnings", []))
        self._show_done(f"Done: best valid loss {result.best_valid_loss:.5f} at epoch "
                        f"{result.best_epoch}; saved as {self.output_folder().name}"
                        f"{note}{warnings}")
        self._show_skipped(skipped)
        if result.out_dir is not None:
            self.model_trained.emit(Path(result.out_dir))

    def _on_cancelled(self) -> None:
        self.cancelled_run = True
        self.eta.setText("")
        self.message.setText("Cancelled; the last finished epoch is kept. Resume continues.")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(not running and self.cancelled_run)
        for w in (self.dataset, self.generate_demo, self.arch, self.epochs, self.batch_size,
                  self.lr, self.seed, self.device, self.max_clips, self.max_minutes,
                  self.average_weights, self.model_name):
            w.setEnabled(not running)
        self.arch_form.set_enabled(not running)
        if not running:
            self.dataset.setEnabled(not self.generate_demo.isChecked())
        super()._set_running(running)
