"""Morphing between two songs through a model's latent space.

Two clips are encoded, their latents mixed in ``steps`` evenly spaced points from the first
(``t = 0``) to the second (``t = 1``), linearly or along the great circle
(:func:`core.latent.edits.slerp`,
which keeps the latent's energy steadier halfway between unlike songs), and each point decoded.
:func:`render_morph_sequence` joins the decoded steps into one signal with equal-power
crossfades, and :func:`export_morph` writes it to a WAV/FLAC file.

The latents can be made once and decoded on demand (:func:`morph_latents` then
:func:`core.models.inference.decode`), which is how an app plays any single step without decoding
all.
"""

from __future__ import annotations

import os

import numpy as np

from core.audio.writer import save_audio
from core.constants import SAMPLE_RATE
from core.latent.edits import interpolate, slerp
from core.models.base import Autoencoder
from core.models.inference import decode, encode
from core.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress

MODES = ("linear", "slerp")


def _check(steps: int, mode: str) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"a morph needs at least 2 steps, not {steps!r}")
    if mode not in MODES:
        raise ValueError(f"morph mode must be one of {', '.join(MODES)}, not {mode!r}")


def morph_latents(za: np.ndarray, zb: np.ndarray, steps: int, mode: str = "linear"
                  ) -> np.ndarray:
    """Latents from ``za`` to ``zb`` in ``steps`` evenly spaced points (ends included).

    Parameters
    ----------
    za, zb : np.ndarray[C, L]
        The two latents, same shape.
    steps : int
        Points, >= 2; step 0 is ``za`` and step ``steps - 1`` is ``zb``.
    mode : str
        ``"linear"`` or ``"slerp"``.

    Returns
    -------
    np.ndarray[steps, C, L]
        float32.
    """
    _check(steps, mode)
    mix = interpolate if mode == "linear" else slerp
    return np.stack([mix(za, zb, float(t)) for t in np.linspace(0.0, 1.0, steps)])


def _as_clip(x: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty mono signal [T], got shape {arr.shape}")
    return arr


def morph(model: Autoencoder, a: np.ndarray, b: np.ndarray, steps: int,
          mode: str = "linear", *, on_progress: ProgressFn | None = None,
          should_stop: StopFn | None = None) -> list[np.ndarray]:
    """Decode a morph from clip ``a`` to clip ``b``.

    Parameters
    ----------
    model : Autoencoder
    a, b : np.ndarray[T]
        Mono clips at ``model.sample_rate``. If their lengths differ, both are cut to the
        shorter one; models fixed to one length need ``T == model.clip_samples``.
    steps : int
        Points of the morph, >= 2 (the first is ``a``'s reconstruction, the last ``b``'s).
    mode : str
        ``"linear"`` or ``"slerp"``.
    on_progress, should_stop : callables, optional
        Reported and checked once per decoded step.

    Returns
    -------
    list of np.ndarray[T]
        ``steps`` float32 signals.

    Raises
    ------
    core.progress.Cancelled
        ``should_stop()`` returned True.
    """
    _check(steps, mode)
    on_progress = on_progress or no_progress
    should_stop = should_stop or never_stop
    a, b = _as_clip(a, "a"), _as_clip(b, "b")
    T = min(a.size, b.size)
    z = encode(model, np.stack([a[:T], b[:T]]))
    path = morph_latents(z[0], z[1], steps, mode)
    out = []
    for i, zi in enumerate(path):
        if should_stop():
            raise Cancelled()
        out.append(decode(model, zi[None], length=T)[0])
        on_progress((i + 1) / steps, f"morph step {i + 1}/{steps}")
    return out


def render_morph_sequence(steps_audio: list[np.ndarray], crossfade: float = 0.5,
                          sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Join decoded morph steps into one signal with equal-power crossfades.

    Parameters
    ----------
    steps_audio : list of np.ndarray[T_i]
        Signals in playing order.
    crossfade : float
        Overlap of neighbours in seconds, >= 0; capped at half of the shorter neighbour.
    sample_rate : int

    Returns
    -------
    np.ndarray[T_total]
        float32, ``sum(T_i) - overlaps``. Equal-power (sine/cosine) fades because neighbouring
        steps are different music, so their amplitudes do not add coherently.
    """
    if not steps_audio:
        raise ValueError("no morph steps to render")
    if crossfade < 0:
        raise ValueError(f"crossfade must be >= 0 seconds, not {crossfade}")
    parts = [_as_clip(x, f"step {i}") for i, x in enumerate(steps_audio)]
    out = parts[0].copy()
    for part in parts[1:]:
        n = min(round(crossfade * sample_rate), out.size // 2, part.size // 2)
        if n == 0:
            out = np.concatenate([out, part])
            continue
        phase = (np.arange(n, dtype=np.float64) + 0.5) / n * (np.pi / 2)
        fade_out, fade_in = np.cos(phase), np.sin(phase)
        mixed = (out[-n:] * fade_out + part[:n] * fade_in).astype(np.float32)
        out = np.concatenate([out[:-n], mixed, part[n:]])
    return out


def export_morph(path: str | os.PathLike, steps_audio: list[np.ndarray],
                 crossfade: float = 0.5, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render the morph sequence and write it to ``path`` (``.wav`` or ``.flac``, atomically).

    Returns the rendered ``np.ndarray[T_total]``. Raises :class:`core.errors.AudioSaveError`
    if the file cannot be written.
    """
    audio = render_morph_sequence(steps_audio, crossfade, sample_rate)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    # Decoders can overshoot; scale down rather than let the PCM writer clip.
    if peak > 1.0:
        audio = audio / peak
    save_audio(path, audio, sample_rate)
    return audio
