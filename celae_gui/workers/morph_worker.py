"""Morph between two songs in the background: load a clip of each, decode every step
(``core.latent.morph.morph``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from celae_gui.state import ClipWindow
from celae_gui.workers.base import BaseWorker
from celae_gui.workers.reconstruct_worker import load_window


@dataclass(frozen=True)
class MorphSettings:
    """Two songs and the clip of each (start in seconds), the number of steps and the mode
    (``"linear"`` or ``"slerp"``)."""

    song_a: Path
    song_b: Path
    steps: int = 8
    mode: str = "linear"
    offset_a: float = 0.0
    offset_b: float = 0.0


@dataclass(frozen=True)
class MorphResult:
    """The decoded steps, each ``np.ndarray[T]`` (step 0 is song A's reconstruction)."""

    settings: MorphSettings
    steps: list[np.ndarray]


class MorphWorker(BaseWorker):
    """``result`` carries a :class:`MorphResult`; cancelling stops between decoded steps."""

    def __init__(self, model, settings: MorphSettings):
        super().__init__()
        self._model = model
        self._settings = settings

    def work(self) -> MorphResult:
        from core.latent.morph import morph

        s, model = self._settings, self._model
        self.on_progress(0.0, "Loading the two songs")
        a = load_window(s.song_a, ClipWindow(s.offset_a), model.clip_samples)
        b = load_window(s.song_b, ClipWindow(s.offset_b), model.clip_samples)
        steps = morph(model, a, b, s.steps, s.mode, on_progress=self.on_progress,
                      should_stop=self.should_stop)
        return MorphResult(s, steps)
