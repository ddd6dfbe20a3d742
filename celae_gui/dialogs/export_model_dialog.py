"""File > Export model...: the current model's encoder and decoder as ONNX or TorchScript.

The export runs in :class:`celae_gui.workers.export_worker.ExportModelWorker` and is checked
against torch before anything is written (``core.export``); the dialog shows the parity figures
of a success or the one-line reason of a failure.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from celae_gui import settings
from celae_gui.state import AppState
from celae_gui.workers.base import TaskSlot
from celae_gui.workers.export_worker import ExportModelWorker

FORMATS = (("ONNX (encoder.onnx, decoder.onnx)", "onnx"),
           ("TorchScript (encoder.ts, decoder.ts)", "torchscript"))


class ExportModelDialog(QDialog):
    """Format, folder, Export; progress, then the parity figures or the error.

    Signals
    -------
    exported(object)
        The ``core.export.ExportResult`` of a finished export.
    """

    exported = Signal(object)

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self.setModal(False)
        self.resize(560, 240)
        self._state = state
        self._slot = TaskSlot("export-model", self)
        self._worker: ExportModelWorker | None = None
        self.model_label = QLabel()
        self.format_box = QComboBox()
        for text, value in FORMATS:
            self.format_box.addItem(text, value)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder to write the graphs and export.json into")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Model", self.model_label)
        form.addRow("Format", self.format_box)
        form.addRow("Folder", row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.message = QLabel("The export is checked against torch on a 5 s clip and an odd "
                              "length before it is written.")
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self._on_export_clicked)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addLayout(buttons)
        state.model_changed.connect(self._on_model_changed)
        self._on_model_changed(state.model)

    # --- commands ----------------------------------------------------------------------------
    def is_running(self) -> bool:
        """True while an export is being traced or checked."""
        return self._worker is not None

    def start(self) -> None:
        """Export the current model with the form's format and folder."""
        loaded = self._state.model
        text = self.folder.text().strip()
        if loaded is None:
            self._show_error("Load a model first")
            return
        if not text:
            self._show_error("Choose a folder to export into")
            return
        worker = ExportModelWorker(loaded, Path(text).expanduser(), self.format_box.currentData())
        worker.progress.connect(self._on_progress)
        worker.result.connect(self._on_result)
        worker.failed.connect(self._on_failed)
        self._worker = worker
        self.progress.setValue(0)
        self.message.setObjectName("muted")
        self.message.setText(f"Exporting {loaded.path.name}…")
        self._set_running(True)
        self._slot.start(worker)

    def shutdown(self) -> bool:
        """Cancel and join the export, if one runs."""
        self._worker = None
        return self._slot.shutdown()

    # --- slots -------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        if loaded is None:
            self.model_label.setText("no model loaded")
        else:
            self.model_label.setText(f"{loaded.path.name} ({loaded.arch})")
            if not self.folder.text():
                base = Path(settings.read_str("folders/export") or Path.home())
                self.folder.setText(str(base / f"{loaded.path.name}-export"))
        self._set_running(self.is_running())

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _on_export_clicked(self) -> None:
        self.start()

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(1000 * fraction))
        self.message.setText(f"{message}…")

    def _on_result(self, result) -> None:
        # Export is disabled while one runs, so a result is always the current export's.
        self._worker = None
        self._set_running(False)
        self.progress.setValue(1000)
        p = result.parity
        lengths = " and ".join(f"{n:,}".replace(",", " ")
                               for n in sorted({f.samples for f in p.figures}, reverse=True))
        self.message.setText(
            f"Wrote {', '.join(f.name for f in result.files)} to {result.folder}.\n"
            f"Matches torch on {lengths} samples: worst SI-SDR {p.worst_si_sdr_db:.1f} dB, "
            f"max abs diff {p.worst_max_abs_diff:.2g}.")
        settings.write_value("folders/export", str(result.folder.parent))
        self._state.info(f"Exported {result.model_name} to {result.folder}")
        self.exported.emit(result)

    def _on_failed(self, text: str) -> None:
        self._worker = None
        self._set_running(False)
        self.progress.setValue(0)
        self._show_error(text)

    def _show_error(self, text: str) -> None:
        self.message.setText(f"⚠ {text}")
        self._state.error(text)

    def _set_running(self, running: bool) -> None:
        self.export_button.setEnabled(not running and self._state.model is not None)
        self.format_box.setEnabled(not running)
        self.folder.setEnabled(not running)
        self.browse_button.setEnabled(not running)
