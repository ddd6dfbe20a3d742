"""What the trainer trains on: a clip set and its train/valid indices, from memory or a folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.data.limit import limit_split
from core.errors import TrainingError
from core.progress import ProgressFn, StopFn


@dataclass(frozen=True)
class TrainingData:
    """Clips and the split the trainer uses.

    Attributes
    ----------
    clips : ClipSet
        int16 clips ``[N, T]`` with ``float_batch(indices) -> np.ndarray[B, T]``.
    train, valid : np.ndarray[int]
        Clip indices of each side (songs never straddle the two).
    """

    clips: Any
    train: np.ndarray
    valid: np.ndarray

    @property
    def clip_samples(self) -> int:
        """Samples per clip ``T``."""
        return int(self.clips.clips.shape[1])

    def identity(self) -> dict[str, Any]:
        """Small fingerprint of the clips and split, stored in checkpoints to refuse resuming
        a run on other data (sampled, so it stays cheap for a full dataset)."""
        clips = self.clips.clips
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.train, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.valid, dtype=np.int64).tobytes())
        step = max(1, len(clips) // 64)
        h.update(np.ascontiguousarray(clips[::step, :4096]).tobytes())
        return {"clips": int(clips.shape[0]), "clip_samples": int(clips.shape[1]),
                "train": len(self.train), "valid": len(self.valid), "sha256": h.hexdigest()}


def prepare_data(config: Any, data: Any, split: Any, *, on_progress: ProgressFn,
                 should_stop: StopFn) -> TrainingData:
    """Load ``data`` (a ClipSet or a dataset folder) and split it by song.

    Parameters
    ----------
    config : TrainConfig
        Uses ``valid_fraction``, ``seed`` and ``max_clips``.
    data : ClipSet or path
        Clips in memory, or a folder for ``core.data.scan_dataset`` / ``load_clips``.
    split : Split or None
        Ready train/valid indices; default ``core.data.split_by_song``.

    Raises
    ------
    TrainingError
        Too few clips or songs to hold out a validation set.
    DatasetError
        The folder holds no usable audio.
    """
    if isinstance(data, str | os.PathLike):
        from core.constants import CLIP_SAMPLES
        from core.data import load_clips, scan_dataset

        # A model asked for with another clip length is trained on clips of that length.
        clip_samples = int(config.model.get("clip_samples", CLIP_SAMPLES))
        clipset = load_clips(scan_dataset(data), clip_samples=clip_samples,
                             on_progress=on_progress, should_stop=should_stop)
    else:
        clipset = data
    if split is None:
        from core.data import split_by_song

        split = split_by_song(clipset, config.valid_fraction, config.seed)
    train = np.asarray(split.train, dtype=np.int64)
    valid = np.asarray(split.valid, dtype=np.int64)
    if config.max_clips is not None:
        train, valid = limit_split(train, valid, config.max_clips, clipset, config.seed)
    if len(train) == 0 or len(valid) == 0:
        raise TrainingError(f"need clips on both sides of the train/valid split, got "
                            f"{len(train)} train and {len(valid)} valid clips (more songs, or "
                            "another valid_fraction)")
    return TrainingData(clips=clipset, train=train, valid=valid)
