"""Play > Live input...: a microphone or line input through the current model, in real time.

The user picks the input and output devices and the block size (the latency / robustness
trade-off). Before Start the dialog times the model at that block on this machine
(:class:`~celae_gui.workers.live_check_worker.LiveCheckWorker`) and says whether it keeps up;
a model that cannot is marked and Start stays off. While running it shows the input-to-output
latency, the compute real-time factor and the dropped blocks
(:class:`celae_gui.playback.live_input.LiveStream`). The current scale, noise and smoothing
edits apply live and follow the sliders; the edits tied to a song's windows (mixing, principal
directions) do not, and the dialog says so.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from celae_gui.playback.player import _sounddevice
from celae_gui.state import AppState
from celae_gui.workers.base import TaskSlot
from celae_gui.workers.live_check_worker import LiveCheckWorker

BLOCKS = (512, 1024, 2048, 4096, 8192)
DEFAULT_BLOCK = 2048
STATS_INTERVAL_MS = 250


def _devices(kind: str) -> list[tuple[str, int | None]]:
    """``(label, PortAudio index)`` for the devices of ``kind`` ("input"/"output"), default
    first (index None); just the default when PortAudio is missing."""
    sd, _reason = _sounddevice()
    items: list[tuple[str, int | None]] = []
    if sd is None:
        return [(f"Default {kind}", None)]
    try:
        default = sd.query_devices(kind=kind)["name"]
        items.append((f"Default {kind} ({default})", None))
    except (sd.PortAudioError, ValueError):
        items.append((f"Default {kind} (none found)", None))
    key = f"max_{kind}_channels"
    try:
        listed = list(sd.query_devices())
    except sd.PortAudioError:
        listed = []
    for index, info in enumerate(listed):
        if int(info[key]) > 0:
            items.append((f"{index}: {info['name']}", index))
    return items


def _times(factor: float) -> str:
    """A real-time factor as the dialog writes it: ``0.21×``, ``0.004×``."""
    return f"{factor:.2f}×" if factor >= 0.1 else f"{factor:.2g}×"


class LiveDialog(QDialog):
    """Devices, block size, the speed check, Start/Stop and the running figures.

    Signals
    -------
    started()
        The stream runs (the window pauses its player on it).
    stopped()
    """

    started = Signal()
    stopped = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Live input")
        self.setModal(False)
        self.resize(560, 300)
        self._state = state
        self._slot = TaskSlot("live-check", self)
        self._check: LiveCheckWorker | None = None
        self._report = None
        self._stream = None
        self.model_label = QLabel()
        self.input_box = QComboBox()
        self.output_box = QComboBox()
        self.block_box = QComboBox()
        self.block_box.setToolTip("Samples per block: smaller hears sooner, larger is safer "
                                  "against dropouts and lets slower models keep up")
        self.apply_edits = QCheckBox("Apply the current edits (scale, noise, smoothing)")
        self.apply_edits.setChecked(True)
        self.apply_edits.toggled.connect(lambda _on: self._push_edit())
        form = QFormLayout()
        form.addRow("Model", self.model_label)
        form.addRow("Input", self.input_box)
        form.addRow("Output", self.output_box)
        form.addRow("Block", self.block_box)
        form.addRow("", self.apply_edits)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.edits_label = QLabel()
        self.edits_label.setObjectName("muted")
        self.edits_label.setWordWrap(True)
        self.stats_label = QLabel("Not running.")
        self.stats_label.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self._on_start_clicked)
        self.rescan_button = QPushButton("Rescan devices")
        self.rescan_button.clicked.connect(lambda _c=False: self.refresh_devices())
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.rescan_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.check_label)
        layout.addWidget(self.stats_label)
        layout.addWidget(self.edits_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self._timer = QTimer(self)
        self._timer.setInterval(STATS_INTERVAL_MS)
        self._timer.timeout.connect(self._update_stats)
        self.block_box.currentIndexChanged.connect(lambda _i: self._run_check())
        state.model_changed.connect(self._on_model_changed)
        state.edit_params_changed.connect(lambda _p: self._push_edit())
        self.refresh_devices()
        self._on_model_changed(state.model)

    # --- commands ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._stream is not None

    @property
    def block(self) -> int:
        return int(self.block_box.currentData() or DEFAULT_BLOCK)

    def refresh_devices(self) -> None:
        """List the input and output devices again (keeps the choice where it still exists)."""
        for box, kind in ((self.input_box, "input"), (self.output_box, "output")):
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            for label, index in _devices(kind):
                box.addItem(label, index)
            found = box.findData(current)
            box.setCurrentIndex(max(found, 0))
            box.blockSignals(False)

    def start(self) -> None:
        """Open the devices and play the input through the model."""
        loaded = self._state.model
        if loaded is None or self.running:
            return
        from celae_gui.playback.live_input import LiveStream

        try:
            stream = LiveStream(loaded.model, self.block, loaded.model.sample_rate,
                                input_device=self.input_box.currentData(),
                                output_device=self.output_box.currentData(),
                                edit=self._edit())
            stream.start()
        except (RuntimeError, ValueError) as err:
            self._show_error(str(err))
            return
        self._stream = stream
        self._set_running(True)
        self._timer.start()
        self._update_stats()
        self.started.emit()

    def stop(self) -> None:
        """Stop the stream (idempotent); the last figures stay on screen."""
        stream, self._stream = self._stream, None
        self._timer.stop()
        if stream is None:
            return
        stream.stop()
        self.stats_label.setText("Stopped. " + self._stats_text(stream.stats()))
        self._set_running(False)
        self.stopped.emit()

    def shutdown(self) -> bool:
        """Stop the stream and join the speed check (window close)."""
        self.stop()
        return self._slot.shutdown()

    # --- the speed check ---------------------------------------------------------------------
    def _run_check(self) -> None:
        loaded = self._state.model
        self._report = None
        if loaded is None:
            self._set_running(self.running)
            return
        self.check_label.setObjectName("muted")
        self.check_label.setText(f"Timing {loaded.path.name} at {self.block} samples on this "
                                 "machine…")
        worker = LiveCheckWorker(loaded.model, self.block, loaded.model.sample_rate)
        worker.result.connect(lambda report, w=worker: self._on_check(w, report))
        worker.failed.connect(lambda text, w=worker: self._on_check_failed(w, text))
        self._check = worker
        self._slot.start(worker)
        self._set_running(self.running)

    def _on_check(self, worker, report) -> None:
        if worker is not self._check:
            return  # an older block size or model
        self._check = None
        self._report = report
        ms = 1000 * report.block / self._sample_rate()
        if report.real_time_factor >= 1.0:
            self.check_label.setText(
                f"⚠ Too slow on this machine: one {ms:.0f} ms block takes "
                f"{_times(report.real_time_factor)} its duration to compute. Pick a larger block "
                "or a smaller model.")
        elif not report.keeps_up:
            self.check_label.setText(
                f"⚠ Barely keeps up: compute {_times(report.real_time_factor)} real time; expect "
                "dropouts while other work runs. A larger block is safer.")
        else:
            self.check_label.setText(
                f"Keeps up: compute {_times(report.real_time_factor)} real time; model latency "
                f"{report.latency_ms:.0f} ms, plus the sound devices'.")
        self._set_running(self.running)

    def _on_check_failed(self, worker, text: str) -> None:
        if worker is not self._check:
            return
        self._check = None
        self.check_label.setText(f"⚠ {text}")
        self._set_running(self.running)

    # --- slots -------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        if self.running:
            self.stop()
        if loaded is None:
            self.model_label.setText("no model loaded")
        else:
            self.model_label.setText(f"{loaded.path.name} ({loaded.arch})")
        sr = self._sample_rate()
        keep = self.block
        self.block_box.blockSignals(True)
        self.block_box.clear()
        for block in BLOCKS:
            self.block_box.addItem(f"{block} samples ({1000 * block / sr:.0f} ms)", block)
        self.block_box.setCurrentIndex(max(self.block_box.findData(keep), 0))
        self.block_box.blockSignals(False)
        if self.isVisible():
            self._run_check()
        else:
            self._report = None
            self._set_running(False)

    def _on_start_clicked(self) -> None:
        if self.running:
            self.stop()
        else:
            self.start()

    def _update_stats(self) -> None:
        stream = self._stream
        if stream is None:
            return
        if stream.error is not None:
            err = stream.error
            self.stop()
            self._show_error(f"Live input stopped: {type(err).__name__}: {err}")
            return
        self.stats_label.setText(self._stats_text(stream.stats()))

    @staticmethod
    def _stats_text(s) -> str:
        return (f"Latency {s.latency_ms:.0f} ms (block and device buffers "
                f"{s.device_latency_ms:.0f} + model lookahead {s.model_latency_ms:.0f}) · "
                f"compute {_times(s.real_time_factor)} real time · {s.blocks} blocks · "
                f"{s.dropped} dropped · {s.late} late")

    def _edit(self):
        from core.latent.window_edits import LiveEdits

        params = self._state.edit_params
        edits = LiveEdits(params)
        skipped = edits.skipped
        self.edits_label.setText(
            f"Not applied live: {', '.join(skipped)} (they belong to a song's windows)."
            if skipped and self.apply_edits.isChecked() else "")
        if not self.apply_edits.isChecked() or edits.is_identity:
            return None
        return edits

    def _push_edit(self) -> None:
        edit = self._edit()
        if self._stream is not None:
            self._stream.set_edit(edit)

    def _sample_rate(self) -> int:
        loaded = self._state.model
        return int(loaded.model.sample_rate) if loaded is not None else 22_050

    def _show_error(self, text: str) -> None:
        self.check_label.setText(f"⚠ {text}")
        self._state.error(text)

    def _set_running(self, running: bool) -> None:
        report = self._report
        can_start = (self._state.model is not None and report is not None
                     and report.real_time_factor < 1.0)
        self.start_button.setText("Stop" if running else "Start")
        self.start_button.setEnabled(running or can_start)
        for w in (self.input_box, self.output_box, self.block_box, self.rescan_button):
            w.setEnabled(not running)

    # --- Qt ----------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._report is None and self._check is None:
            self._run_check()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.stop()
        super().closeEvent(event)
