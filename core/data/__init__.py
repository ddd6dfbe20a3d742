"""Datasets and the clip cache: the one import for callers.

:mod:`core.data.dataset` finds songs and splits them (:func:`scan_dataset`, :func:`split_by_song`);
:mod:`core.data.clip_cache` decodes them into cached int16 clips (:func:`load_clips`,
:class:`ClipSet`,
:func:`iter_batches`). A typical use::

    index = scan_dataset("GTZAN/genres_original")
    clips = load_clips(index, on_progress=print)
    split = split_by_song(clips, valid_fraction=0.2, seed=0)
    for batch in iter_batches(clips, split.train, 16, seed=epoch):  # float32 [16, 110250]
        ...
"""

from core.data.clip_cache import ClipSet, SongError, iter_batches, load_clips
from core.data.dataset import DatasetIndex, Song, Split, scan_dataset, split_by_song

__all__ = ["ClipSet", "DatasetIndex", "Song", "SongError", "Split", "iter_batches", "load_clips",
           "scan_dataset", "split_by_song"]
