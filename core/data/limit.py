"""``max_clips``, with one meaning everywhere: at most that many clips in all, taken as whole
songs (seeded), round-robin over the genres, and on each side of a split in its proportions.

Whole songs keep a limited run from splitting one song's clips between training and
validation; the round-robin keeps every genre in a small run. ``celae train``, ``evaluate``,
``classify train``, ``cluster`` and ``report`` all limit their data this way.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def limit_clips(clipset: Any, indices: np.ndarray, max_clips: int | None, seed: int
                ) -> np.ndarray:
    """At most ``max_clips`` of the clip ``indices``: whole songs, round-robin over genres.

    Parameters
    ----------
    clipset : ClipSet
        Gives ``song_of_clip`` and ``labels`` (per clip; genre indices, or all equal).
    indices : np.ndarray[int]
        Clip indices to choose from.
    max_clips : int or None
        None keeps everything. A song that would overflow the limit is left out, unless no
        song fits at all: then the first song's first ``max_clips`` clips are kept.

    Returns
    -------
    np.ndarray[int]
        The kept indices, sorted.
    """
    indices = np.asarray(indices, dtype=np.int64)
    if max_clips is None or len(indices) <= max_clips:
        return indices
    songs = np.asarray(clipset.song_of_clip)[indices]
    labels = np.asarray(getattr(clipset, "labels", np.zeros(len(clipset))))[indices]
    rng = np.random.default_rng(seed)
    queues = {g: list(rng.permutation(np.unique(songs[labels == g]))) for g in np.unique(labels)}
    keep: list[np.ndarray] = []
    taken = 0
    while any(queues.values()):
        for g in list(queues):
            if not queues[g]:
                continue
            mine = indices[songs == queues[g].pop()]
            if taken + len(mine) <= max_clips:
                keep.append(mine)
                taken += len(mine)
    if not keep:
        first = songs[0]
        return np.sort(indices[songs == first][:max_clips])
    return np.sort(np.concatenate(keep))


def limit_split(train: np.ndarray, valid: np.ndarray, max_clips: int | None, clipset: Any,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`limit_clips` on both sides of a split, in the split's proportions."""
    total = len(train) + len(valid)
    if max_clips is None or total <= max_clips:
        return np.asarray(train, dtype=np.int64), np.asarray(valid, dtype=np.int64)
    n_valid = max(1, round(max_clips * len(valid) / total))
    return (limit_clips(clipset, train, max(1, max_clips - n_valid), seed),
            limit_clips(clipset, valid, n_valid, seed + 1))
