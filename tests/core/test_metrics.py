"""Quality figures and the no-learning baseline."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.baseline import pool_interp
from core.audio.metrics import Quality, log_mel_l1, mr_stft_distance, quality, si_sdr, snr

SR = 22_050


def _music(n=22_050, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    x = sum(rng.uniform(0.1, 0.3) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6))
            for f in (110, 220, 440, 1_500, 5_000))
    return x.astype(np.float32)


def _noise_at(x, snr_db, seed=1):
    noise = np.random.default_rng(seed).standard_normal(x.shape)
    noise *= np.sqrt(np.sum(x.astype(np.float64) ** 2) / np.sum(noise ** 2) / 10 ** (snr_db / 10))
    return x + noise


def test_identical_signals_score_perfectly():
    x = _music()
    assert si_sdr(x, x) > 100 and snr(x, x) > 100
    assert log_mel_l1(x, x) == 0 and mr_stft_distance(x, x) == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("db", [0.0, 10.0, 25.0])
def test_noise_at_a_known_snr_measures_that_snr(db):
    x = _music()
    est = _noise_at(x, db)
    assert snr(x, est) == pytest.approx(db, abs=0.1)
    assert si_sdr(x, est) == pytest.approx(db, abs=0.1)


def test_si_sdr_ignores_gain_but_snr_does_not():
    x = _music()
    assert si_sdr(x, 0.5 * x) > 100
    assert snr(x, 0.5 * x) == pytest.approx(6.02, abs=0.01)


def test_silence_gives_infinities_never_nan():
    silent, x = np.zeros(1_000, np.float32), _music(1_000)
    assert si_sdr(silent, silent) == np.inf and snr(silent, silent) == np.inf
    assert si_sdr(silent, x) == -np.inf and snr(silent, x) == -np.inf
    assert si_sdr(x, silent) == -np.inf
    q = quality(np.stack([silent, x]), np.stack([x, _noise_at(x, 10)]))
    assert all(np.isfinite(v) for v in q.as_dict().values())
    assert q.si_sdr == pytest.approx(10, abs=0.1)  # the silent clip is left out


def test_spectral_distances_grow_with_the_damage():
    x = _music()
    mild, bad = _noise_at(x, 30), _noise_at(x, 5)
    assert 0 < log_mel_l1(x, mild, SR) < log_mel_l1(x, bad, SR)
    assert 0 < mr_stft_distance(x, mild) < mr_stft_distance(x, bad)
    # Shorter than the FFTs: still measured.
    assert mr_stft_distance(x[:300], x[:300] * 0.5) > 0
    assert log_mel_l1(x[:10], x[:10] * 0.1) > 0


def test_batched_figures_are_per_clip_and_quality_averages_them():
    x = np.stack([_music(seed=0), _music(seed=1)])
    est = np.stack([_noise_at(x[0], 10), _noise_at(x[1], 20)])
    per_clip = snr(x, est)
    assert per_clip.shape == (2,) and per_clip == pytest.approx([10, 20], abs=0.1)
    assert log_mel_l1(x, est).shape == (2,) and mr_stft_distance(x, est).shape == (2,)
    q = quality(x, est)
    assert isinstance(q, Quality) and q.snr == pytest.approx(15, abs=0.1)
    assert set(q.as_dict()) == {"snr", "si_sdr", "log_mel_l1", "mr_stft"}
    with pytest.raises(ValueError, match="shape"):
        snr(x, est[:, :100])


def test_baseline_keeps_the_length_and_gets_worse_as_fewer_values_are_kept():
    x = np.stack([_music(seed=0), _music(seed=1)])
    x_copy = x.copy()
    scores = []
    for ratio in (2, 4, 10, 3.5):
        y = pool_interp(x, ratio)
        assert y.shape == x.shape and y.dtype == np.float32
        scores.append(si_sdr(x, y).mean())
    assert np.array_equal(x, x_copy)
    assert scores[0] > scores[1] > scores[2]
    assert scores[0] > 8  # the 5 kHz partial, near the halved Nyquist, is what it loses


def test_baseline_reproduces_slow_signals_and_refuses_a_ratio_of_one():
    t = np.arange(4_000) / SR
    slow = np.sin(2 * np.pi * 50 * t).astype(np.float32)
    assert si_sdr(slow, pool_interp(slow, 4)) > 30
    with pytest.raises(ValueError, match="ratio"):
        pool_interp(slow, 1)
