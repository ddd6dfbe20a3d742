"""A model's bitrate: how many latent values per second it keeps, and what that costs in kbps at
each bit depth a latent can be stored at (``core.latent.quantize``).

Read from a model's ``config.json`` only, so listing models stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.constants import CLIP_SAMPLES, SAMPLE_RATE

BIT_DEPTHS = (32, 16, 8)
"""The depths a latent is stored at: float32, float16, 8-bit with per-channel scale and offset."""


@dataclass(frozen=True)
class Bitrate:
    """Latent values per second of audio and the kbps at each of :data:`BIT_DEPTHS`.

    Attributes
    ----------
    floats_per_second : float
    kbps : dict[int, float]
        Bit depth to kilobits per second of audio.
    """

    floats_per_second: float
    kbps: dict[int, float]

    def text(self) -> str:
        """``"176.4 / 88.2 / 44.1 kbps at 32/16/8 bits"``."""
        values = " / ".join(f"{self.kbps[b]:.1f}" for b in BIT_DEPTHS)
        return f"{values} kbps at {'/'.join(str(b) for b in BIT_DEPTHS)} bits"

    def as_dict(self) -> dict:
        return {"floats_per_second": self.floats_per_second,
                "kbps": {str(b): v for b, v in self.kbps.items()}}


def bitrate(latent_shape, clip_samples: int = CLIP_SAMPLES,
            sample_rate: int = SAMPLE_RATE) -> Bitrate:
    """The bitrate of a latent of ``latent_shape`` (``(C, L)``) per clip of ``clip_samples``.

    Parameters
    ----------
    latent_shape : sequence of int
        ``(C, L)``, a clip's latent.
    clip_samples, sample_rate : int
        The clip it codes.

    Returns
    -------
    Bitrate
    """
    from core.latent.quantize import kbps

    fps = math.prod(int(d) for d in latent_shape) * sample_rate / clip_samples
    return Bitrate(fps, {b: float(kbps(fps, b)) for b in BIT_DEPTHS})


def model_bitrate(meta: dict) -> Bitrate | None:
    """:func:`bitrate` of a model from its ``config.json``; None when it has no usable latent
    shape (a listing must not fail on one odd folder)."""
    try:
        shape = [int(d) for d in meta.get("latent_shape") or ()]
        clip = int(meta.get("clip_samples", CLIP_SAMPLES))
        rate = int(meta.get("sample_rate", SAMPLE_RATE))
    except (TypeError, ValueError):
        return None
    if not shape or min(shape) < 1 or clip < 1 or rate < 1:
        return None
    return bitrate(shape, clip, rate)


def entry_bitrate(entry) -> Bitrate | None:
    """:func:`model_bitrate` of a ``core.models.io.ModelEntry`` (re-reads its ``config.json``,
    a few hundred bytes); None when it cannot be read."""
    from core.errors import ModelLoadError
    from core.models.io import read_model_meta

    try:
        return model_bitrate(read_model_meta(entry.path))
    except ModelLoadError:
        return None
