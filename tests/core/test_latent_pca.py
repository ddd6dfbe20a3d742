"""Latent PCA: finds the directions the latents vary along, reports how many components carry
80/90/95/99 % of the variance, moves a latent by whole standard deviations, and is kept beside
the model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import ModelLoadError
from core.latent.edits import EditParams, apply_edits
from core.latent.pca import (
    PCA_FILE,
    apply_pc_offsets,
    directions,
    fit_latent_pca,
    fit_pca_from_latents,
    load_latent_pca,
    project,
    save_latent_pca,
)
from core.models import build_model
from core.models.io import save_model


def _latents(n: int = 40, C: int = 8, L: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Latents whose frames vary mostly along two known unit directions (std 3 and 1)."""
    rng = np.random.default_rng(seed)
    axes = np.linalg.qr(rng.standard_normal((C, C)))[0][:, :2].T  # [2, C], orthonormal
    coef = rng.standard_normal((n, L, 2)) * np.array([3.0, 1.0])
    z = coef @ axes + 0.05 * rng.standard_normal((n, L, C)) + 0.5
    return z.transpose(0, 2, 1).astype(np.float32), axes


def test_finds_the_dominant_directions_and_the_variance_thresholds():
    z, axes = _latents()
    pca = fit_pca_from_latents([z[:20], z[20:]])
    assert pca.channels == 8 and pca.frames_per_vector == 1 and pca.n_frames == 40 * 50
    assert abs(np.dot(pca.components[0], axes[0])) > 0.99
    assert abs(np.dot(pca.components[1], axes[1])) > 0.99
    assert pca.std[0] == pytest.approx(3.0, rel=0.05)
    assert pca.explained_variance_ratio.sum() == pytest.approx(1.0)
    assert pca.thresholds["80"] == 1 and pca.thresholds["95"] == 2
    counts = [pca.thresholds[k] for k in ("80", "90", "95", "99")]
    assert counts == sorted(counts) and counts[-1] <= 8


def test_an_offset_moves_the_latent_by_that_many_standard_deviations():
    z, _ = _latents()
    pca = fit_pca_from_latents([z])
    moved = apply_pc_offsets(z[:3], pca, [2.0, -1.0])
    before, after = project(pca, z[:3], k=3), project(pca, moved, k=3)
    np.testing.assert_allclose(after - before, [[2.0, -1.0, 0.0]] * 3, atol=1e-3)
    np.testing.assert_array_equal(apply_pc_offsets(z[0], pca, [0.0] * 8), z[0])
    with pytest.raises(ValueError, match="offsets"):
        apply_pc_offsets(z[0], pca, [1.0] * 9)


def test_directions_plug_into_the_edit_pipeline():
    z, _ = _latents()
    pca = fit_pca_from_latents([z])
    dirs = directions(pca, z.shape[1:], k=8)
    assert dirs.shape == (8, 8, 50)
    edited = apply_edits(z[0], EditParams(pc_offsets=(1.5, 0.0, -0.5)), directions=dirs)
    np.testing.assert_allclose(edited, apply_pc_offsets(z[0], pca, [1.5, 0.0, -0.5]), atol=1e-5)


def test_single_channel_latents_get_nine_step_blocks_and_any_length_works():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((10, 1, 103)).astype(np.float32)
    pca = fit_pca_from_latents([z])
    # Nine steps less the block mean leave eight directions.
    assert pca.frames_per_vector == 9 and pca.n_components == 8
    moved = apply_pc_offsets(z[0], pca, [1.0])
    assert moved.shape == (1, 103)
    step = (moved - z[0])[0]
    np.testing.assert_allclose(step[:9], step[9:18], atol=1e-6)  # the same move in every block


def test_no_direction_shifts_a_whole_latent_channel():
    """A latent channel's offset decodes to a DC thump, not music: with clips whose latent
    levels differ a lot, the strongest direction used to be that offset."""
    rng = np.random.default_rng(2)
    z = (0.3 * rng.standard_normal((30, 1, 90)) + 3.0 * rng.standard_normal((30, 1, 1)))
    pca = fit_pca_from_latents([z.astype(np.float32)])
    dirs = directions(pca, (1, 90))
    # Every direction averages to ~0 over time: none moves the channel's level.
    assert np.abs(dirs.mean(-1)).max() < 0.05 * np.abs(dirs).max()
    assert pca.n_components == 8


def test_a_stored_pca_with_a_dc_direction_loses_it_on_load(tmp_path):
    model = build_model("CELAutoencoderSiLU", clip_samples=2048)
    save_model(model, tmp_path / "m")
    g = 9
    dc = np.full(g, 1 / np.sqrt(g), np.float32)
    other = np.linalg.qr(np.column_stack([dc, np.eye(g)[:, :g - 1]]))[0][:, 1:].T
    comps = np.vstack([dc, other]).astype(np.float32)
    from core.latent.pca import LatentPCA

    old = LatentPCA(components=comps, mean=np.zeros(g, np.float32),
                    std=np.linspace(3, 1, g).astype(np.float32),
                    explained_variance_ratio=np.full(g, 1 / g), channels=1, frames_per_vector=g)
    save_latent_pca(old, tmp_path / "m")
    loaded = load_latent_pca(tmp_path / "m")
    assert loaded.n_components == g - 1
    assert np.abs(loaded.components @ dc).max() < 1e-5
    assert loaded.explained_variance_ratio.sum() == pytest.approx(1.0)


def test_stored_beside_a_model_and_read_back(tmp_path):
    model = build_model("CELCodec64", strides=(8, 4, 4, 4), channels=(4, 4, 4, 4),
                        latent_channels=8, stem_channels=4, res_units=1, clip_samples=4096)
    folder = tmp_path / "m"
    save_model(model, folder)
    assert load_latent_pca(folder) is None
    t = np.arange(4096) / 22050
    clips = np.stack([0.4 * np.sin(2 * np.pi * f * t) for f in (110, 220, 330, 550, 880)])
    pca = fit_latent_pca(model, clips.astype(np.float32), batch_size=2)
    assert pca.channels == 8 and pca.components.shape == (8, 8)
    save_latent_pca(pca, folder)
    back = load_latent_pca(folder)
    np.testing.assert_array_equal(back.components, pca.components)
    np.testing.assert_array_equal(back.std, pca.std)
    assert back.thresholds == pca.thresholds
    meta = json.loads((folder / PCA_FILE).with_suffix(".json").read_text())["meta"]
    assert meta["components_for"] == pca.thresholds
    assert len(meta["explained_variance_ratio"]) == 8

    retrained = build_model("CELCodec64", strides=(8, 4, 4, 4), channels=(4, 4, 4, 4),
                            latent_channels=8, stem_channels=4, res_units=1,
                            clip_samples=4096)
    save_model(retrained, tmp_path / "other")
    (tmp_path / "other" / PCA_FILE).write_bytes((folder / PCA_FILE).read_bytes())
    (tmp_path / "other" / "latent_pca.json").write_bytes((folder / "latent_pca.json").read_bytes())
    assert load_latent_pca(tmp_path / "other") is None  # fitted for other weights

    data = bytearray((folder / PCA_FILE).read_bytes())
    data[-1] ^= 0xFF
    (folder / PCA_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=PCA_FILE):
        load_latent_pca(folder)
