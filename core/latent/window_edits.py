"""Latent edits of a whole song, window by window, for block-by-block rendering.

:func:`core.latent.edits.apply_edits` edits one latent array at once; its noise draws from one
generator over the whole array and is scaled by the whole array's RMS, so window ``i``'s edit
cannot be computed without all the others. A renderer that starts at the play head needs the
edit of window ``i`` alone, so here the noise of window ``i`` comes from its own generator
(``seed, i``) and is scaled by a reference RMS fixed once per song (the unedited latent's, times
the scale factor). Every other edit works along ``L`` per window, as in ``apply_edits``. The
streamed render and the offline one (export, figures) both use this, so they are the same sound.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from core.latent.edits import EditParams, apply_edits


def latent_rms(z: np.ndarray) -> float:
    """RMS of a song's latent ``[N, C, L]`` (the noise reference of :class:`SongEdits`)."""
    arr = np.asarray(z, dtype=np.float32)
    return float(np.sqrt(np.mean(np.square(arr, dtype=np.float64)))) if arr.size else 0.0


@dataclasses.dataclass(frozen=True)
class SongEdits:
    """``EditParams`` made applicable to any run of a song's windows.

    Attributes
    ----------
    params : EditParams
    rms : float
        RMS of the song's unedited latent (:func:`latent_rms`).
    other : np.ndarray[N, C, L], optional
        Latent of the song mixed toward (``params.mix_t``), window by window.
    directions : np.ndarray[K, C, L], optional
        Principal directions for ``params.pc_offsets``.
    """

    params: EditParams
    rms: float = 0.0
    other: np.ndarray | None = None
    directions: np.ndarray | None = None

    @property
    def is_identity(self) -> bool:
        return self.params.is_identity

    def __call__(self, first: int, z: np.ndarray) -> np.ndarray:
        """Edit windows ``first .. first + len(z)`` of the song: ``z[B, C, L] -> z'``."""
        p = self.params
        if p.is_identity:
            return np.asarray(z, dtype=np.float32)
        other = None
        if p.mix_t != 0 and self.other is not None:
            other = self.other[first:first + len(z)]
            if len(other) < len(z):  # a shorter second song: its end is silence
                pad = np.zeros((len(z) - len(other),) + z.shape[1:], np.float32)
                other = np.concatenate([other, pad])
        params = dataclasses.replace(
            p, noise_sigma=0.0, mix_t=p.mix_t if other is not None else 0.0,
            pc_offsets=p.pc_offsets if self.directions is not None else ())
        out = apply_edits(z, params, other, directions=self.directions)
        if p.noise_sigma > 0:
            level = np.float32(p.noise_sigma * self.rms * abs(p.scale))
            for b in range(len(out)):
                rng = np.random.default_rng((int(p.noise_seed), first + b))
                out[b] += level * rng.standard_normal(out[b].shape, dtype=np.float32)
        return out


class LiveEdits:
    """The edits that apply to live input, block by block: scale, noise and smoothing.

    A live block's latent is short and has no song around it: mixing toward a second song and
    the principal directions (fitted on 5 s windows) do not apply, and :attr:`skipped` names
    them for the user. The noise is scaled by each block's own latent RMS and drawn from a new
    generator per block (``noise_seed``, block number), so it does not repeat.

    Call it as :class:`core.models.live.LiveEngine`'s ``edit``: ``z[1, C, L] -> z'``.
    """

    def __init__(self, params: EditParams):
        self.params = params
        self._applied = dataclasses.replace(params, noise_sigma=0.0, mix_t=0.0, pc_offsets=())
        self._count = 0

    @property
    def skipped(self) -> list[str]:
        """The edits of ``params`` that live input leaves out, in words."""
        out = []
        if self.params.mix_t != 0:
            out.append("mixing with a second song")
        if any(self.params.pc_offsets):
            out.append("principal-direction sliders")
        return out

    @property
    def is_identity(self) -> bool:
        return self._applied.is_identity and self.params.noise_sigma == 0

    def __call__(self, z: np.ndarray) -> np.ndarray:
        out = apply_edits(z, self._applied)
        sigma = self.params.noise_sigma
        if sigma > 0:
            rng = np.random.default_rng((int(self.params.noise_seed), self._count))
            level = np.float32(sigma * latent_rms(z) * abs(self.params.scale))
            out += level * rng.standard_normal(out.shape, dtype=np.float32)
        self._count += 1
        return out
