"""Running a model on numpy audio: clips in batches, and whole songs chunked and crossfaded.

Everything runs under ``torch.inference_mode`` in float32 on the model's device, with the model
in eval mode for the call (its previous mode is restored). Long calls take ``on_progress`` and
``should_stop`` and raise :class:`core.progress.Cancelled` between batches.

A song is cut into clip-length windows that overlap by ``overlap`` (a fraction of a clip). Each
window is encoded and decoded on its own; the decoded windows are joined with linear crossfades
over the overlaps. Linear (not equal-power) because overlapping reconstructions of the same music
are strongly correlated: their amplitudes add, and linear gains summing to 1 keep the level flat.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from core.models.base import Autoencoder
from core.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress

DEFAULT_OVERLAP = 0.1


@contextmanager
def _eval_mode(model: Autoencoder) -> Iterator[torch.device]:
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield next(model.parameters()).device
    finally:
        model.train(was_training)


def _batched(n: int, batch_size: int, fn: Callable[[int, int], None], on_progress: ProgressFn,
             should_stop: StopFn, message: str, span: tuple[float, float] = (0.0, 1.0)) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, not {batch_size}")
    lo, hi = span
    for start in range(0, n, batch_size):
        if should_stop():
            raise Cancelled(message)
        stop = min(n, start + batch_size)
        fn(start, stop)
        on_progress(lo + (hi - lo) * stop / n, message)


def _check_clips(clips: np.ndarray) -> np.ndarray:
    arr = np.asarray(clips, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"expected clips of shape [N, T], got {arr.shape}")
    return arr


def encode(model: Autoencoder, clips: np.ndarray, *, batch_size: int = 16,
           on_progress: ProgressFn | None = None,
           should_stop: StopFn | None = None) -> np.ndarray:
    """Encode clips to latents.

    Parameters
    ----------
    model : Autoencoder
    clips : np.ndarray[N, T]
        Mono audio, any ``T`` the model accepts (usually ``model.clip_samples``).
    batch_size : int
    on_progress, should_stop : callables, optional

    Returns
    -------
    np.ndarray[N, C, L]
        float32 latents.
    """
    arr = _check_clips(clips)
    C, L = model.latent_shape(arr.shape[1])
    out = np.empty((arr.shape[0], C, L), dtype=np.float32)
    with _eval_mode(model) as device:
        def run(a: int, b: int) -> None:
            x = torch.from_numpy(arr[a:b]).to(device).unsqueeze(1)
            out[a:b] = model.encode(x).float().cpu().numpy()
        _batched(len(arr), batch_size, run, on_progress or no_progress,
                 should_stop or never_stop, "encoding")
    return out


def decode(model: Autoencoder, z: np.ndarray, *, length: int | None = None,
           batch_size: int = 16, on_progress: ProgressFn | None = None,
           should_stop: StopFn | None = None) -> np.ndarray:
    """Decode latents to audio.

    Parameters
    ----------
    model : Autoencoder
    z : np.ndarray[N, C, L]
    length : int, optional
        Samples per clip; default ``model.output_length(L)`` (a clip for a clip's latent).
    batch_size : int
    on_progress, should_stop : callables, optional

    Returns
    -------
    np.ndarray[N, T]
        float32 audio.
    """
    lat = np.asarray(z, dtype=np.float32)
    if lat.ndim != 3:
        raise ValueError(f"expected latents of shape [N, C, L], got {lat.shape}")
    T = model.output_length(lat.shape[-1]) if length is None else int(length)
    out = np.empty((lat.shape[0], T), dtype=np.float32)
    with _eval_mode(model) as device:
        def run(a: int, b: int) -> None:
            y = model.decode(torch.from_numpy(lat[a:b]).to(device), length=T)
            out[a:b] = y[:, 0].float().cpu().numpy()
        _batched(len(lat), batch_size, run, on_progress or no_progress,
                 should_stop or never_stop, "decoding")
    return out


def reconstruct(model: Autoencoder, clips: np.ndarray, *, batch_size: int = 16,
                on_progress: ProgressFn | None = None,
                should_stop: StopFn | None = None) -> np.ndarray:
    """Encode and decode clips: ``np.ndarray[N, T] -> np.ndarray[N, T]``."""
    arr = _check_clips(clips)
    out = np.empty_like(arr)
    with _eval_mode(model) as device:
        def run(a: int, b: int) -> None:
            x = torch.from_numpy(arr[a:b]).to(device).unsqueeze(1)
            out[a:b] = model(x)[:, 0].float().cpu().numpy()
        _batched(len(arr), batch_size, run, on_progress or no_progress,
                 should_stop or never_stop, "reconstructing")
    return out


@dataclass(frozen=True)
class SongLatent:
    """The latent of a whole song: one latent per overlapping clip window.

    Attributes
    ----------
    z : np.ndarray[N, C, L]
        Latents of the windows, in order.
    length : int
        Samples of the original song (the decoded song is cut to it).
    clip_samples : int
        Window length in samples.
    hop : int
        Samples between window starts (``clip_samples - overlap``).
    """

    z: np.ndarray
    length: int
    clip_samples: int
    hop: int

    @property
    def overlap(self) -> int:
        """Samples shared by neighbouring windows."""
        return self.clip_samples - self.hop

    def with_z(self, z: np.ndarray) -> SongLatent:
        """The same song layout with edited latents (same shape)."""
        if np.shape(z) != self.z.shape:
            raise ValueError(f"edited latent has shape {np.shape(z)}, expected {self.z.shape}")
        return SongLatent(np.asarray(z, dtype=np.float32), self.length, self.clip_samples,
                          self.hop)


def _hop(clip: int, overlap: float) -> int:
    if not 0 <= overlap < 0.5:
        raise ValueError(f"overlap must be a fraction in [0, 0.5), not {overlap}")
    return clip - round(overlap * clip)


def song_windows(audio: np.ndarray, clip_samples: int, overlap: float = DEFAULT_OVERLAP
                 ) -> tuple[np.ndarray, int]:
    """Cut a song into overlapping clip windows (the end zero-padded).

    Parameters
    ----------
    audio : np.ndarray[T]
    clip_samples : int
    overlap : float
        Fraction of a clip shared by neighbours, in [0, 0.5).

    Returns
    -------
    (np.ndarray[N, clip_samples], int)
        The windows and the hop between their starts.
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected a non-empty mono song of shape [T], got {x.shape}")
    hop = _hop(clip_samples, overlap)
    n = max(1, math.ceil((x.size - (clip_samples - hop)) / hop))
    padded = np.zeros((n - 1) * hop + clip_samples, dtype=np.float32)
    padded[:x.size] = x
    starts = np.arange(n) * hop
    return padded[starts[:, None] + np.arange(clip_samples)], hop


def overlap_add(windows: np.ndarray, hop: int, length: int) -> np.ndarray:
    """Join decoded windows with linear crossfades over their overlaps.

    Parameters
    ----------
    windows : np.ndarray[N, clip]
    hop : int
    length : int
        Samples to return (the song's length).

    Returns
    -------
    np.ndarray[length]
    """
    n, clip = windows.shape
    fade = clip - hop
    total = np.zeros((n - 1) * hop + clip, dtype=np.float64)
    weight = np.zeros_like(total)
    ramp = (np.arange(fade) + 0.5) / fade if fade else np.zeros(0)
    for i in range(n):
        w = np.ones(clip)
        if i > 0 and fade:
            w[:fade] = ramp
        if i < n - 1 and fade:
            w[clip - fade:] = 1 - ramp
        total[i * hop:i * hop + clip] += w * windows[i]
        weight[i * hop:i * hop + clip] += w
    return (total / np.maximum(weight, 1e-12))[:length].astype(np.float32)


def encode_song(model: Autoencoder, audio: np.ndarray, *, overlap: float = DEFAULT_OVERLAP,
                batch_size: int = 16, on_progress: ProgressFn | None = None,
                should_stop: StopFn | None = None) -> SongLatent:
    """Encode a whole song as a sequence of overlapping clip latents.

    Parameters
    ----------
    model : Autoencoder
    audio : np.ndarray[T]
        Mono song at ``model.sample_rate``.
    overlap : float
        Fraction of a clip shared by neighbouring windows.

    Returns
    -------
    SongLatent
    """
    windows, hop = song_windows(audio, model.clip_samples, overlap)
    z = encode(model, windows, batch_size=batch_size, on_progress=on_progress,
               should_stop=should_stop)
    return SongLatent(z=z, length=int(np.asarray(audio).shape[-1]),
                      clip_samples=model.clip_samples, hop=hop)


def decode_song(model: Autoencoder, song: SongLatent, *, batch_size: int = 16,
                on_progress: ProgressFn | None = None,
                should_stop: StopFn | None = None) -> np.ndarray:
    """Decode a :class:`SongLatent` back to one crossfaded song ``np.ndarray[T]``."""
    windows = decode(model, song.z, length=song.clip_samples, batch_size=batch_size,
                     on_progress=on_progress, should_stop=should_stop)
    return overlap_add(windows, song.hop, song.length)


def reconstruct_song(model: Autoencoder, audio: np.ndarray, *,
                     overlap: float = DEFAULT_OVERLAP, batch_size: int = 16,
                     on_progress: ProgressFn | None = None,
                     should_stop: StopFn | None = None) -> np.ndarray:
    """Encode and decode a song of any length, chunked into clips and crossfaded.

    Parameters
    ----------
    model : Autoencoder
    audio : np.ndarray[T]
        Mono song at ``model.sample_rate``.
    overlap : float
        Fraction of a clip shared by neighbouring windows (0.1 = 10 %).
    batch_size : int
        Windows per forward pass.
    on_progress, should_stop : callables, optional
        Progress in [0, 1]; ``should_stop`` is checked before each batch.

    Returns
    -------
    np.ndarray[T]
        The reconstruction, same length as ``audio``.

    Raises
    ------
    Cancelled
        ``should_stop()`` returned True.
    """
    windows, hop = song_windows(audio, model.clip_samples, overlap)
    out = np.empty_like(windows)
    report = on_progress or no_progress
    with _eval_mode(model) as device:
        def run(a: int, b: int) -> None:
            x = torch.from_numpy(windows[a:b]).to(device).unsqueeze(1)
            out[a:b] = model(x)[:, 0].float().cpu().numpy()
        _batched(len(windows), batch_size, run, report, should_stop or never_stop,
                 "reconstructing song")
    return overlap_add(out, hop, int(np.asarray(audio).shape[-1]))


def pad_to(audio: np.ndarray, length: int) -> np.ndarray:
    """``audio[T]`` zero-padded (or cut) to ``length`` samples, float32."""
    out = np.zeros(length, dtype=np.float32)
    n = min(length, len(audio))
    out[:n] = audio[:n]
    return out


def encode_audio(model: Autoencoder, audio: np.ndarray, *, whole_song: bool) -> SongLatent:
    """The :class:`SongLatent` of ``audio[T]``: overlapping song windows, or one clip.

    With ``whole_song`` False, ``audio`` is one window of any length (the app's 5 s window)
    and the latent has a single window spanning it.
    """
    if whole_song:
        return encode_song(model, audio)
    z = encode(model, np.asarray(audio, dtype=np.float32)[None])
    return SongLatent(z=z, length=len(audio), clip_samples=len(audio), hop=len(audio))


def decode_latent(model: Autoencoder, song: SongLatent) -> np.ndarray:
    """Audio ``[song.length]`` of a :class:`SongLatent` (crossfaded windows for a song)."""
    if len(song.z) == 1:
        return pad_to(decode(model, song.z, length=song.clip_samples)[0], song.length)
    return decode_song(model, song)
