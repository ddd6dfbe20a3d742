"""The full quality figures of an edit (``core.audio.metrics.quality``), once the sliders rest."""

from __future__ import annotations

import numpy as np

from celae_gui.views.figures import full_quality
from celae_gui.workers.base import BaseWorker


class QualityWorker(BaseWorker):
    """``result`` carries the ``core.audio.metrics.Quality`` of ``audio[T]`` against
       ``reference[T]``."""

    def __init__(self, reference: np.ndarray, audio: np.ndarray):
        super().__init__()
        self._reference = reference
        self._audio = audio

    def work(self):
        return full_quality(self._reference, self._audio)
