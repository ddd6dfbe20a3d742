"""The transport: play/pause, stop, A/B/C source buttons and the position readout."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QWidget

from celae_gui import theme
from celae_gui.playback.control import PlaybackController
from celae_gui.state import SOURCES, AppState


def format_time(seconds: float) -> str:
    """``m:ss.d``."""
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


class TransportBar(QWidget):
    """Buttons bound to a :class:`PlaybackController`; disabled with the reason when silent."""

    def __init__(self, state: AppState, playback: PlaybackController,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._state = state
        self._playback = playback
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        self.play_button = QPushButton("▶  Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setMinimumWidth(96)
        self.stop_button = QPushButton("■  Stop")
        self.play_button.clicked.connect(playback.toggle)
        self.stop_button.clicked.connect(playback.stop)
        layout.addWidget(self.play_button)
        layout.addWidget(self.stop_button)
        layout.addSpacing(16)
        self.source_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        for i, kind in enumerate(SOURCES):
            label = theme.TRACE_LABELS[kind]
            button = QPushButton(label)
            button.setCheckable(True)
            button.setToolTip(f"Hear {label[3:]} (key {i + 1}; Tab cycles)")
            colour = theme.TRACE_COLOURS[kind]
            button.setStyleSheet(f"QPushButton {{ border-left: 4px solid {colour}; }}")
            button.clicked.connect(lambda _c=False, k=kind: playback.select(k))
            group.addButton(button)
            layout.addWidget(button)
            self.source_buttons[kind] = button
        self.source_buttons[playback.selected].setChecked(True)
        layout.addSpacing(16)
        self.position_label = QLabel(format_time(0.0))
        self.position_label.setMinimumWidth(70)
        layout.addWidget(self.position_label)
        layout.addStretch(1)
        self.reason_label = QLabel()
        self.reason_label.setObjectName("muted")
        self.reason_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.reason_label)
        playback.playing_changed.connect(self._on_playing_changed)
        playback.selected_changed.connect(self._on_selected_changed)
        playback.position_changed.connect(self._on_position_changed)
        state.source_changed.connect(self._on_source_changed)
        state.window_changed.connect(lambda _w: self._on_position_changed(0.0))
        self._on_source_changed("")

    def _on_playing_changed(self, playing: bool) -> None:
        self.play_button.setText("❚❚  Pause" if playing else "▶  Play")

    def _on_selected_changed(self, kind: str) -> None:
        self.source_buttons[kind].setChecked(True)

    def _on_position_changed(self, seconds: float) -> None:
        # Song time: the position in the heard window plus where the window starts.
        self.position_label.setText(format_time(self._state.time_origin() + seconds))

    def _on_source_changed(self, _kind: str) -> None:
        available = self._playback.available
        for kind, button in self.source_buttons.items():
            button.setEnabled(self._state.audio(kind) is not None)
        has_audio = self._state.audio(self._playback.selected) is not None
        self.play_button.setEnabled(available and has_audio)
        self.stop_button.setEnabled(available and has_audio)
        if not available:
            self.reason_label.setText(f"Playback off: {self._playback.reason}")
            self.reason_label.setToolTip(self._playback.reason)
        else:
            self.reason_label.setText("")
