"""Features for the baselines and for clustering: log-mel, MFCC statistics, latent statistics."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.features import (
    latent_flat,
    latent_stats,
    latent_stats_dim,
    log_mel,
    mfcc_stats,
)
from core.constants import SAMPLE_RATE


def _tone(freq: float, n: int = 8192) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_log_mel_puts_a_higher_tone_in_a_higher_band():
    mel = log_mel(np.stack([_tone(500), _tone(5000)]))
    assert mel.shape == (2, 64, 8192 // 512 + 1)
    low_band, high_band = (int(m.mean(-1).argmax()) for m in mel)
    assert high_band > low_band + 10


def test_mfcc_stats_separate_different_sounds_and_accept_int16():
    x = np.stack([_tone(300), _tone(3000)])
    feats = mfcc_stats(x)
    assert feats.shape == (2, 80)
    assert np.all(np.isfinite(feats))
    assert np.abs(feats[0] - feats[1]).max() > 1.0
    pcm = (x * 32767).astype(np.int16)
    np.testing.assert_allclose(mfcc_stats(pcm), mfcc_stats(pcm / np.float32(32768)), atol=1e-4)


def test_latent_stats_see_where_the_energy_of_a_latent_is():
    n = 4096
    slow = np.sin(2 * np.pi * 0.01 * np.arange(n))
    fast = np.sin(2 * np.pi * 0.4 * np.arange(n))
    z = np.stack([slow, fast])[:, None, :].astype(np.float32)  # [N=2, C=1, L]
    feats = latent_stats(z, n_bands=16)
    assert feats.shape == (2, latent_stats_dim(1, 16))
    band_means = feats[:, 3:3 + 16]
    assert band_means[0].argmax() < band_means[1].argmax()


def test_latent_stats_of_a_short_multichannel_latent_are_finite():
    z = np.random.default_rng(0).standard_normal((3, 8, 10)).astype(np.float32)
    feats = latent_stats(z)
    assert feats.shape == (3, latent_stats_dim(8))
    assert np.all(np.isfinite(feats))
    np.testing.assert_allclose(feats[:, :8], z.mean(-1), atol=1e-5)


def test_latent_flat_is_the_reports_feature():
    z = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert latent_flat(z).shape == (2, 12)
    assert latent_flat(z)[1, 0] == 12


def test_clips_of_wrong_rank_are_refused():
    with pytest.raises(ValueError):
        mfcc_stats(np.zeros((2, 2, 100), dtype=np.float32))
