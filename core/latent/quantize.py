"""A latent at 32, 16 or 8 bits per value: the bitrate axis of every model.

* 32 bits: float32, as the model computes it.
* 16 bits: IEEE float16. Latents of these models stay far inside float16's range, and its 11-bit
  mantissa is relative, so quiet and loud passages keep the same precision.
* 8 bits: per channel, an offset and a scale map the channel's ``[min, max]`` over the whole
  file onto the codes ``0..255`` (a linear grid). Measured on the demo songs with both bundled
  models (``scripts/bench_quantize.py``) it costs 0.02 dB SI-SDR on average, where mu-law
  companding over the same range cost 0.06-0.38 dB: the decoders are not more sensitive near
  zero, so spending the steps there buys nothing. Per channel (not per window or frame) keeps
  the side information at 8 bytes a channel, a fixed few bytes per file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BITS = (32, 16, 8)


@dataclass(frozen=True)
class Quantized:
    """A latent stored at ``bits`` per value.

    Attributes
    ----------
    data : np.ndarray[N, C, L]
        float32, float16 or uint8 codes.
    bits : int
    offset, scale : np.ndarray[C] | None
        For 8 bits: a channel's value is ``offset + scale * code``.
    """

    data: np.ndarray
    bits: int
    offset: np.ndarray | None = None
    scale: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        """Bytes of the values and their side information."""
        side = 0 if self.offset is None else self.offset.nbytes + self.scale.nbytes
        return int(self.data.nbytes) + side


def check_bits(bits: int) -> int:
    """``bits`` as an int, or ValueError naming the choices."""
    if bits not in BITS:
        raise ValueError(f"bits must be one of {', '.join(map(str, BITS))}, not {bits!r}")
    return int(bits)


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """``v[C]`` shaped to broadcast over a latent of ``ndim`` dimensions (channels at -2)."""
    shape = [1] * ndim
    shape[-2] = -1
    return np.asarray(v, dtype=np.float32).reshape(shape)


def quantize(z: np.ndarray, bits: int) -> Quantized:
    """Store ``z[N, C, L]`` (or ``[C, L]``) at ``bits`` per value.

    Raises
    ------
    ValueError
        Unknown ``bits`` or a non-finite latent.
    """
    bits = check_bits(bits)
    z = np.asarray(z, dtype=np.float32)
    if not np.isfinite(z).all():
        raise ValueError("the latent holds NaN or infinite values")
    if bits == 32:
        return Quantized(z, 32)
    if bits == 16:
        return Quantized(z.astype(np.float16), 16)
    axes = tuple(i for i in range(z.ndim) if i != z.ndim - 2)  # all but the channel axis
    lo = z.min(axis=axes).astype(np.float32)
    step = (np.maximum(z.max(axis=axes) - lo, 1e-12) / 255).astype(np.float32)
    codes = np.round((z - _per_channel(lo, z.ndim)) / _per_channel(step, z.ndim))
    return Quantized(np.clip(codes, 0, 255).astype(np.uint8), 8, lo, step)


def dequantize(q: Quantized) -> np.ndarray:
    """The float32 latent a :class:`Quantized` stands for."""
    if q.bits in (32, 16):
        return q.data.astype(np.float32)
    n = q.data.ndim
    return (_per_channel(q.offset, n) + _per_channel(q.scale, n) * q.data).astype(np.float32)


def roundtrip(z: np.ndarray, bits: int) -> np.ndarray:
    """``z`` as a decoder hears it after storing it at ``bits`` per value."""
    return dequantize(quantize(z, bits))


def kbps(floats_per_second: float, bits: int) -> float:
    """Bitrate in kbit/s of a latent of ``floats_per_second`` values stored at ``bits``."""
    return floats_per_second * check_bits(bits) / 1000.0
