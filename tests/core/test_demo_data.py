"""The synthesised demo dataset: GTZAN layout, reproducible, and genres that really differ."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core.constants import SAMPLE_RATE
from core.data.demo import GENRES, synthesize_song, write_demo_dataset, write_demo_songs
from core.progress import Cancelled


def test_dataset_has_gtzan_layout_and_clean_audio(tmp_path):
    summary = write_demo_dataset(tmp_path / "demo", songs_per_genre=2, seconds=2.0, seed=1)
    folders = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert folders == sorted(GENRES)
    for genre in GENRES:
        names = sorted(p.name for p in (tmp_path / "demo" / genre).iterdir())
        assert names == [f"{genre}.00000.wav", f"{genre}.00001.wav"]
    assert len(summary.files) == 20
    for path in summary.files[::3]:
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.frames) == (SAMPLE_RATE, 1, 2 * SAMPLE_RATE)
        assert info.subtype == "PCM_16"
        x, _ = sf.read(path, dtype="float32")
        assert np.isfinite(x).all()
        assert 0.5 < np.abs(x).max() < 0.95  # loud enough, below 0 dBFS, never clipped


def test_same_seed_same_audio_and_songs_of_a_genre_differ():
    a = synthesize_song("jazz", 2.0, seed=3, index=1)
    assert np.array_equal(a, synthesize_song("jazz", 2.0, seed=3, index=1))
    assert not np.allclose(a, synthesize_song("jazz", 2.0, seed=3, index=2), atol=1e-3)
    assert not np.allclose(a, synthesize_song("jazz", 2.0, seed=4, index=1), atol=1e-3)


def test_written_files_are_identical_for_a_seed(tmp_path):
    one = write_demo_dataset(tmp_path / "a", songs_per_genre=1, seconds=1.0, seed=7)
    two = write_demo_dataset(tmp_path / "b", songs_per_genre=1, seconds=1.0, seed=7)
    for p, q in zip(one.files, two.files, strict=True):
        assert p.read_bytes() == q.read_bytes()


def _features(x: np.ndarray) -> np.ndarray:
    """Band-energy shares of the average spectrum plus rhythm (onset) statistics."""
    frames = np.lib.stride_tricks.sliding_window_view(x, 1024)[::512] * np.hanning(1024)
    mag = np.abs(np.fft.rfft(frames, axis=1))
    edges = np.geomspace(2, mag.shape[1] - 1, 13).astype(int)
    bands = np.stack([mag[:, a:b].sum(1) for a, b in zip(edges[:-1], edges[1:], strict=True)], 1)
    share = np.log(bands.mean(0) / bands.mean(0).sum() + 1e-6)
    flux = np.maximum(np.diff(np.log(bands + 1e-6), axis=0), 0).sum(1)
    return np.concatenate([share, [np.log(flux.mean() + 1e-6), np.log(flux.std() + 1e-6)]])


def test_genres_are_told_apart_by_simple_features():
    songs = [(g, synthesize_song(g, 6.0, seed=0, index=i)) for g in GENRES for i in range(3)]
    feats = np.stack([_features(x) for _, x in songs])
    feats = (feats - feats.mean(0)) / (feats.std(0) + 1e-9)
    labels = np.array([GENRES.index(g) for g, _ in songs])
    dist = ((feats[:, None] - feats[None]) ** 2).sum(-1)
    np.fill_diagonal(dist, np.inf)
    accuracy = (labels[dist.argmin(1)] == labels).mean()
    # Leave-one-out nearest neighbour; chance is 10 %.
    assert accuracy >= 0.6, accuracy
    # Classical has no drums: its onsets are far softer than metal's.
    metal = feats[labels == GENRES.index("metal"), -2].mean()
    classical = feats[labels == GENRES.index("classical"), -2].mean()
    assert metal > classical


@pytest.mark.parametrize("fmt", ["flac", "mp3", "ogg"])
def test_demo_songs_in_each_format_are_readable(tmp_path, fmt):
    paths = write_demo_songs(tmp_path, n=2, seconds=1.5, fmt=fmt)
    assert [p.name for p in paths] == [f"demo_classical.{fmt}", f"demo_metal.{fmt}"]
    for p in paths:
        x, sr = sf.read(p, dtype="float32")
        assert sr == SAMPLE_RATE and x.ndim == 1
        assert abs(len(x) - 1.5 * SAMPLE_RATE) < 0.1 * SAMPLE_RATE
        assert np.isfinite(x).all() and np.abs(x).max() < 1.0


def test_stop_request_cancels_between_songs(tmp_path):
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        write_demo_dataset(tmp_path, songs_per_genre=2, seconds=0.5, should_stop=stop)
    written = sorted(p.name for p in tmp_path.rglob("*.wav"))
    assert written == ["blues.00000.wav", "blues.00001.wav", "classical.00000.wav"]


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="format"):
        write_demo_dataset(tmp_path, fmt="aac")
    with pytest.raises(ValueError, match="genre"):
        synthesize_song("polka", 1.0)
