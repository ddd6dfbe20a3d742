"""Cluster a dataset's clips in the background (``core.analysis.run_cluster``), and load a
short stretch of one clip for the map's hover preview."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from celae_gui.workers.base import BaseWorker

PREVIEW_SECONDS = 1.5


@dataclass(frozen=True)
class ClusterSettings:
    """Dataset, model and sweep settings of one clustering run."""

    data: Path
    model: Path
    k_min: int = 2
    k_max: int = 20
    max_clips: int | None = None
    device: str = "auto"
    baseline: bool = True


class ClusterWorker(BaseWorker):
    """``result`` carries the ``core.analysis.cluster.ClusterResult``."""

    def __init__(self, settings: ClusterSettings):
        super().__init__(progress_rate=4.0)
        self._settings = settings

    def work(self):
        from core.analysis import run_cluster

        s = self._settings
        return run_cluster(s.data, s.model, k_min=s.k_min, k_max=s.k_max,
                           max_clips=s.max_clips, device=s.device, baseline=s.baseline,
                           on_progress=self.on_progress, should_stop=self.should_stop)


@dataclass(frozen=True)
class ClipAudio:
    """``audio[T]`` of ``path`` from ``offset`` seconds (what the preview plays)."""

    path: Path
    offset: float
    audio: np.ndarray


class ClipLoadWorker(BaseWorker):
    """Decode ``seconds`` of ``path`` from ``offset``."""

    def __init__(self, path: Path, offset: float, seconds: float = PREVIEW_SECONDS):
        super().__init__()
        self._path, self._offset, self._seconds = Path(path), float(offset), float(seconds)

    def work(self) -> ClipAudio:
        from core.audio.io import load_audio

        audio = load_audio(self._path, offset=self._offset, duration=self._seconds)
        return ClipAudio(self._path, self._offset, audio)
