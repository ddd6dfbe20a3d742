"""Decoding, resampling, windows, clips and saving (core/audio/io.py) on real synthetic files."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile as sf

from core.audio.io import (
    AudioInfo,
    iter_blocks,
    load_audio,
    peak_normalize,
    probe,
    split_clips,
)
from core.audio.writer import save_audio
from core.constants import CLIP_SAMPLES, SAMPLE_RATE
from core.errors import AudioLoadError, AudioSaveError

pytestmark = pytest.mark.timeout(60)


def tone(freq: float, seconds: float, rate: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


FORMATS = [
    ("wav", "WAV", "PCM_16", 44_100),
    ("flac", "FLAC", "PCM_24", 44_100),
    ("mp3", "MP3", "MPEG_LAYER_III", 44_100),
    ("ogg", "OGG", "VORBIS", 44_100),
    ("opus", "OGG", "OPUS", 48_000),
]


@pytest.mark.parametrize(("suffix", "fmt", "subtype", "rate"), FORMATS,
                         ids=[f[0] for f in FORMATS])
def test_every_format_decodes_to_mono_22050_normalised(tmp_path, suffix, fmt, subtype, rate):
    left, right = tone(440, 1.0, rate), tone(440, 1.0, rate, amp=0.3)
    path = tmp_path / f"song.{suffix}"
    sf.write(path, np.stack([left, right], 1), rate, format=fmt, subtype=subtype)

    x = load_audio(path)

    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(len(x) - SAMPLE_RATE) <= 0.01 * SAMPLE_RATE
    assert np.isfinite(x).all()
    assert np.max(np.abs(x)) == pytest.approx(1.0)
    assert dominant_hz(x, SAMPLE_RATE) == pytest.approx(440, abs=3)


def test_channels_are_averaged_and_rate_kept_when_equal(tmp_path):
    s = tone(300, 0.5, SAMPLE_RATE, amp=0.8)
    path = tmp_path / "left_only.wav"
    sf.write(path, np.stack([s, np.zeros_like(s)], 1), SAMPLE_RATE, subtype="FLOAT")

    x = load_audio(path, normalize=False)

    np.testing.assert_allclose(x, s / 2, atol=1e-7)


def test_opposite_channels_cancel_to_silence_which_stays_silent(tmp_path):
    s = tone(300, 0.5, SAMPLE_RATE)
    path = tmp_path / "phase.wav"
    sf.write(path, np.stack([s, -s], 1), SAMPLE_RATE, subtype="FLOAT")

    x = load_audio(path)

    assert len(x) == len(s)
    assert not np.any(x)


def test_resampling_removes_content_above_the_new_nyquist(tmp_path):
    path = tmp_path / "mix.wav"
    sf.write(path, tone(1000, 1.0, 44_100) + tone(15_000, 1.0, 44_100), 44_100,
             subtype="FLOAT")

    x = load_audio(path, normalize=False)

    # 15 kHz cannot exist at 22 050 Hz: it must be filtered, not folded back to 7 050 Hz.
    spectrum = np.abs(np.fft.rfft(x)) / (len(x) / 2)
    hz = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    assert spectrum[np.argmin(np.abs(hz - 1000))] == pytest.approx(0.5, abs=0.02)
    assert spectrum[np.argmin(np.abs(hz - 7050))] < 1e-3


def test_window_matches_the_same_stretch_of_a_full_decode(tmp_path):
    rng = np.random.default_rng(0)
    noise = (0.3 * rng.standard_normal(10 * SAMPLE_RATE)).astype(np.float32)
    path = tmp_path / "noise.wav"
    sf.write(path, noise, SAMPLE_RATE, subtype="FLOAT")

    window = load_audio(path, normalize=False, offset=3.0, duration=2.0)

    np.testing.assert_array_equal(window, noise[3 * SAMPLE_RATE:5 * SAMPLE_RATE])


def test_mp3_window_seeks_to_the_right_place(tmp_path):
    rate = 44_100
    song = np.concatenate([tone(220, 3.0, rate), tone(880, 3.0, rate)])
    path = tmp_path / "two_notes.mp3"
    sf.write(path, song, rate, format="MP3")

    first = load_audio(path, offset=0.5, duration=2.0)
    second = load_audio(path, offset=3.5, duration=2.0)

    assert abs(len(second) - 2 * SAMPLE_RATE) <= 2
    assert dominant_hz(first, SAMPLE_RATE) == pytest.approx(220, abs=3)
    assert dominant_hz(second, SAMPLE_RATE) == pytest.approx(880, abs=3)


def test_window_at_the_end_is_cut_short_and_past_the_end_is_an_error(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, tone(440, 2.0, SAMPLE_RATE), SAMPLE_RATE)

    tail = load_audio(path, offset=1.5, duration=5.0)

    assert len(tail) == SAMPLE_RATE // 2
    with pytest.raises(AudioLoadError, match=r"short\.wav: offset 3 s is past the end"):
        load_audio(path, offset=3.0, duration=1.0)


def test_iter_blocks_gives_fixed_blocks_that_join_into_the_full_decode(tmp_path):
    path = tmp_path / "song.flac"
    sf.write(path, np.stack([tone(440, 5.3, 44_100)] * 2, 1), 44_100)

    blocks = list(iter_blocks(path, block_seconds=1.0))

    assert [len(b) for b in blocks[:-1]] == [SAMPLE_RATE] * (len(blocks) - 1)
    assert 0 < len(blocks[-1]) <= SAMPLE_RATE
    np.testing.assert_allclose(np.concatenate(blocks), load_audio(path, normalize=False),
                               atol=1e-6)


def test_probe_reads_the_header(tmp_path):
    path = tmp_path / "stereo.flac"
    sf.write(path, np.zeros((48_000, 2), np.float32), 48_000)

    info = probe(path)

    assert info == AudioInfo(path, 48_000, 2, 48_000, 1.0, "FLAC", "PCM_16")


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(AudioLoadError, match=r"^nothere\.mp3: file not found$"):
        load_audio(tmp_path / "nothere.mp3")
    with pytest.raises(AudioLoadError, match="file not found"):
        probe(tmp_path / "nothere.mp3")


def test_a_folder_is_not_a_file(tmp_path):
    (tmp_path / "album.wav").mkdir()
    with pytest.raises(AudioLoadError, match="is a folder"):
        load_audio(tmp_path / "album.wav")


def test_peak_normalize_scales_to_one_and_leaves_silence_and_input_alone():
    x = np.array([0.1, -0.4, 0.2], np.float32)

    y = peak_normalize(x)

    np.testing.assert_allclose(y, [0.25, -1.0, 0.5])
    np.testing.assert_array_equal(x, np.array([0.1, -0.4, 0.2], np.float32))
    assert not np.any(peak_normalize(np.zeros(5)))
    assert peak_normalize(np.ones((2, 3)) * 3).shape == (2, 3)


def test_split_clips_pads_the_tail_with_zeros():
    x = np.arange(1, 2 * CLIP_SAMPLES + 11, dtype=np.float32)

    clips = split_clips(x)

    assert clips.shape == (3, CLIP_SAMPLES) and clips.dtype == np.float32
    np.testing.assert_array_equal(clips.reshape(-1)[: len(x)], x)
    assert not np.any(clips[2, 10:])


def test_split_clips_edge_cases():
    assert split_clips(np.array([0.5]), 4).tolist() == [[0.5, 0, 0, 0]]
    assert split_clips(np.ones(8), 4).shape == (2, 4)
    with pytest.raises(ValueError, match="empty"):
        split_clips(np.zeros(0))


@pytest.mark.parametrize(("name", "subtype", "atol"), [
    ("out.wav", None, 1 / 32_000),
    ("out.wav", "FLOAT", 0.0),
    ("out.flac", "PCM_24", 1e-6),
])
def test_save_audio_round_trips(tmp_path, name, subtype, atol):
    x = tone(440, 0.5, SAMPLE_RATE, amp=0.9)
    path = tmp_path / name

    save_audio(path, x, subtype=subtype)

    back, rate = sf.read(path, dtype="float32")
    assert rate == SAMPLE_RATE
    np.testing.assert_allclose(back, x, atol=atol)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_save_clips_instead_of_wrapping_loud_samples(tmp_path):
    save_audio(tmp_path / "loud.wav", np.array([1.5, -2.0, 0.5], np.float32))

    back, _ = sf.read(tmp_path / "loud.wav", dtype="float32")

    np.testing.assert_allclose(back, [32767 / 32768, -1.0, 0.5], atol=1e-4)


def test_save_rejects_unknown_suffix_and_bad_data_keeping_the_old_file(tmp_path):
    path = tmp_path / "keep.wav"
    save_audio(path, np.full(100, 0.5, np.float32))
    before = path.read_bytes()

    with pytest.raises(AudioSaveError, match=r"song\.mp3: cannot save as '\.mp3'"):
        save_audio(tmp_path / "song.mp3", np.zeros(10))
    with pytest.raises(AudioSaveError, match="keep.wav: refusing to save NaN/Inf"):
        save_audio(path, np.array([0.1, np.nan], np.float32))

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.wav"]


def test_non_ascii_names_save_load_and_appear_in_errors(tmp_path):
    path = tmp_path / "música ñandú 日本語.flac"
    save_audio(path, tone(440, 0.2, SAMPLE_RATE))

    assert len(load_audio(path)) == int(0.2 * SAMPLE_RATE)
    with pytest.raises(AudioLoadError, match="日本語 ghost.wav: file not found"):
        load_audio(tmp_path / "日本語 ghost.wav")


@pytest.mark.parametrize(("suffix", "rate"), [("wav", 44_100), ("flac", 48_000)])
def test_two_decoding_threads_give_the_very_blocks_of_one(tmp_path, suffix, rate):
    # A 70 s stereo file: long enough for its second half to be decoded on its own thread.
    rng = np.random.default_rng(3)
    song = np.concatenate([tone(f, 7.0, rate) for f in rng.uniform(100, 2000, 10)])
    path = tmp_path / f"long.{suffix}"
    sf.write(path, np.stack([song, 0.5 * song[::-1]], 1), rate)

    one = list(iter_blocks(path, block_seconds=10.0))
    two = list(iter_blocks(path, block_seconds=10.0, threads=2))
    names = {t.name for t in threading.enumerate()}

    assert [len(b) for b in two] == [len(b) for b in one]
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)
    assert "celae-decode-half" not in names  # joined, not left running


def test_a_truncated_long_file_fails_the_same_with_two_threads(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, tone(330, 70.0, 22_050), 22_050, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) * 3 // 4])  # the header still promises 70 s

    errors = []
    for threads in (1, 2):
        with pytest.raises(AudioLoadError) as err:
            list(iter_blocks(path, block_seconds=10.0, threads=threads))
        errors.append(str(err.value))

    assert errors[0] == errors[1]
    assert "cut.wav: truncated" in errors[0]
