"""What moving along each principal direction does to the audio, measured by decoding.

A principal direction is a direction of the latent space, not of anything a listener names. To
label a slider, a clip's latent is decoded at 0 and at +1 standard deviation along each
direction, and the two decodings are compared: the change of RMS loudness (dB), of the spectral
centroid (Hz, "brightness") and of the mean (DC offset). The labels hold for the clip measured;
on other music a direction can do something else, so the GUI says which clip it measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.constants import SAMPLE_RATE
from core.latent.pca import LatentPCA, directions
from core.models.base import Autoencoder
from core.models.inference import decode

LOUDNESS_DB = 0.5
"""Smallest RMS change, in dB, that a label names."""
BRIGHTNESS_HZ = 50.0
"""Smallest spectral-centroid change, in Hz, that a label names."""
DC_LIMIT = 0.05
"""Smallest change of the mean (full scale 1) that a label names."""


@dataclass(frozen=True)
class DirectionEffect:
    """Change of the decoded audio at +1 standard deviation along one direction."""

    loudness_db: float
    centroid_hz: float
    dc: float

    def label(self) -> str:
        """A few words: "louder +2.1 dB, brighter +340 Hz", or "subtle" when nothing measured
        passes the thresholds."""
        parts = []
        if abs(self.loudness_db) >= LOUDNESS_DB:
            parts.append(f"{'louder' if self.loudness_db > 0 else 'quieter'} "
                         f"{self.loudness_db:+.1f} dB")
        if abs(self.centroid_hz) >= BRIGHTNESS_HZ:
            parts.append(f"{'brighter' if self.centroid_hz > 0 else 'darker'} "
                         f"{self.centroid_hz:+.0f} Hz")
        if abs(self.dc) >= DC_LIMIT:
            parts.append(f"DC {self.dc:+.2f}")
        return ", ".join(parts) or "subtle"


def rms_db(x: np.ndarray) -> float:
    """RMS level of ``x`` (mean removed) in dB full scale."""
    x = np.asarray(x, dtype=np.float64)
    return float(20 * np.log10(np.sqrt(np.mean((x - x.mean()) ** 2)) + 1e-9))


def spectral_centroid(x: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """Power-weighted mean frequency of ``x`` in Hz (0 for silence)."""
    x = np.asarray(x, dtype=np.float64)
    power = np.abs(np.fft.rfft(x - x.mean())) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / sample_rate)
    total = power.sum()
    return float((power * freqs).sum() / total) if total > 0 else 0.0


def direction_effects(model: Autoencoder, pca: LatentPCA, z: np.ndarray, k: int,
                      sample_rate: int = SAMPLE_RATE) -> list[DirectionEffect]:
    """Effects of +1 std along each of the first ``k`` directions on the latent ``z[C, L]``.

    Parameters
    ----------
    model : Autoencoder
    pca : LatentPCA
    z : np.ndarray[C, L]
        One clip's latent (the clip the labels describe).
    k : int
        Directions to measure (at most ``pca.n_components``).

    Returns
    -------
    list of DirectionEffect
        One per direction, strongest first.
    """
    z = np.asarray(z, dtype=np.float32)
    k = min(int(k), pca.n_components)
    dirs = directions(pca, z.shape, k)
    batch = np.concatenate([z[None], z[None] + dirs], axis=0)
    audio = decode(model, batch)
    base = audio[0]
    base_rms, base_centroid, base_mean = rms_db(base), spectral_centroid(base, sample_rate), \
        float(base.mean())
    return [DirectionEffect(loudness_db=rms_db(a) - base_rms,
                            centroid_hz=spectral_centroid(a, sample_rate) - base_centroid,
                            dc=float(a.mean()) - base_mean) for a in audio[1:]]
