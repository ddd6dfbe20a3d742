"""The app's side of playback: feeds the state's sources to the ``Player`` and polls its position.

``celae_gui.playback.player.Player`` owns the sound device; this controller maps the state's
sources to
its A/B/C buffers, forwards transport commands and moves the play-head from a GUI ``QTimer``
(the audio callback never touches Qt). Without PortAudio or an output device everything here
still works except sound: :attr:`available` is False and :attr:`reason` says why.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from celae_gui.state import SOURCES, AppState

log = logging.getLogger(__name__)

KEYS = dict(zip(SOURCES, ("A", "B", "C"), strict=True))
"""Player buffer name of each source."""

POLL_MS = 33


class PlaybackController(QObject):
    """Transport commands and the play position, in seconds."""

    position_changed = Signal(float)
    sources_updated = Signal(str)
    """The player holds the new audio of this source: it is ready to be heard."""
    playing_changed = Signal(bool)
    selected_changed = Signal(str)

    def __init__(self, state: AppState, parent: QObject | None = None):
        super().__init__(parent)
        self._state = state
        self.selected = "original"
        self._player = None
        self.available, self.reason = False, "playback not started"
        try:
            from celae_gui.playback.player import Player, playback_status

            self.available, self.reason = playback_status()
            if self.available:
                self._player = Player()
        except Exception as err:  # no PortAudio, no device, or a broken driver: run silently
            self.available, self.reason = False, f"no audio output ({err})"
            self._player = None
        if self._player is None:
            self.available = False
        self._playing = False
        self._shared: dict = {}
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        state.source_changed.connect(self._on_source_changed)
        # Another window or song is other audio: its clock starts again at the window's start.
        state.window_changed.connect(self._on_window_changed)
        state.current_song_changed.connect(self._on_window_changed)

    def _on_window_changed(self, *_args) -> None:
        self.stop()

    @property
    def playing(self) -> bool:
        return self._playing

    def share_live(self, kind: str, audio) -> None:
        """Hand ``audio`` (float32 ``[T]`` in [-1, 1], still being filled) to the player as
        ``kind`` without a copy. Thread-safe: a renderer thread calls it the moment the audio
        at the play head is ready, without waiting for the GUI thread."""
        if self._player is not None:
            self._player.share_source(KEYS[kind], audio)
            self._shared[kind] = audio

    def _on_source_changed(self, kind: str) -> None:
        if self._player is None:
            self.sources_updated.emit(kind)
            return
        data = self._state.source(kind)
        audio = None if data is None else data.audio
        try:
            if audio is None:
                self._shared.pop(kind, None)
                self._player.set_source(KEYS[kind], None)
            elif self._shared.get(kind) is audio:
                pass  # shared by share_live: the player reads it already
            elif data.playable and audio.ndim == 1:
                # Made playable off the GUI thread (celae_gui.views.figures.playable): no copy
                # here, where copying a whole song's three sources froze the window.
                self._player.share_source(KEYS[kind], audio)
                self._shared[kind] = audio
            else:
                self._player.set_source(KEYS[kind], audio)
                self._shared.pop(kind, None)
        except Exception as err:
            self._fail(err)
        if not any(self._state.audio(k) is not None for k in SOURCES):
            self.stop()
        self.sources_updated.emit(kind)

    def toggle(self) -> None:
        """Play or pause."""
        if self._playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Start playing the selected source from the current position."""
        if self._player is None or self._state.audio(self.selected) is None:
            return
        try:
            self._player.select(KEYS[self.selected])
            self._player.play()
        except Exception as err:
            self._fail(err)
            return
        self._set_playing(True)

    def pause(self) -> None:
        """Pause, keeping the position."""
        if self._player is not None:
            self._player.pause()
        self._set_playing(False)

    def stop(self) -> None:
        """Stop and go back to the start."""
        if self._player is not None:
            self._player.stop()
        self._set_playing(False)
        self.position_changed.emit(0.0)

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` (playing or not)."""
        if self._player is not None:
            self._player.seek(max(0.0, seconds))
        self.position_changed.emit(max(0.0, seconds))

    def select(self, kind: str) -> None:
        """Switch the heard source (A/B/C), keeping the position; the player crossfades."""
        if kind not in SOURCES or kind == self.selected:
            return
        self.selected = kind
        if self._player is not None:
            try:
                self._player.select(KEYS[kind])
            except Exception as err:
                self._fail(err)
        self.selected_changed.emit(kind)

    def cycle(self) -> None:
        """Tab: A -> B -> C -> A."""
        self.select(SOURCES[(SOURCES.index(self.selected) + 1) % len(SOURCES)])

    def position(self) -> float:
        """Play position in seconds."""
        return float(self._player.position) if self._player is not None else 0.0

    def close(self) -> None:
        """Stop the stream (at exit)."""
        self._timer.stop()
        if self._player is not None:
            try:
                self._player.close()
            except Exception as err:
                log.warning("closing the player: %s", err)

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            if playing:
                self._timer.start()
            else:
                self._timer.stop()
            self.playing_changed.emit(playing)

    def _poll(self) -> None:
        self.position_changed.emit(self.position())
        if self._player is not None and not getattr(self._player, "is_playing", True):
            self._set_playing(False)

    def _fail(self, err: Exception) -> None:
        self._set_playing(False)
        self._state.error(f"Playback: {err}")
