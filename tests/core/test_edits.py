"""Latent edits: pure, and doing what their names say."""

from __future__ import annotations

import numpy as np
import pytest

from core.latent.edits import (
    EditParams,
    add_noise,
    apply_edits,
    interpolate,
    scale,
    slerp,
    smooth,
)


def _z(seed=0, shape=(3, 1, 500)):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_no_edit_modifies_its_inputs():
    z, other = _z(0), _z(1)
    z_copy, other_copy = z.copy(), other.copy()
    dirs = _z(2, (2, 1, 500))
    params = EditParams(scale=1.5, noise_sigma=0.1, noise_seed=3, smooth_window=5, mix_t=0.3,
                        pc_offsets=(1.0, -0.5))
    results = [scale(z, 2), add_noise(z, 0.5, 1), smooth(z, 9), interpolate(z, other, 0.5),
               slerp(z, other, 0.5), apply_edits(z, params, other, dirs),
               apply_edits(z, EditParams())]
    assert np.array_equal(z, z_copy) and np.array_equal(other, other_copy)
    assert all(r is not z and r.shape == z.shape and r.dtype == np.float32 for r in results)


def test_scale_multiplies():
    z = _z()
    assert np.allclose(scale(z, 1.5), 1.5 * z)
    assert np.allclose(scale(z, 0.5), 0.5 * z)


def test_noise_is_reproducible_and_at_the_asked_level_relative_to_the_latent():
    z = 3.0 * _z(shape=(1, 20_000))
    a, b, c = add_noise(z, 0.2, seed=7), add_noise(z, 0.2, seed=7), add_noise(z, 0.2, seed=8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.std(a - z) == pytest.approx(0.2 * np.sqrt(np.mean(z ** 2)), rel=0.03)
    assert np.array_equal(add_noise(z, 0.0, 1), z)


def test_smooth_keeps_level_and_length_and_removes_fast_wiggles():
    const = np.full((1, 1, 50), 2.5, np.float32)
    assert np.allclose(smooth(const, 7), 2.5)  # no drop at the edges
    z = _z(shape=(1, 1000))
    assert np.array_equal(smooth(z, 1), z)
    smoothed = smooth(z, 8)
    assert smoothed.shape == z.shape
    assert np.std(np.diff(smoothed)) < 0.3 * np.std(np.diff(z))
    assert smoothed[0, 500] == pytest.approx(z[0, 497:505].mean(), abs=1e-5)
    with pytest.raises(ValueError, match="window"):
        smooth(z, 0)


def test_interpolate_and_slerp_start_and_end_at_the_two_latents():
    a, b = _z(0), _z(1)
    for mix in (interpolate, slerp):
        assert np.allclose(mix(a, b, 0.0), a, atol=1e-5)
        assert np.allclose(mix(a, b, 1.0), b, atol=1e-5)
    assert np.allclose(interpolate(a, b, 0.25), 0.75 * a + 0.25 * b)


def test_slerp_keeps_the_norm_where_a_linear_mix_loses_it():
    a = _z(0, (1, 4000))
    b = _z(1, (1, 4000))
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    mid = slerp(a, b, 0.5)
    assert np.linalg.norm(mid) == pytest.approx(np.linalg.norm(a), rel=1e-3)
    assert np.linalg.norm(interpolate(a, b, 0.5)) < 0.8 * np.linalg.norm(a)
    assert np.allclose(slerp(a, a, 0.3), a, atol=1e-5)  # parallel: no division by zero
    with pytest.raises(ValueError, match="same shape"):
        slerp(a, a[:, :10], 0.5)


def test_apply_edits_composes_and_shortcuts_identity():
    z, other = _z(0), _z(1)
    assert EditParams().is_identity and not EditParams(scale=2).is_identity
    assert not EditParams(pc_offsets=(0.0, 1.0)).is_identity
    assert np.array_equal(apply_edits(z, EditParams()), z)
    out = apply_edits(z, EditParams(scale=2.0, mix_t=0.5), other)
    assert np.allclose(out, 2.0 * (0.5 * z + 0.5 * other), atol=1e-5)
    dirs = np.zeros((2, 1, 500), np.float32)
    dirs[1, 0, 0] = 1.0
    moved = apply_edits(z, EditParams(pc_offsets=(0.0, 3.0)), directions=dirs)
    assert moved[:, 0, 0] == pytest.approx(z[:, 0, 0] + 3.0)
    assert np.array_equal(moved[:, 0, 1:], z[:, 0, 1:])
    with pytest.raises(ValueError, match="second latent"):
        apply_edits(z, EditParams(mix_t=0.5))
    with pytest.raises(ValueError, match="directions"):
        apply_edits(z, EditParams(pc_offsets=(1.0,)))
