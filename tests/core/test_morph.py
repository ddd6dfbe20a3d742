"""Morphing: the path starts at one song and ends at the other, slerp keeps the energy that a
linear mix loses, and the exported sequence is one file of the expected length."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core.latent.morph import export_morph, morph, morph_latents, render_morph_sequence
from core.models import build_model
from core.models.inference import reconstruct

SR = 22050
T = 4096


def _model():
    return build_model("CELCodec4", channels=(4, 4), stem_channels=4, res_units=1,
                       clip_samples=T)


def _tone(freq: float, n: int = T) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / SR)).astype(np.float32)


def test_the_morph_runs_from_the_first_song_to_the_second():
    model = _model()
    a, b = _tone(220), _tone(660)
    seen = []
    steps = morph(model, a, b, 5, "linear", on_progress=lambda f, m: seen.append(f))
    assert len(steps) == 5 and all(s.shape == (T,) for s in steps)
    ends = reconstruct(model, np.stack([a, b]))
    np.testing.assert_allclose(steps[0], ends[0], atol=1e-5)
    np.testing.assert_allclose(steps[-1], ends[1], atol=1e-5)
    assert not np.allclose(steps[2], steps[0], atol=1e-3)
    assert seen[-1] == 1.0
    # Different lengths: both are cut to the shorter.
    assert morph(model, a, _tone(660, T + 500), 2, "slerp")[0].shape == (T,)


def test_slerp_keeps_the_latent_energy_where_a_linear_mix_drops_it():
    rng = np.random.default_rng(0)
    za = rng.standard_normal((8, 20)).astype(np.float32)
    zb = -za + 0.1 * rng.standard_normal((8, 20)).astype(np.float32)
    lin, sph = morph_latents(za, zb, 3, "linear"), morph_latents(za, zb, 3, "slerp")
    np.testing.assert_array_equal(lin[0], za)
    np.testing.assert_allclose(sph[-1], zb, atol=1e-5)
    norm = np.linalg.norm(za)
    assert np.linalg.norm(lin[1]) < 0.2 * norm
    assert np.linalg.norm(sph[1]) > 0.9 * norm


def test_bad_requests_are_refused():
    z = np.zeros((8, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="at least 2 steps"):
        morph_latents(z, z, 1)
    with pytest.raises(ValueError, match="mode"):
        morph_latents(z, z, 3, "cubic")
    with pytest.raises(ValueError, match="crossfade"):
        render_morph_sequence([_tone(100)], crossfade=-1)


def test_sequence_is_joined_with_crossfades_and_exported(tmp_path):
    parts = [_tone(f, SR) for f in (220, 330, 440)]
    out = render_morph_sequence(parts, crossfade=0.25, sample_rate=SR)
    fade = round(0.25 * SR)
    assert out.shape == (3 * SR - 2 * fade,)
    np.testing.assert_array_equal(out[: SR - fade], parts[0][: SR - fade])
    np.testing.assert_array_equal(out[-(SR - fade):], parts[2][fade:])
    hard = render_morph_sequence(parts, crossfade=0.0, sample_rate=SR)
    assert hard.shape == (3 * SR,)

    path = tmp_path / "morph.wav"
    written = export_morph(path, parts, crossfade=0.25, sample_rate=SR)
    data, rate = sf.read(path, dtype="float32")
    assert rate == SR and data.shape == written.shape
    np.testing.assert_allclose(data, written, atol=1 / 16384)
