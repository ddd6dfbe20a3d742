"""ViSQOL v3 (audio mode): the perceptual score neural audio codecs are compared by.

The score is a MOS-LQO between 1 (bad) and 5 (transparent; identical signals score about 4.73).
It comes from ``visqol-python``, a pure-Python port of Google's ViSQOL v3 with its audio-mode
support-vector model. That model was fitted on 48 kHz audio, so both signals are resampled to
48 kHz (soxr, high quality) first; scoring our 22 050 Hz signals as they are would put the
model's upper bands on empty spectrum and shift every score.

It costs about a second of CPU per second of audio, so it is optional everywhere: the package is
imported on first use only, and a missing package is a :class:`VisqolUnavailable` error.

A silent reference has no perceptual quality to lose (ViSQOL itself scores silence against
noise as transparent): such a clip scores NaN, and :func:`visqol_clips`' callers leave NaN out.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from core.constants import CLIP_SAMPLES, SAMPLE_RATE
from core.errors import CelaeError
from core.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress

VISQOL_RATE = 48_000
"""The rate ViSQOL's audio mode was fitted at."""

MIN_SECONDS = 1.0
"""Shorter signals give ViSQOL fewer spectral frames than one patch (it raises)."""

SONG_CLIPS = 3
"""A long song is scored on this many evenly spaced 5 s clips (about 5 s of CPU each)."""


class VisqolError(CelaeError):
    """ViSQOL cannot score these signals (too short for one of its patches)."""


class VisqolUnavailable(VisqolError):
    """The optional ``visqol-python`` package is not installed."""


def _api():
    try:
        from visqol import VisqolApi
    except ImportError:
        raise VisqolUnavailable(
            "ViSQOL needs the visqol-python package (pip install visqol-python)") from None
    # The port warns when the two lengths differ by a few ms; ours never differ.
    logging.getLogger("visqol").setLevel(logging.ERROR)
    api = VisqolApi()
    api.create(mode="audio")
    return api


def _to_48k(x: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if sample_rate == VISQOL_RATE:
        return x
    import soxr

    return soxr.resample(x, sample_rate, VISQOL_RATE, quality="HQ")


def visqol(ref: np.ndarray, est: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """ViSQOL v3 audio-mode MOS-LQO of ``est`` against ``ref``.

    Parameters
    ----------
    ref, est : np.ndarray[T]
        Mono audio of the same length, at ``sample_rate``.
    sample_rate : int
        Both are resampled from it to 48 kHz first.

    Returns
    -------
    float
        1 to 5, higher is better; NaN when ``ref`` is silent.

    Raises
    ------
    VisqolUnavailable
        ``visqol-python`` is not installed.
    VisqolError
        The signals are shorter than :data:`MIN_SECONDS`.
    ValueError
        Their shapes differ.
    """
    r = np.asarray(ref, dtype=np.float64)
    e = np.asarray(est, dtype=np.float64)
    if r.shape != e.shape or r.ndim != 1:
        raise ValueError(f"expected two signals of the same shape [T], got {r.shape} and {e.shape}")
    if len(r) < MIN_SECONDS * sample_rate:
        raise VisqolError(f"ViSQOL needs at least {MIN_SECONDS:g} s of audio, got "
                         f"{len(r) / sample_rate:.2f} s")
    if not np.any(r):
        return math.nan
    result = _api().measure_from_arrays(_to_48k(r, sample_rate), _to_48k(e, sample_rate),
                                        VISQOL_RATE)
    return float(result.moslqo)


def visqol_clips(ref: np.ndarray, est: np.ndarray, sample_rate: int = SAMPLE_RATE, *,
                 on_progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> np.ndarray:
    """:func:`visqol` of each clip.

    Parameters
    ----------
    ref, est : np.ndarray[N, T]
    sample_rate : int
    on_progress, should_stop : the usual callbacks, called between clips.

    Returns
    -------
    np.ndarray[N]
        One score per clip (NaN for a silent reference clip).

    Raises
    ------
    core.progress.Cancelled
        ``should_stop()`` turned true.
    """
    on_progress = on_progress or no_progress
    should_stop = should_stop or never_stop
    r, e = np.atleast_2d(ref), np.atleast_2d(est)
    if r.shape != e.shape:
        raise ValueError(f"reference and estimate differ in shape: {r.shape} vs {e.shape}")
    scores = np.empty(len(r), dtype=np.float64)
    for i in range(len(r)):
        if should_stop():
            raise Cancelled()
        scores[i] = visqol(r[i], e[i], sample_rate)
        on_progress((i + 1) / len(r), f"ViSQOL {i + 1}/{len(r)}")
    return scores


@dataclass(frozen=True)
class SongVisqol:
    """ViSQOL of a whole song, or of a few clips of it when it is long.

    Attributes
    ----------
    score : float or None
        Mean MOS-LQO over the scored clips; None when the song is too short or silent.
    starts : tuple[float, ...]
        Where each scored excerpt starts, in seconds.
    seconds : float
        Length of each excerpt, in seconds.
    scope : str
        What was scored, for people: ``"whole song"``, ``"mean of 3 5-s clips at 0:12, ..."``.
    """

    score: float | None
    starts: tuple[float, ...]
    seconds: float
    scope: str

    def as_dict(self) -> dict:
        return {"visqol": self.score, "visqol_scope": self.scope,
                "visqol_excerpts": {"starts": list(self.starts), "seconds": self.seconds}}


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def plan_excerpts(n: int, sample_rate: int = SAMPLE_RATE, clips: int = SONG_CLIPS,
                  clip_samples: int = CLIP_SAMPLES) -> tuple[list[int], int, str]:
    """What :func:`song_visqol` scores of a song of ``n`` samples: excerpt starts (samples),
    excerpt length (samples) and a description for people."""
    if n <= clips * clip_samples:
        return [0], n, "whole song"
    starts = np.linspace(0, n - clip_samples, clips).round().astype(int).tolist()
    scope = (f"mean of {clips} {clip_samples / sample_rate:g}-s clips at "
             + ", ".join(_clock(s / sample_rate) for s in starts))
    return starts, clip_samples, scope


def _score(r: np.ndarray, e: np.ndarray, starts: list[int], length: int, scope: str,
           sample_rate: int, on_progress, should_stop) -> SongVisqol:
    scores = visqol_clips(r, e, sample_rate, on_progress=on_progress, should_stop=should_stop)
    kept = scores[np.isfinite(scores)]
    at = tuple(s / sample_rate for s in starts)
    if not len(kept):
        return SongVisqol(None, at, length / sample_rate, "not scored: the original is silent")
    return SongVisqol(float(kept.mean()), at, length / sample_rate, scope)


def _too_short(n: int, sample_rate: int) -> SongVisqol:
    return SongVisqol(None, (), n / sample_rate, f"not scored: shorter than {MIN_SECONDS:g} s")


def song_visqol(ref: np.ndarray, est: np.ndarray, sample_rate: int = SAMPLE_RATE, *,
                clips: int = SONG_CLIPS, clip_samples: int = CLIP_SAMPLES,
                on_progress: ProgressFn | None = None,
                should_stop: StopFn | None = None) -> SongVisqol:
    """ViSQOL of a song, bounded in cost: the whole song when it is at most ``clips`` clips long,
    else the mean over ``clips`` evenly spaced clips of ``clip_samples``.

    Parameters
    ----------
    ref, est : np.ndarray[T]
        The original and its reconstruction (the shorter length of the two is used).
    sample_rate, clips, clip_samples : what to score.
    on_progress, should_stop : the usual callbacks.

    Returns
    -------
    SongVisqol
    """
    n = min(len(ref), len(est))
    if n < MIN_SECONDS * sample_rate:
        return _too_short(n, sample_rate)
    starts, length, scope = plan_excerpts(n, sample_rate, clips, clip_samples)
    r = np.stack([np.asarray(ref[s:s + length]) for s in starts])
    e = np.stack([np.asarray(est[s:s + length]) for s in starts])
    return _score(r, e, starts, length, scope, sample_rate, on_progress, should_stop)


def files_visqol(ref_path, est_path, *, ref_offset: float = 0.0, sample_rate: int = SAMPLE_RATE,
                 clips: int = SONG_CLIPS, clip_samples: int = CLIP_SAMPLES,
                 on_progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> SongVisqol:
    """:func:`song_visqol` of a written reconstruction against its source file.

    Only the scored excerpts are decoded, so a long song costs no more memory or time than
    ``clips`` clips; ViSQOL matches the two levels itself, so neither file is normalised.

    Parameters
    ----------
    ref_path : path
        The original song.
    est_path : path
        Its reconstruction, which starts at ``ref_offset`` seconds into the original.
    ref_offset : float
        Seconds.
    sample_rate, clips, clip_samples, on_progress, should_stop : as :func:`song_visqol`.

    Returns
    -------
    SongVisqol

    Raises
    ------
    core.errors.AudioLoadError
        Either file cannot be read.
    """
    from core.audio.io import load_audio, probe

    info = probe(est_path)
    n = int(round(info.duration * sample_rate))
    if n < MIN_SECONDS * sample_rate:
        return _too_short(n, sample_rate)
    starts, length, scope = plan_excerpts(n, sample_rate, clips, clip_samples)
    refs, ests = [], []
    for s in starts:
        at, seconds = s / sample_rate, length / sample_rate
        e = load_audio(est_path, sample_rate, normalize=False, offset=at, duration=seconds)
        r = load_audio(ref_path, sample_rate, normalize=False, offset=ref_offset + at,
                       duration=seconds)
        m = min(len(r), len(e))
        refs.append(r[:m])
        ests.append(e[:m])
    m = min(len(x) for x in refs)
    return _score(np.stack([x[:m] for x in refs]), np.stack([x[:m] for x in ests]), starts, m,
                  scope, sample_rate, on_progress, should_stop)
