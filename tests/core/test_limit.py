"""``max_clips`` means one thing everywhere: whole songs, every genre, never more clips."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.limit import limit_clips, limit_split


@dataclass
class _Clips:
    song_of_clip: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.song_of_clip)


def _clipset(songs_per_genre=5, clips_per_song=4, genres=3) -> _Clips:
    song = np.repeat(np.arange(songs_per_genre * genres), clips_per_song)
    return _Clips(song, song // songs_per_genre)


def test_limit_keeps_whole_songs_of_every_genre_within_the_limit():
    cs = _clipset()
    keep = limit_clips(cs, np.arange(len(cs)), 25, seed=0)
    assert len(keep) <= 25
    songs = np.unique(cs.song_of_clip[keep])
    for s in songs:  # whole songs only
        assert np.isin(np.flatnonzero(cs.song_of_clip == s), keep).all()
    assert set(cs.labels[keep]) == {0, 1, 2}


def test_limit_is_seeded_and_a_tiny_limit_still_returns_clips():
    cs = _clipset()
    a = limit_clips(cs, np.arange(len(cs)), 12, seed=3)
    assert np.array_equal(a, limit_clips(cs, np.arange(len(cs)), 12, seed=3))
    assert len(limit_clips(cs, np.arange(len(cs)), 2, seed=0)) == 2


def test_limit_split_keeps_the_proportions_and_no_song_on_both_sides():
    cs = _clipset()
    train = np.flatnonzero(cs.song_of_clip % 5 != 0)
    valid = np.flatnonzero(cs.song_of_clip % 5 == 0)
    tr, va = limit_split(train, valid, 20, cs, seed=0)
    assert len(tr) + len(va) <= 20 and len(va) >= 1
    assert not set(cs.song_of_clip[tr]) & set(cs.song_of_clip[va])
