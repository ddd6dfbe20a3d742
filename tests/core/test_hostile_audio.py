"""A corpus of hostile and odd audio files, generated here: each one must either raise
AudioLoadError naming the file with a sensible reason, or (valid but odd files) load as the right
audio. Never another exception type, never a hang."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.audio.io import AudioInfo, iter_blocks, load_audio, probe
from core.constants import SAMPLE_RATE
from core.errors import AudioLoadError
from tests.core.child_memory import PEAK_KIB

REPO = Path(__file__).resolve().parents[2]


def wav_bytes(samples: np.ndarray | None = None, *, channels: int = 1, rate: int = 8000,
              float32: bool = False, riff_size: int | None = None,
              data_size: int | None = None) -> bytes:
    """A WAV file built by hand so every header field can lie. ``samples`` is [T] or [T, C]."""
    if samples is None:
        samples = 0.5 * np.sin(np.arange(400 * max(channels, 1)) / 5).reshape(400, -1)
    if float32:
        data, bits, tag = np.asarray(samples, "<f4").tobytes(), 32, 3
    else:
        data, bits, tag = (np.asarray(samples) * 32767).astype("<i2").tobytes(), 16, 1
    align = max(channels, 1) * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, (rate * align) & 0xFFFFFFFF, align, bits)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
            + struct.pack("<I", len(data) if data_size is None else data_size) + data)
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def id3_tag(payload: int = 32) -> bytes:
    """An ID3v2.4 tag with ``payload`` bytes of padding (syncsafe size)."""
    size = bytes([(payload >> 21) & 0x7F, (payload >> 14) & 0x7F, (payload >> 7) & 0x7F,
                  payload & 0x7F])
    return b"ID3\x04\x00\x00" + size + b"\x00" * payload


@pytest.fixture(scope="module")
def mp3(tmp_path_factory) -> bytes:
    """A valid 1 s 44.1 kHz stereo MP3 (libsndfile writes a Xing/Info header)."""
    path = tmp_path_factory.mktemp("mp3") / "seed.mp3"
    t = np.arange(44_100) / 44_100
    sf.write(path, np.stack([np.sin(2 * np.pi * 440 * t)] * 2, 1) * 0.5, 44_100, format="MP3")
    return path.read_bytes()


# (id, file name, builder(mp3 bytes) -> file bytes, expected words in the reason)
BROKEN = [
    ("empty", "empty.wav", lambda m: b"", "empty file (0 bytes)"),
    ("one-byte", "one.mp3", lambda m: b"\xff", "too short to contain audio (1 byte)"),
    ("mp3-cut-in-header", "cut.mp3", lambda m: m[:20],
     "truncated: the file ends inside the first MPEG audio frame"),
    ("mp3-cut-mid-frame", "half.mp3", lambda m: m[: len(m) // 2 + 7],
     "truncated: header promises 44100 frames, only"),
    ("mp3-cut-in-id3", "tagcut.mp3", lambda m: (id3_tag(500) + m)[:200],
     "truncated: the file ends inside its ID3 tag"),
    ("wav-cut-in-header", "cut.wav", lambda m: wav_bytes()[:30],
     "truncated: the WAV header is cut short"),
    ("wav-cut-before-data", "nodata.wav", lambda m: wav_bytes()[:40],
     "truncated: the file ends before the WAV 'data' chunk"),
    ("wav-cut-mid-frame", "midframe.wav", lambda m: wav_bytes(channels=2)[:44 + 1001],
     "truncated: header promises 400 frames, only 250 could be decoded"),
    ("wav-data-longer-than-file", "liar.wav", lambda m: wav_bytes(data_size=80_000),
     "truncated: header promises 40000 frames, only 400"),
    ("text-as-mp3", "notes.mp3", lambda m: b"Dear diary,\nthis is not music.\n" * 20,
     "not an audio file (looks like text)"),
    ("binary-junk", "junk.flac", lambda m: bytes(range(7, 256)) * 8,
     "not an audio file (unrecognised format)"),
    ("rate-0", "rate0.wav", lambda m: wav_bytes(rate=0), "invalid sample rate"),
    ("rate-1", "rate1.wav", lambda m: wav_bytes(rate=1), "invalid sample rate"),
    ("rate-2^31-1", "ratemax.wav", lambda m: wav_bytes(rate=2**31 - 1), "invalid sample rate"),
    ("0-channels", "nochan.wav", lambda m: wav_bytes(np.zeros(0), channels=0), "no channels"),
    ("nan", "nan.wav", lambda m: wav_bytes(np.array([0.1, np.nan, 0.2]), float32=True),
     "contains NaN/Inf samples"),
    ("inf", "inf.wav", lambda m: wav_bytes(np.array([0.1, 0.2, -np.inf]), float32=True),
     "contains NaN/Inf samples"),
    ("huge-floats", "huge.wav", lambda m: wav_bytes(np.full(64, 3e38), float32=True),
     "damaged float data"),
    ("0-frames", "silent.wav", lambda m: wav_bytes(np.zeros(0)), "too short to contain audio"),
    ("unfinalised", "crashed.wav", lambda m: wav_bytes(data_size=0),
     "too short to contain audio (the WAV 'data' chunk says 0 bytes"),
    ("id3-only", "tag.mp3", lambda m: id3_tag(), "the file holds only an ID3 tag"),
    ("id3-then-junk", "tagjunk.mp3", lambda m: id3_tag() + b"\x00\x11" * 300,
     "an ID3 tag followed by no MPEG audio frames"),
    ("non-ascii-name", "ñandú 日本語 🎵.mp3", lambda m: b"plain text\n" * 10,
     "not an audio file (looks like text)"),
]


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("name", "build", "reason"), [c[1:] for c in BROKEN],
                         ids=[c[0] for c in BROKEN])
def test_broken_files_raise_audio_load_error_naming_file_and_reason(tmp_path, mp3, name,
                                                                    build, reason):
    path = tmp_path / name
    path.write_bytes(build(mp3))

    with pytest.raises(AudioLoadError) as caught:
        load_audio(path)

    err = caught.value
    assert str(err) == f"{name}: {err.reason}"
    assert err.path == os.fspath(path)
    assert reason in err.reason
    with pytest.raises(AudioLoadError):
        list(iter_blocks(path))
    try:
        assert isinstance(probe(path), AudioInfo)  # a header can be fine while the data is not
    except AudioLoadError as probe_err:
        assert name in str(probe_err)


@pytest.mark.timeout(20)
def test_nine_channels_are_averaged(tmp_path):
    samples = np.zeros((500, 9))
    samples[:, 0] = 0.9 * np.sin(np.arange(500) / 7)
    path = tmp_path / "nine.wav"
    path.write_bytes(wav_bytes(samples, channels=9, rate=SAMPLE_RATE, float32=True))

    x = load_audio(path, normalize=False)

    np.testing.assert_allclose(x, samples[:, 0] / 9, atol=1e-6)


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("rate", "expected_len"), [(SAMPLE_RATE, 1), (8000, 3), (48_000, 1)])
def test_a_one_sample_file_is_one_short_signal(tmp_path, rate, expected_len):
    path = tmp_path / "blip.wav"
    path.write_bytes(wav_bytes(np.array([-0.25]), rate=rate, float32=True))

    x = load_audio(path)

    assert len(x) == expected_len and np.isfinite(x).all()
    assert np.max(np.abs(x)) == pytest.approx(1.0)


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("riff_size", "data_size"), [
    (0xFFFFFFFF, None), (None, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF)])
def test_streamed_wav_sizes_with_real_samples_load(tmp_path, riff_size, data_size):
    samples = 0.5 * np.sin(np.arange(800) / 3)
    path = tmp_path / "streamed.wav"
    path.write_bytes(wav_bytes(samples, rate=SAMPLE_RATE, float32=True, riff_size=riff_size,
                               data_size=data_size))

    x = load_audio(path, normalize=False)

    np.testing.assert_allclose(x, samples, atol=1e-7)


@pytest.mark.timeout(20)
def test_mp3_bytes_named_wav_or_behind_an_id3_tag_load_as_the_music(tmp_path, mp3):
    (tmp_path / "song.mp3").write_bytes(mp3)
    (tmp_path / "misnamed.wav").write_bytes(mp3)
    (tmp_path / "tagged.mp3").write_bytes(id3_tag(1000) + mp3)

    reference = load_audio(tmp_path / "song.mp3")

    assert abs(len(reference) - SAMPLE_RATE) <= 2
    np.testing.assert_array_equal(load_audio(tmp_path / "misnamed.wav"), reference)
    np.testing.assert_array_equal(load_audio(tmp_path / "tagged.mp3"), reference)


_HOUR_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from core.audio.io import load_audio
    x = load_audio(sys.argv[1])
    window = load_audio(sys.argv[1], offset=2999.0, duration=3.0)
    print(len(x), int(np.argmax(np.abs(x))), len(window), int(np.argmax(np.abs(window))),
          PEAK_KIB)
""").replace("PEAK_KIB", PEAK_KIB)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_hour_long_file_loads_in_bounded_memory(tmp_path):
    rate = 8000
    path = tmp_path / "hour.wav"
    marker = (0.8 * np.sin(np.arange(rate) / 2)).astype(np.float32)
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as out:
        quiet = np.full(60 * rate, 0.01, np.float32)
        for minute in range(60):
            block = quiet.copy()
            if minute == 50:  # a loud second at 3000 s, to check positions
                block[:rate] = marker
            out.write(block)

    done = subprocess.run([sys.executable, "-c", _HOUR_CHILD, str(path)], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=110)

    assert done.returncode == 0, done.stderr
    length, peak_at, window_len, window_peak_at, peak_kb = map(int, done.stdout.split())
    assert length == 3600 * SAMPLE_RATE
    assert 3000 * SAMPLE_RATE <= peak_at < 3001 * SAMPLE_RATE
    assert window_len == 3 * SAMPLE_RATE
    assert SAMPLE_RATE <= window_peak_at < 2 * SAMPLE_RATE
    # The child's own peak RSS (tests/core/child_memory.py); RUSAGE_CHILDREN would count every
    # other subprocess too.
    assert peak_kb < 1.5 * 1024 * 1024, f"peak RSS {peak_kb / 1024:.0f} MiB"
