"""The one latent file format (``core.latent.file``) and its bit depths
(``core.latent.quantize``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.latent.file import LatentFile, LatentFileError, ModelRef, load_latent, save_latent
from core.latent.quantize import kbps, quantize, roundtrip


def _latent(n=3, c=4, l=500, seed=0) -> LatentFile:
    z = np.random.default_rng(seed).standard_normal((n, c, l)).astype(np.float32)
    z[:, 1] *= 20  # channels of very different ranges
    return LatentFile(z=z, length=(n - 1) * 900 + 700, window=1000, hop=900, sample_rate=22050,
                      model=ModelRef("m", "CELCodec4", "ab" * 32), edits={"scale": 1.5},
                      source="song.flac")


@pytest.mark.parametrize("bits", [32, 16, 8])
def test_save_load_keeps_layout_and_provenance(tmp_path, bits):
    lf = _latent()
    path = save_latent(tmp_path / "z.celat", lf, bits=bits)
    back = load_latent(path)
    assert (back.length, back.window, back.hop, back.sample_rate) == (2500, 1000, 900, 22050)
    assert back.model == lf.model and back.edits == {"scale": 1.5} and back.bits == bits
    assert back.source == "song.flac" and back.z.dtype == np.float32
    err = np.abs(back.z - lf.z).max(axis=(0, 2))
    if bits == 32:
        assert err.max() == 0
    else:
        # A channel's error is bounded relative to that channel's own range.
        span = lf.z.max(axis=(0, 2)) - lf.z.min(axis=(0, 2))
        assert (err <= span * (1 / 255 if bits == 8 else 1e-3)).all()


def test_eight_bits_cost_one_byte_a_value_plus_a_fixed_header(tmp_path):
    small, big = _latent(n=2), _latent(n=40)
    sizes = []
    for lf in (small, big):
        path = save_latent(tmp_path / f"z{len(lf.z)}.celat", lf, bits=8)
        sizes.append(path.stat().st_size - lf.z.size)
    assert sizes[0] == pytest.approx(sizes[1], abs=8)  # the overhead does not grow
    assert max(sizes) < 2048
    assert big.z.size * 1.01 + 2048 >= big.z.size + sizes[1]


def test_quantize_keeps_a_constant_channel_and_rates_scale_with_bits():
    z = np.ones((1, 2, 10), np.float32)
    assert np.allclose(roundtrip(z, 8), z)
    assert quantize(z, 16).data.dtype == np.float16
    assert kbps(344.5, 32) == pytest.approx(11.024) and kbps(344.5, 8) == pytest.approx(2.756)
    with pytest.raises(ValueError, match="bits must be one of"):
        quantize(z, 4)


@pytest.mark.parametrize("content, reason", [
    (b"", "no safetensors header"),
    (b"\xff" * 64, "no safetensors header"),
    ((8).to_bytes(8, "little") + b'{"a": 1}', "no celae-latent description"),
    ((6).to_bytes(8, "little") + b"[1, 2]", "not a JSON object"),
])
def test_damaged_files_are_named_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "bad.celat"
    path.write_bytes(content)
    with pytest.raises(LatentFileError, match=f"bad.celat: .*{reason}"):
        load_latent(path)


def test_hostile_descriptions_are_refused(tmp_path):
    path = save_latent(tmp_path / "z.celat", _latent())
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    for key, value in (("length", "abc"), ("length", None), ("hop", [1]), ("window", 0),
                       ("length", 10 ** 9)):
        meta = json.loads(header["__metadata__"]["celae"])
        meta[key] = value
        h = dict(header, __metadata__={"celae": json.dumps(meta)})
        text = json.dumps(h).encode()
        bad = tmp_path / f"bad-{key}.celat"
        bad.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n:])
        with pytest.raises(LatentFileError, match=f"bad-{key}.celat"):
            load_latent(bad)


def test_a_directory_or_missing_file_is_named(tmp_path):
    with pytest.raises(LatentFileError, match="missing.celat: file not found"):
        load_latent(tmp_path / "missing.celat")
    (tmp_path / "dir.celat").mkdir()
    with pytest.raises(LatentFileError, match="dir.celat: not a regular file"):
        load_latent(tmp_path / "dir.celat")


def test_eight_bits_lose_at_most_a_decibel_on_the_demo_songs():
    from core.audio.io import load_audio
    from core.audio.metrics import si_sdr
    from core.models.inference import decode_song, encode_song
    from core.models.io import load_model
    from core.paths import demo_songs_dir

    model = load_model().model
    for path in sorted(demo_songs_dir().glob("*.mp3"))[:2]:
        audio = load_audio(path, duration=6.0)
        song = encode_song(model, audio)
        full = si_sdr(audio, decode_song(model, song))
        eight = si_sdr(audio, decode_song(model, song.with_z(roundtrip(song.z, 8))))
        assert full - eight <= 1.0, path.name
