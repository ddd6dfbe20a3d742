"""A short preview player: the analysis map's hover previews and the morph dialog's steps."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal


class PreviewPlayer(QObject):
    """Plays one short buffer on its own output (hover previews, morph steps).

    Without sound output it still records what it was asked to play (``last_audio``), so the
    rest of the app behaves the same.
    """

    started = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._player = None
        self.last_audio: np.ndarray | None = None

    def play(self, audio: np.ndarray) -> None:
        """Play ``audio[T]`` from its start, replacing what was playing."""
        self.last_audio = np.asarray(audio, dtype=np.float32)
        try:
            if self._player is None:
                from celae_gui.playback.player import Player

                self._player = Player()
            self._player.stop()
            self._player.set_source("A", self.last_audio)
            self._player.select("A")
            self._player.play()
        except Exception:  # no sound output is not an error for a preview
            self._player = None
        self.started.emit(self.last_audio)

    def stop(self) -> None:
        """Stop the preview."""
        if self._player is not None:
            self._player.stop()

    def close(self) -> None:
        """Close the output stream."""
        if self._player is not None:
            self._player.close()
            self._player = None
