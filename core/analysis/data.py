"""Dataset plumbing shared by the analysis commands: load a folder's clips at a model's clip
length, keep at most a number of clips (whole songs), split by song into labelled arrays."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from core.data.limit import limit_clips
from core.errors import DatasetError
from core.genre.probe import LabeledClips
from core.progress import ProgressFn, StopFn

VALID_FRACTION = 0.2
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class ClipRef:
    """One clip of a dataset: its song's file, id and genre, its start in the song in seconds,
    and its index in the ClipSet."""

    path: str
    song_id: str
    genre: str | None
    offset: float
    index: int


@dataclass
class AnalysisData:
    """Labelled clips of a dataset and their split (train/valid/test sides by song).

    ``clipset`` is the :class:`core.data.ClipSet`; ``keep`` the clip indices used (all of
    them unless ``max_clips`` limited them); ``split`` the :class:`core.data.Split` of the
    kept clips' songs, whose indices point into ``clipset``.
    """

    root: str
    clipset: object
    keep: np.ndarray
    split: object
    genres: list[str]

    def side(self, name: str) -> LabeledClips:
        """The clips of one side (``"train"``, ``"valid"``, ``"test"``) or ``"all"``."""
        idx = self.keep if name == "all" else np.asarray(getattr(self.split, name))
        cs = self.clipset
        return LabeledClips(np.asarray(cs.clips[idx]), np.asarray(cs.labels[idx]),
                            np.asarray(cs.song_of_clip[idx]))

    @property
    def labelled(self) -> bool:
        """True when every kept clip has a genre."""
        return bool(self.genres) and bool(np.all(np.asarray(self.clipset.labels)[self.keep] >= 0))

    def clip_refs(self, name: str = "all") -> list[ClipRef]:
        """Where each clip of a side comes from, for hover text and click-to-play."""
        idx = self.keep if name == "all" else np.asarray(getattr(self.split, name))
        cs = self.clipset
        of_clip = np.asarray(cs.song_of_clip)
        # load_clips stores a song's clips consecutively from its start (no max per song is
        # asked for here), so a clip's rank within its song gives its offset.
        first = {}
        for i, s in enumerate(of_clip):
            first.setdefault(int(s), i)
        seconds = cs.clip_samples / cs.sample_rate
        refs = []
        for i in idx:
            song = cs.songs[int(of_clip[i])]
            refs.append(ClipRef(str(song.path), song.song_id, song.genre,
                                (int(i) - first[int(of_clip[i])]) * seconds, int(i)))
        return refs

    def split_info(self) -> dict:
        """How the data was split, for results and ``config.json``."""
        s = self.split
        return {"method": s.method, "train_clips": len(s.train), "valid_clips": len(s.valid),
                "test_clips": len(s.test), "train_songs": len(s.train_songs),
                "valid_songs": len(s.valid_songs), "test_songs": len(s.test_songs)}


class _Subset:
    """The songs/clips view ``split_by_song`` needs, restricted to the kept clips' songs."""

    def __init__(self, clipset, keep: np.ndarray):
        of_clip = np.asarray(clipset.song_of_clip)
        kept = np.unique(of_clip[keep])
        self.songs = tuple(clipset.songs[i] for i in kept)
        # Clips left out get an impossible song so that no side picks them up.
        self.song_of_clip = np.full(len(of_clip), -1, dtype=np.int64)
        self.song_of_clip[keep] = np.searchsorted(kept, of_clip[keep])


def load_analysis_data(data: str | os.PathLike, clip_samples: int, *, seed: int = 0,
                       max_clips: int | None = None, test_fraction: float = TEST_FRACTION,
                       need_labels: bool = True, on_progress: ProgressFn | None = None,
                       should_stop: StopFn | None = None) -> AnalysisData:
    """Scan and decode a dataset folder into clips of ``clip_samples`` and split it by song.

    GTZAN file names (``genre.000NN``) get torchaudio's fault-filtered split
    (``core.data.split_by_song`` decides); other folders a seeded, per-genre split.

    Raises
    ------
    DatasetError
        No audio, or ``need_labels`` and the folder has no genres (a GTZAN-style layout with one
        sub-folder per genre is needed).
    """
    from core.data import load_clips, scan_dataset, split_by_song

    index = scan_dataset(data)
    if need_labels and len(index.genres) < 2:
        raise DatasetError(f"{os.path.basename(os.fspath(data))}: genre classification needs a "
                           f"labelled dataset (one sub-folder per genre, at least two genres); "
                           f"found {len(index.genres)} genre(s)")
    clipset = load_clips(index, clip_samples=clip_samples, on_progress=on_progress,
                         should_stop=should_stop)
    keep = limit_clips(clipset, np.arange(len(clipset)), max_clips, seed)
    split = split_by_song(_Subset(clipset, keep), VALID_FRACTION, seed,
                          test_fraction=test_fraction)
    ad = AnalysisData(root=str(data), clipset=clipset, keep=keep, split=split,
                      genres=list(clipset.genres))
    if need_labels and (len(split.train) == 0 or len(split.valid) == 0):
        raise DatasetError(f"{os.path.basename(os.fspath(data))}: too few songs to hold some "
                           f"out ({len(split.train_songs)} train, {len(split.valid_songs)} "
                           "validation songs); a classifier needs at least 3 songs per genre")
    return ad
