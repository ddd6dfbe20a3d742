"""The main window: builds the panels and wires them to the state and the controller.

Layout: library on the left, waveform and spectrograms in the centre, edit / quality / genre
panels on the right, the transport bar at the bottom. No audio or model logic lives here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from celae_gui import export, settings
from celae_gui.controller import Controller
from celae_gui.dialogs.analysis_window import AnalysisWindow
from celae_gui.dialogs.classifier_dialog import ClassifierDialog
from celae_gui.dialogs.morph_dialog import MorphDialog
from celae_gui.dialogs.training_dialog import TrainingDialog
from celae_gui.panels.edit_panel import EditPanel
from celae_gui.panels.genre_panel import GenrePanel
from celae_gui.panels.library_panel import FileDropTarget, LibraryPanel
from celae_gui.panels.model_selector import ModelSelector
from celae_gui.panels.pc_panel import PCPanel
from celae_gui.panels.quality_panel import QualityPanel
from celae_gui.playback.control import PlaybackController
from celae_gui.playback.transport_bar import TransportBar
from celae_gui.shortcuts import ShortcutsDialog
from celae_gui.state import SOURCES, AppState
from celae_gui.views.spectrogram_view import SpectrogramView
from celae_gui.views.waveform_view import WaveformView
from core.constants import AUDIO_EXTENSIONS
from core.errors import CelaeError

AUDIO_FILTER = "Audio ({})".format(" ".join(f"*{e}" for e in AUDIO_EXTENSIONS))
STATUS_MS = 6000


class MainWindow(FileDropTarget, QMainWindow):
    """The workbench window; ``shown`` is emitted after the first show."""

    shown = Signal()

    def __init__(self, state: AppState | None = None):
        super().__init__()
        self.setWindowTitle("CELAE Workbench")
        self.setAcceptDrops(True)
        self.state = state or AppState(self)
        self.controller = Controller(self.state, self)
        self.playback = PlaybackController(self.state, self)
        self.controller.attach_live(self.playback)
        self._shown_once = False
        self._build_panels()
        self._build_actions()
        self._wire()
        self._restore_settings()

    # --- construction ------------------------------------------------------------------------
    def _build_panels(self) -> None:
        state = self.state
        self.library_panel = LibraryPanel(state)
        self.waveform_view = WaveformView(state)
        self.spectrogram_view = SpectrogramView(state)
        self.waveform_view.plot.setXLink(self.spectrogram_view.x_plot)
        self.edit_panel = EditPanel(state)
        self.quality_panel = QualityPanel(state)
        self.genre_panel = GenrePanel(state)
        self.transport_bar = TransportBar(state, self.playback)
        self.model_selector = ModelSelector(state)
        self.training_dialog = TrainingDialog(self)
        self.pc_panel = PCPanel(state)
        self.classifier_dialog = ClassifierDialog(state, self)
        self.analysis_window = AnalysisWindow(state, self.controller, self.playback, self)
        self.morph_dialog = MorphDialog(state, self)
        self.export_model_dialog = None
        self.live_dialog = None

        self.centre_splitter = QSplitter(Qt.Orientation.Vertical)
        self.centre_splitter.addWidget(self.waveform_view)
        self.centre_splitter.addWidget(self.spectrogram_view)
        self.centre_splitter.setSizes([300, 420])
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.edit_panel)
        right_layout.addWidget(self.pc_panel)
        right_layout.addWidget(self.quality_panel)
        right_layout.addWidget(self.genre_panel, 1)
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.addWidget(self.library_panel)
        self.main_splitter.addWidget(self.centre_splitter)
        self.main_splitter.addWidget(right)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([270, 900, 360])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.main_splitter, 1)
        layout.addWidget(self.transport_bar)
        self.setCentralWidget(central)
        toolbar = QToolBar("Model")
        toolbar.setObjectName("model_toolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.model_selector)
        self.addToolBar(toolbar)
        self.busy_label = QLabel()
        self.busy_label.setObjectName("muted")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: it moves while work goes on
        self.busy_bar.setMaximumWidth(90)
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.setTextVisible(False)
        for w in (self.busy_label, self.busy_bar):
            w.hide()
            self.statusBar().addPermanentWidget(w)
        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.dismiss_error_button = QToolButton()
        self.dismiss_error_button.setText("×")
        self.dismiss_error_button.setToolTip("Dismiss this error")
        self.dismiss_error_button.setAutoRaise(True)
        self.dismiss_error_button.clicked.connect(lambda _c=False: self.dismiss_error())
        self.dismiss_error_button.hide()
        self.statusBar().addPermanentWidget(self.error_label)
        self.statusBar().addPermanentWidget(self.dismiss_error_button)

    def _action(self, menu, text: str, slot, shortcut: str | QKeySequence | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        # triggered(bool) must never reach a slot's first optional argument.
        action.triggered.connect(lambda _checked=False, run=slot: run())
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&Open songs…", self.open_files, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open &folder…", self.open_folder)
        file_menu.addSeparator()
        self.export_action = self._action(file_menu, "&Export edited audio…",
                                          lambda: self.export_audio("edited"), "Ctrl+E")
        self._action(file_menu, "Export &reconstruction…", lambda: self.export_audio("recon"))
        self.export_latent_action = self._action(file_menu, "Export &latent (.celat)…",
                                                 self.export_latent)
        self.export_model_action = self._action(
            file_menu, "Export &model…", self.show_export_model,
            tip="The current model's encoder and decoder as ONNX or TorchScript")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self._action(edit_menu, "&Undo edit", self.state.undo, "Ctrl+Z")
        self.redo_action = self._action(edit_menu, "&Redo edit", self.state.redo,
                                        "Ctrl+Shift+Z")
        self._action(edit_menu, "Re&set edits", self.state.reset_edits)
        play_menu = bar.addMenu("&Play")
        self._action(play_menu, "Play / pause  (Space)", self.playback.toggle)
        self._action(play_menu, "Stop", self.playback.stop)
        for i, kind in enumerate(SOURCES):
            self._action(play_menu, f"Hear {'ABC'[i]}  ({i + 1})",
                         lambda _c=False, k=kind: self.playback.select(k))
        play_menu.addSeparator()
        self.live_action = self._action(
            play_menu, "&Live input…", self.show_live, "Ctrl+L",
            tip="A microphone or line input through the current model, in real time")
        train_menu = bar.addMenu("&Train")
        self._action(train_menu, "Train &model…", self.show_training, "Ctrl+T")
        self._action(train_menu, "Train &classifier…",
                     lambda: self._show_dialog(self.classifier_dialog),
                     tip="Train a genre classifier on the current model's latents")
        explore_menu = bar.addMenu("E&xplore")
        self._action(explore_menu, "&Analysis and latent map…",
                     lambda: self._show_dialog(self.analysis_window), "Ctrl+Shift+A",
                     tip="Confusion matrix, clustering and the 2-D map of a data set")
        self._action(explore_menu, "&Morph between songs…",
                     lambda: self._show_dialog(self.morph_dialog), "Ctrl+M")
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Shortcuts", self.show_shortcuts, "F1")
        self.about_action = self._action(help_menu, "&About CELAE Workbench", self.show_about)
        # Window-wide keys that must work whichever widget has focus.
        keys = {"Space": self.playback.toggle, "Tab": self.playback.cycle,
                "1": lambda: self.playback.select("original"),
                "2": lambda: self.playback.select("recon"),
                "3": lambda: self.playback.select("edited")}
        self._shortcuts = []
        for key, slot in keys.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)
        # A text field keeps the focus after Enter and then takes digits and Space as text:
        # Enter in any of the window's fields hands the focus back to the waveform, so 1/2/3
        # and Space work again at once.
        for field in self.centralWidget().findChildren(QAbstractSpinBox):
            field.editingFinished.connect(self._return_focus)

    def _wire(self) -> None:
        state, controller = self.state, self.controller
        self.library_panel.files_dropped.connect(controller.open_paths)
        self.library_panel.open_requested.connect(self.open_files)
        self.model_selector.model_requested.connect(self._on_model_requested)
        controller.models_listed.connect(self.model_selector.set_models)
        controller.progress.connect(self._on_progress)
        controller.busy_changed.connect(self._on_busy_changed)
        state.message.connect(self._on_message)
        state.undo_changed.connect(self._on_undo_changed)
        self.waveform_view.seek_requested.connect(self.playback.seek)
        self.playback.position_changed.connect(self.waveform_view.set_play_head)
        self.training_dialog.model_trained.connect(self._on_model_trained)
        self.classifier_dialog.classifier_trained.connect(self.genre_panel.reload)
        self.genre_panel.train_requested.connect(
            lambda: self._show_dialog(self.classifier_dialog))
        self._on_undo_changed(False, False)

    # --- settings ----------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = settings.app_settings()
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 920)
        for key, splitter in self._splitters().items():
            value = s.value(f"window/{key}")
            if isinstance(value, QByteArray):
                splitter.restoreState(value)

    def _splitters(self) -> dict[str, QSplitter]:
        return {"main_splitter": self.main_splitter, "centre_splitter": self.centre_splitter}

    def save_settings(self) -> None:
        """Store geometry, splitter states and the current model."""
        s = settings.app_settings()
        s.setValue("window/geometry", self.saveGeometry())
        for key, splitter in self._splitters().items():
            s.setValue(f"window/{key}", splitter.saveState())
        if self.state.model is not None:
            s.setValue("model/last", str(self.state.model.path))
        s.sync()

    def last_model(self) -> str | None:
        """The model used last time, if its folder still exists."""
        last = settings.read_str("model/last")
        return last if last and Path(last).is_dir() else None

    # --- startup -----------------------------------------------------------------------------
    def start(self, paths: list[Path] | None = None, model: str | None = None) -> None:
        """Load ``model`` (else the last, else the default) and ``paths`` (else the demo songs)."""
        self.controller.load_model(model or self.last_model())
        if paths:
            self.controller.open_paths(paths)
            return
        from core.paths import demo_songs_dir

        demo = demo_songs_dir()
        songs = [p for p in sorted(demo.glob("*")) if p.suffix.lower() in AUDIO_EXTENSIONS] \
            if demo.is_dir() else []
        if songs:
            self.controller.open_paths(songs)
        else:
            self.state.info(f"No demo songs in {demo} (run `make demo-songs`); "
                            "drop songs here or use File ▸ Open")

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.shown.emit()

    # --- user commands -----------------------------------------------------------------------
    def open_files(self) -> None:
        """File > Open songs."""
        files, _ = QFileDialog.getOpenFileNames(self, "Open songs",
                                                settings.start_folder("folders/open"),
                                                AUDIO_FILTER)
        if files:
            settings.write_value("folders/open", str(Path(files[0]).parent))
            self.controller.open_paths([Path(f) for f in files])

    def open_folder(self) -> None:
        """File > Open folder (every audio file in it, recursively)."""
        folder = QFileDialog.getExistingDirectory(self, "Open folder",
                                                  settings.start_folder("folders/open"))
        if folder:
            settings.write_value("folders/open", folder)
            self.controller.open_paths([Path(folder)])

    def export_audio(self, kind: str) -> None:
        """Save the edited or reconstructed audio as WAV/FLAC."""
        audio = self.state.audio(kind)
        if audio is None:
            self.state.error("Nothing to export yet: select a song first")
            return
        stem = self.state.current_path.stem if self.state.current_path else "clip"
        start = Path(settings.start_folder("folders/export")) / f"{stem}-{kind}.wav"
        path, _ = QFileDialog.getSaveFileName(self, "Export audio", str(start),
                                              export.AUDIO_FILTER)
        if not path:
            return
        try:
            saved = export.export_audio(path, audio, self._open_songs())
        except CelaeError as err:
            self.state.error(str(err))
            return
        settings.write_value("folders/export", str(saved.parent))
        self.state.info(f"Saved {saved.name}")

    def _open_songs(self) -> list[Path | None]:
        """Every song the app has open: an export must never replace one of them."""
        state = self.state
        return [e.path for e in state.library] + [state.current_path, state.other_path]

    def export_latent(self) -> None:
        """Save the latent of what C plays (the edit, else the reconstruction) as ``.celat``."""
        state = self.state
        source = state.source("edited") or state.source("recon")
        if source is None or source.latent is None or state.model is None:
            self.state.error("No latent yet: select a song first")
            return
        stem = state.current_path.stem if state.current_path else "clip"
        start = Path(settings.start_folder("folders/export")) / f"{stem}-latent.celat"
        path, _ = QFileDialog.getSaveFileName(self, "Export latent", str(start),
                                              export.LATENT_FILTER)
        if not path:
            return
        try:
            saved = export.export_latent(path, source.latent, model=state.model,
                                         song=str(state.current_path), window=state.window,
                                         edit_params=state.edit_params)
        except (CelaeError, OSError) as err:
            self.state.error(f"{Path(path).name}: {err}")
            return
        settings.write_value("folders/export", str(saved.parent))
        self.state.info(f"Saved {saved.name}")

    def show_live(self) -> None:
        """Play > Live input: the dialog is made on first use (it lists the sound devices)."""
        if self.live_dialog is None:
            from celae_gui.dialogs.live_dialog import LiveDialog

            self.live_dialog = LiveDialog(self.state, self)
            self.live_dialog.started.connect(self.playback.pause)
        self._show_dialog(self.live_dialog)

    def show_export_model(self) -> None:
        """File > Export model...: ONNX or TorchScript, checked against torch."""
        if self.export_model_dialog is None:
            from celae_gui.dialogs.export_model_dialog import ExportModelDialog

            self.export_model_dialog = ExportModelDialog(self.state, self)
        self._show_dialog(self.export_model_dialog)

    def show_training(self) -> None:
        """Train > Train model (Ctrl+T)."""
        self.training_dialog.show()
        self.training_dialog.raise_()

    def _show_dialog(self, dialog) -> None:
        dialog.show()
        dialog.raise_()

    def show_shortcuts(self) -> None:
        """Help > Shortcuts (F1)."""
        ShortcutsDialog(self).show()

    def show_about(self) -> None:
        """Help > About: versions, compute device and the log file."""
        from celae_gui.dialogs.about_dialog import AboutDialog

        dialog = AboutDialog(self.state, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.about_dialog = dialog

    # --- slots -------------------------------------------------------------------------------
    def _on_model_requested(self, path: Path) -> None:
        self.controller.load_model(path)

    def _on_model_trained(self, path: Path) -> None:
        self.controller.refresh_models()
        self.state.info(f"Model {path.name} trained: pick it in the model selector")

    def _on_progress(self, _task: str, fraction: float, message: str) -> None:
        self.statusBar().showMessage(f"{message}  ({fraction:.0%})" if fraction < 1 else message,
                                     STATUS_MS)

    def _on_message(self, level: str, text: str) -> None:
        # An error stays until dismissed or replaced by the next error: an info that follows
        # at once ("Model loaded") must not wipe it before it is read.
        if level == "error":
            self.error_label.setText(f"⚠ {text[:120]}")
            self.error_label.setToolTip(text)
            self.dismiss_error_button.show()
        else:
            self.statusBar().showMessage(text, STATUS_MS)

    def dismiss_error(self) -> None:
        """The × beside the error: hide it."""
        self.error_label.setText("")
        self.error_label.setToolTip("")
        self.dismiss_error_button.hide()

    def _on_busy_changed(self, text: str) -> None:
        self.busy_label.setText(text)
        self.busy_label.setVisible(bool(text))
        self.busy_bar.setVisible(bool(text))

    def _return_focus(self) -> None:
        field = self.sender()
        # editingFinished also fires when the field loses focus to a click elsewhere: only an
        # Enter (the field still focused) hands the focus back.
        if isinstance(field, QWidget) and field.hasFocus():
            self.waveform_view.plot_widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_undo_changed(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)

    # --- drops and closing -------------------------------------------------------------------
    def paths_dropped(self, paths: list[Path]) -> None:
        """Files and folders dropped anywhere on the window."""
        self.controller.open_paths(paths)

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.training_dialog.is_running():
            if not self.training_dialog.confirm_stop():
                event.ignore()
                return
            self.training_dialog.stop_and_join()
        self.save_settings()
        self.training_dialog.hide()
        self.classifier_dialog.stop_and_join()
        for part in (self.genre_panel, self.pc_panel, self.analysis_window, self.morph_dialog):
            part.shutdown()
        if self.export_model_dialog is not None:
            self.export_model_dialog.shutdown()
        if self.live_dialog is not None:
            self.live_dialog.shutdown()
        self.controller.shutdown()
        self.playback.close()
        event.accept()
