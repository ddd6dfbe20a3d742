"""Dataset scanning, the clip cache, and splitting by song, on small real files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core.audio.io import load_audio
from core.data import ClipSet, iter_batches, load_clips, scan_dataset, split_by_song
from core.errors import DatasetError
from core.progress import Cancelled

SR = 22_050
CLIP = SR // 2  # half-second clips keep the files tiny


def _tone(path, seconds, freq=220.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = 0.5 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x.astype(np.float32), SR, subtype="PCM_16")
    return path


def _gtzan(root, genres=("blues", "jazz"), per_genre=3, seconds=1.7):
    for g, genre in enumerate(genres):
        for i in range(per_genre):
            _tone(root / genre / f"{genre}.{i:05d}.wav", seconds, 200.0 + 50 * g + 7 * i, i)
    return root


def test_scan_finds_nested_gtzan_layout_and_skips_hidden_files(tmp_path):
    data = tmp_path / "Data"
    _gtzan(data / "genres_original")
    (data / "images_original" / "blues").mkdir(parents=True)
    (data / "images_original" / "blues" / "blues00000.png").write_bytes(b"png")
    _tone(data / "genres_original" / "blues" / "._blues.00000.wav", 0.1)
    (data / "features_30_sec.csv").write_text("x")
    index = scan_dataset(data)
    assert index.layout == "gtzan"
    assert index.root == data / "genres_original"
    assert index.genres == ("blues", "jazz")
    assert [s.song_id for s in index.songs] == [
        "blues.00000", "blues.00001", "blues.00002", "jazz.00000", "jazz.00001", "jazz.00002"]
    assert [s.genre for s in index.songs] == ["blues"] * 3 + ["jazz"] * 3


def test_scan_plain_folder_is_recursive_and_unlabelled(tmp_path):
    _tone(tmp_path / "album" / "b.wav", 0.2)
    _tone(tmp_path / "a.flac", 0.2)
    _tone(tmp_path / ".trash" / "c.wav", 0.2)
    (tmp_path / "notes.txt").write_text("not audio")
    index = scan_dataset(tmp_path)
    assert index.layout == "plain" and index.genres == ()
    assert [s.path.relative_to(tmp_path).as_posix() for s in index.songs] == ["a.flac",
                                                                              "album/b.wav"]
    assert all(s.genre is None for s in index.songs)


def test_scan_folder_without_audio_names_the_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty: no audio"):
        scan_dataset(tmp_path / "empty")
    with pytest.raises(DatasetError, match="no such folder"):
        scan_dataset(tmp_path / "missing")


def test_clips_match_the_audio_and_second_open_uses_the_cache(tmp_path):
    index = scan_dataset(_gtzan(tmp_path / "ds"))
    messages = []
    first = load_clips(index, clip_samples=CLIP, workers=2,
                       on_progress=lambda f, m: messages.append(m))
    # 1.7 s -> 4 half-second clips: the tail (0.2 s of 0.5) is more than half padding, dropped.
    assert len(first) == 6 * 3 and first.clips.dtype == np.int16
    assert first.song_of_clip.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]
    assert first.labels.tolist() == [0] * 9 + [1] * 9
    ref = load_audio(index.songs[4].path)
    assert np.allclose(first.audio(13), ref[CLIP:2 * CLIP], atol=1e-4)
    assert first.float_batch([13, 0]).shape == (2, CLIP)
    assert np.array_equal(first.float_batch([13, 0])[0], first.audio(13))
    assert any("Decoded" in m for m in messages)

    messages.clear()
    second = load_clips(index, clip_samples=CLIP, on_progress=lambda f, m: messages.append(m))
    assert any("from the cache" in m for m in messages)
    assert not any("Decoded" in m for m in messages)
    assert np.array_equal(np.asarray(second.clips), np.asarray(first.clips))
    assert second.song_of_clip.tolist() == first.song_of_clip.tolist()


def test_changed_file_is_decoded_again(tmp_path):
    root = _gtzan(tmp_path / "ds", per_genre=1)
    index = scan_dataset(root)
    before = np.asarray(load_clips(index, clip_samples=CLIP).clips).copy()
    _tone(index.songs[0].path, 1.7, freq=900.0, seed=5)
    after = load_clips(scan_dataset(root), clip_samples=CLIP)
    assert not np.array_equal(np.asarray(after.clips)[:3], before[:3])
    assert np.array_equal(np.asarray(after.clips)[3:], before[3:])
    tag = after.cache_path.name.split("-")[0]  # one tag per dataset folder and settings
    assert len(list(after.cache_path.parent.glob(f"{tag}-*.json"))) == 1  # stale entry removed


def test_short_song_keeps_its_only_clip(tmp_path):
    _tone(tmp_path / "short.wav", 0.1)
    clips = load_clips(scan_dataset(tmp_path), clip_samples=CLIP)
    assert len(clips) == 1 and clips.labels.tolist() == [-1]
    assert np.abs(clips.audio(0)[int(0.1 * SR) + 10:]).max() == 0.0


def test_bad_file_is_reported_and_the_rest_load(tmp_path):
    root = _gtzan(tmp_path / "ds", per_genre=2)
    (root / "jazz" / "jazz.00009.wav").write_bytes(b"RIFF\x00\x00garbage" * 10)
    clips = load_clips(scan_dataset(root), clip_samples=CLIP)
    assert len(clips.songs) == 4 and len(clips) == 12
    assert [e.path.endswith("jazz.00009.wav") for e in clips.errors] == [True]
    assert clips.errors[0].reason
    # The cached entry still tells the user about the bad file.
    assert len(load_clips(scan_dataset(root), clip_samples=CLIP).errors) == 1


def test_nothing_decodable_raises_with_reasons(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"not audio at all")
    (tmp_path / "b.mp3").write_bytes(b"")
    with pytest.raises(DatasetError, match="none of the 2 songs could be decoded.*a.wav"):
        load_clips(scan_dataset(tmp_path), clip_samples=CLIP)


def test_damaged_cache_entry_is_rebuilt(tmp_path):
    index = scan_dataset(_gtzan(tmp_path / "ds", per_genre=1))
    good = load_clips(index, clip_samples=CLIP)
    expected = np.asarray(good.clips).copy()
    path = good.cache_path
    del good
    # What a process killed while writing would leave if the data were not written atomically.
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    again = load_clips(index, clip_samples=CLIP)
    assert np.array_equal(np.asarray(again.clips), expected)


def test_cancel_leaves_no_cache_entry(tmp_path):
    index = scan_dataset(_gtzan(tmp_path / "ds"))
    with pytest.raises(Cancelled):
        load_clips(index, clip_samples=CLIP, workers=1, should_stop=lambda: True)
    messages = []
    load_clips(index, clip_samples=CLIP, on_progress=lambda f, m: messages.append(m))
    assert any("Decoded" in m for m in messages)


def test_split_by_song_keeps_songs_whole_and_is_stratified(tmp_path):
    index = scan_dataset(_gtzan(tmp_path / "ds", genres=("pop", "rock"), per_genre=5,
                                seconds=1.0))
    clips = load_clips(index, clip_samples=CLIP)
    split = split_by_song(clips, valid_fraction=0.4, seed=1)
    assert split.method == "seeded"
    train_songs = set(clips.song_of_clip[split.train])
    valid_songs = set(clips.song_of_clip[split.valid])
    assert not train_songs & valid_songs
    assert len(split.train) + len(split.valid) == len(clips)
    assert sorted(s.genre for s in split.valid_songs) == ["pop", "pop", "rock", "rock"]
    again = split_by_song(clips, valid_fraction=0.4, seed=1)
    assert np.array_equal(again.valid, split.valid)
    others = {tuple(split_by_song(clips, valid_fraction=0.4, seed=s).valid) for s in range(6)}
    assert len(others) > 1


def test_gtzan_names_use_torchaudio_filtered_split(tmp_path):
    from torchaudio.datasets import gtzan

    chosen = {"train": [], "valid": [], "test": []}
    for side, ids in (("train", gtzan.filtered_train), ("valid", gtzan.filtered_valid),
                      ("test", gtzan.filtered_test)):
        for genre in ("blues", "metal"):
            chosen[side] += [i for i in ids if i.startswith(genre)][:2]
    for ids in chosen.values():
        for song_id in ids:
            _tone(tmp_path / song_id.split(".")[0] / f"{song_id}.wav", 0.05)
    index = scan_dataset(tmp_path)
    split = split_by_song(index, valid_fraction=0.5, seed=3)
    assert split.method == "gtzan-filtered"
    assert sorted(s.song_id for s in split.valid_songs) == sorted(chosen["valid"])
    assert sorted(s.song_id for s in split.train_songs) == sorted(chosen["train"] +
                                                                  chosen["test"])
    with_test = split_by_song(index, valid_fraction=0.2, test_fraction=0.2)
    assert sorted(s.song_id for s in with_test.test_songs) == sorted(chosen["test"])


def test_gtzan_names_the_lists_cannot_split_fall_back_to_seeded(tmp_path):
    # blues.00000-00003 are all in torchaudio's validation list: no train songs from the lists.
    _gtzan(tmp_path, genres=("blues",), per_genre=4, seconds=0.05)
    _gtzan(tmp_path, genres=("rock",), per_genre=4, seconds=0.05)
    split = split_by_song(scan_dataset(tmp_path), valid_fraction=0.25, seed=0)
    assert split.method == "seeded"
    assert len(split.train_songs) == 6 and len(split.valid_songs) == 2


def test_iter_batches_covers_each_clip_once_with_crops():
    clips = ClipSet.from_audio(np.random.default_rng(0).uniform(-1, 1, (10, 400)))
    batches = list(iter_batches(clips, np.arange(10), 4, seed=2, crop=100))
    assert [b.shape for b in batches] == [(4, 100), (4, 100), (2, 100)]
    full = np.concatenate(list(iter_batches(clips, np.arange(10), 4, seed=2)))
    assert sorted(map(tuple, full.round(4))) == sorted(map(tuple, clips.float_batch(
        np.arange(10)).round(4)))
    again = list(iter_batches(clips, np.arange(10), 4, seed=2, crop=100))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
