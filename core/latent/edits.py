"""Latent edits (the report's section 7): scale, noise, smoothing, mixing two latents.

Every function is pure: it returns a new float32 array and never modifies its inputs. Latents
are ``[C, L]`` for one clip or ``[N, C, L]`` for several; every edit works along the last axis
(``L``) and treats leading axes independently unless said otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _as_float(z: np.ndarray) -> np.ndarray:
    return np.array(z, dtype=np.float32, copy=True)


def scale(z: np.ndarray, factor: float) -> np.ndarray:
    """Multiply the latent by ``factor`` (the report's x1.5 "amplified", x0.5 "attenuated").

    Parameters
    ----------
    z : np.ndarray[..., L]
    factor : float

    Returns
    -------
    np.ndarray[..., L]
    """
    return _as_float(z) * np.float32(factor)


def add_noise(z: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian noise whose standard deviation is ``sigma`` times the latent's RMS.

    Relative to the RMS so that one slider means the same thing for every model, whatever the
    scale of its latent. The same ``seed`` gives the same noise.

    Parameters
    ----------
    z : np.ndarray[..., L]
    sigma : float
        Noise level as a fraction of the RMS of the whole ``z`` (0 returns a copy).
    seed : int

    Returns
    -------
    np.ndarray[..., L]
    """
    out = _as_float(z)
    if sigma == 0 or out.size == 0:
        return out
    if sigma < 0:
        raise ValueError(f"noise sigma must be >= 0, not {sigma}")
    rms = float(np.sqrt(np.mean(np.square(out, dtype=np.float64))))
    noise = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    return out + np.float32(sigma * rms) * noise


def smooth(z: np.ndarray, window: int) -> np.ndarray:
    """Moving average of ``window`` steps along ``L`` (the report's pooling "flatter sound").

    The output keeps the length (centred window, "same"). Near the edges the average is taken
    over the steps that exist, so a constant latent stays constant (no level drop at the ends).

    Parameters
    ----------
    z : np.ndarray[..., L]
    window : int
        Width in latent steps, >= 1; 1 returns a copy.

    Returns
    -------
    np.ndarray[..., L]
    """
    if int(window) != window or window < 1:
        raise ValueError(f"smoothing window must be an integer >= 1, not {window}")
    out = _as_float(z)
    window = int(window)
    L = out.shape[-1]
    if window == 1 or L == 0:
        return out
    left = (window - 1) // 2
    right = window - 1 - left
    csum = np.zeros(out.shape[:-1] + (L + 1,), dtype=np.float64)
    np.cumsum(out, axis=-1, dtype=np.float64, out=csum[..., 1:])
    # Step i averages [i - left, i + right] clipped to the latent, hence the varying count.
    idx = np.arange(L)
    lo = np.clip(idx - left, 0, L)
    hi = np.clip(idx + right + 1, 0, L)
    sums = csum[..., hi] - csum[..., lo]
    return (sums / (hi - lo)).astype(np.float32)


def interpolate(z1: np.ndarray, z2: np.ndarray, t: float) -> np.ndarray:
    """Linear mix ``(1 - t) * z1 + t * z2`` (t = 0 gives ``z1``, t = 1 gives ``z2``).

    Parameters
    ----------
    z1, z2 : np.ndarray[..., L]
        Same shape.
    t : float

    Returns
    -------
    np.ndarray[..., L]
    """
    a, b = _as_float(z1), _as_float(z2)
    _check_same_shape(a, b)
    return (1 - np.float32(t)) * a + np.float32(t) * b


def slerp(z1: np.ndarray, z2: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between ``z1`` and ``z2``, each clip's latent seen as one vector.

    Follows the great circle between the two vectors, which keeps the norm steadier than a
    linear mix halfway between dissimilar latents. Nearly parallel latents fall back to the
    linear mix.

    Parameters
    ----------
    z1, z2 : np.ndarray[C, L] or np.ndarray[N, C, L]
        Same shape; with ``N`` each clip is interpolated separately.
    t : float

    Returns
    -------
    np.ndarray, same shape
    """
    a, b = _as_float(z1), _as_float(z2)
    _check_same_shape(a, b)
    batched = a.ndim == 3
    fa = a.reshape(a.shape[0], -1) if batched else a.reshape(1, -1)
    fb = b.reshape(b.shape[0], -1) if batched else b.reshape(1, -1)
    fa64, fb64 = fa.astype(np.float64), fb.astype(np.float64)
    na, nb = np.linalg.norm(fa64, axis=1), np.linalg.norm(fb64, axis=1)
    out = np.empty_like(fa64)
    for i in range(fa64.shape[0]):
        if na[i] == 0 or nb[i] == 0:
            out[i] = (1 - t) * fa64[i] + t * fb64[i]
            continue
        cos = float(np.clip(np.dot(fa64[i], fb64[i]) / (na[i] * nb[i]), -1.0, 1.0))
        omega = math.acos(cos)
        if math.sin(omega) < 1e-6:
            out[i] = (1 - t) * fa64[i] + t * fb64[i]
        else:
            s = math.sin(omega)
            out[i] = (math.sin((1 - t) * omega) / s) * fa64[i] + (math.sin(t * omega) / s) * fb64[i]
    return out.reshape(a.shape).astype(np.float32)


def _check_same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"latents to mix must have the same shape, got {a.shape} and {b.shape}")


@dataclass(frozen=True)
class EditParams:
    """A set of edits, applied by :func:`apply_edits` in the order mix, principal directions,
    scale, smooth, noise.

    Attributes
    ----------
    scale : float
        Factor for :func:`scale`.
    noise_sigma : float
        Level for :func:`add_noise` (fraction of the latent's RMS).
    noise_seed : int
        Seed for the noise.
    smooth_window : int
        Window for :func:`smooth` (1 = none).
    mix_t : float
        Weight of the other latent in a linear mix (0 = none).
    pc_offsets : tuple[float, ...]
        Amounts to move along principal directions (given to :func:`apply_edits`).
    """

    scale: float = 1.0
    noise_sigma: float = 0.0
    noise_seed: int = 0
    smooth_window: int = 1
    mix_t: float = 0.0
    pc_offsets: tuple[float, ...] = ()

    @property
    def is_identity(self) -> bool:
        """True when applying these edits returns the latent unchanged."""
        return (self.scale == 1.0 and self.noise_sigma == 0 and self.smooth_window == 1
                and self.mix_t == 0 and not any(self.pc_offsets))


def apply_edits(z: np.ndarray, params: EditParams, other: np.ndarray | None = None,
                directions: np.ndarray | None = None) -> np.ndarray:
    """Apply ``params`` to ``z`` and return the edited copy.

    Parameters
    ----------
    z : np.ndarray[C, L] or np.ndarray[N, C, L]
    params : EditParams
    other : np.ndarray, optional
        Latent to mix with (same shape as ``z``); needed when ``params.mix_t != 0``.
    directions : np.ndarray[K, C, L], optional
        Principal directions (e.g. PCA components of latents); ``z`` moves by
        ``pc_offsets[k] * directions[k]``. Needed when ``pc_offsets`` is non-zero.

    Returns
    -------
    np.ndarray, same shape as ``z``
    """
    if params.is_identity:
        return _as_float(z)
    out = _as_float(z)
    if params.mix_t != 0:
        if other is None:
            raise ValueError("mixing needs a second latent ('other')")
        out = interpolate(out, other, params.mix_t)
    if any(params.pc_offsets):
        if directions is None:
            raise ValueError("principal-direction offsets need the directions")
        dirs = np.asarray(directions, dtype=np.float32)
        if len(params.pc_offsets) > dirs.shape[0] or dirs.shape[1:] != out.shape[-dirs.ndim + 1:]:
            raise ValueError(f"{len(params.pc_offsets)} offsets do not fit directions of shape "
                             f"{dirs.shape} for a latent of shape {out.shape}")
        for k, amount in enumerate(params.pc_offsets):
            out = out + np.float32(amount) * dirs[k]
    if params.scale != 1.0:
        out = scale(out, params.scale)
    if params.smooth_window != 1:
        out = smooth(out, params.smooth_window)
    if params.noise_sigma != 0:
        out = add_noise(out, params.noise_sigma, params.noise_seed)
    return out
