"""What the training and classifier dialogs share: one background run with a live curve view.

A :class:`RunDialog` owns a :class:`~celae_gui.workers.base.TaskSlot` and at most one worker. It
builds the right-hand view (a pyqtgraph plot with named curves, a progress bar, a message line
and an ETA) and handles the worker's progress, failure and end; subclasses build their settings
form, start their worker through :meth:`RunDialog._launch` and say which widgets a run locks
(:meth:`RunDialog._set_running`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import Signal
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
    QVBoxLayout,
    QWidget,
)

from celae_gui import settings, theme
from celae_gui.views.plot_style import configure_pyqtgraph, style_plot
from celae_gui.workers.base import TaskSlot

PROGRESS_STEPS = 1000


def add_device_and_max_clips(form) -> tuple[QComboBox, QSpinBox]:
    """The "Device" and "Max clips" rows both run dialogs have; returns the two widgets."""
    device = QComboBox()
    device.addItems(["auto", "cpu", "cuda"])
    form.addRow("Device", device)
    max_clips = QSpinBox()
    max_clips.setRange(0, 10_000_000)
    max_clips.setSpecialValueText("all")
    max_clips.setToolTip("Use at most this many clips (whole songs, every genre) for a quick run")
    form.addRow("Max clips", max_clips)
    return device, max_clips


def format_eta(seconds: float) -> str:
    """``"ETA m:ss"`` for a remaining time in seconds."""
    return f"ETA {int(seconds // 60)}:{int(seconds % 60):02d}"


class RunDialog(QDialog):
    """Modeless dialog running one worker at a time; see the module docstring."""

    running_changed = Signal(bool)
    progressed = Signal(float, str)

    def __init__(self, slot_name: str, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        configure_pyqtgraph()
        self.setWindowTitle(title)
        self.setModal(False)
        self._slot = TaskSlot(slot_name, self)
        self._worker = None
        self._started = 0.0
        self.last_result = None
        self.last_error = ""

    # --- layout ------------------------------------------------------------------------------
    def _assemble(self, form, view, extra_buttons: Sequence[QPushButton] = ()) -> None:
        """Form on the left, run view on the right, Start / Cancel run / extras / Close below.

        Start and Cancel run call :meth:`start` and :meth:`cancel`.
        """
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel run")
        self.close_button = QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        body = QHBoxLayout()
        body.addLayout(form, 0)
        body.addLayout(view, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, *extra_buttons, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)

    def _folder_row(self, line_edit: QLineEdit, title: str,
                    on_chosen: Callable[[str], None] | None = None) -> QHBoxLayout:
        """``line_edit`` with a "…" button that picks a folder into it."""
        def browse() -> None:
            folder = QFileDialog.getExistingDirectory(
                self, title, line_edit.text() or settings.start_folder("folders/dataset"))
            if folder:
                line_edit.setText(folder)
                if on_chosen is not None:
                    on_chosen(folder)

        button = QPushButton("…")
        button.setFixedWidth(32)
        button.clicked.connect(browse)
        row = QHBoxLayout()
        row.addWidget(line_edit, 1)
        row.addWidget(button)
        return row

    def _build_curve_view(self, y_label: str, curves: Sequence[tuple[str, str, str, str]],
                          hint: str) -> QVBoxLayout:
        """Plot, progress bar and status line.

        ``curves``: ``(attribute, legend, colour, symbol)`` each; the curve item becomes
        ``self.<attribute>``.
        """
        self.plot_widget = pg.PlotWidget()
        plot = self.plot_widget.getPlotItem()
        style_plot(plot, y_label, "epoch")
        plot.addLegend(offset=(-10, 8), labelTextColor=theme.TEXT)
        for attribute, legend, colour, symbol in curves:
            setattr(self, attribute, plot.plot(pen=pg.mkPen(colour, width=2), symbol=symbol,
                                               symbolSize=5, name=legend))
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.message = QLabel(hint)
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        self.eta = QLabel("")
        self.eta.setObjectName("muted")
        view = QVBoxLayout()
        view.addWidget(self.plot_widget, 3)
        view.addWidget(self.progress)
        status = QHBoxLayout()
        status.addWidget(self.message, 1)
        status.addWidget(self.eta)
        view.addLayout(status)
        return view

    # --- running -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start a run with the form's settings (subclasses)."""
        raise NotImplementedError

    def is_running(self) -> bool:
        """True while a worker is alive."""
        return self._worker is not None

    def _launch(self, worker, message: str) -> None:
        """Start ``worker`` (progress, failed and finished are wired here; the rest by caller)."""
        worker.progress.connect(self._on_progress)
        worker.failed.connect(self._show_error)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._started = time.monotonic()
        self.last_error = ""
        self.progress.setValue(0)
        self.eta.setText("")
        self.message.setText(message)
        self._set_running(True)
        self._slot.start(worker)

    def cancel(self) -> None:
        """Stop the run within one batch (the last epoch's checkpoint is kept)."""
        if self._worker is not None:
            self.message.setText("Cancelling after this batch…")
            self._slot.cancel()

    def stop_and_join(self) -> bool:
        """Cancel the run and wait for its thread; True when it stopped."""
        self.cancel()
        ok = self._slot.shutdown(final=False)  # the dialog can be opened and run again
        self._worker = None
        self._set_running(False)
        return ok

    # --- worker slots ------------------------------------------------------------------------
    def _on_progress(self, fraction: float, message: str) -> None:
        self.progressed.emit(fraction, message)
        self.progress.setValue(round(fraction * PROGRESS_STEPS))
        self.message.setText(message)
        elapsed = time.monotonic() - self._started
        if 0.02 < fraction < 1.0:
            self.eta.setText(format_eta(elapsed * (1.0 - fraction) / fraction))

    def _show_done(self, message: str) -> None:
        self.progress.setValue(PROGRESS_STEPS)
        self.eta.setText("")
        self.message.setText(message)

    def _on_finished(self) -> None:
        self._worker = None
        self._set_running(False)

    def _show_error(self, message: str) -> None:
        self.last_error = message
        self.message.setText(f"⚠ {message}")

    def _set_running(self, running: bool) -> None:
        """Enable the buttons and form widgets for ``running``; emit ``running_changed``."""
        self.running_changed.emit(running)
