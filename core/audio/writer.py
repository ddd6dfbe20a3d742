"""Writing audio files atomically: a whole signal (:func:`save_audio`) or block by block.

:func:`save_audio` needs the whole signal; a song rendered block by block is written as it
comes (:func:`open_writer`), so memory stays bounded whatever its length. The file is written
under a temporary name in the target folder and renamed over the target only when
:meth:`close` is reached without error (:func:`core.atomic.atomic_path`), so a failure leaves
no half file and the previous file, if any, intact.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from core.atomic import atomic_path
from core.constants import SAMPLE_RATE
from core.errors import AudioSaveError

_FORMATS = {".wav": "WAV", ".flac": "FLAC"}


class BlockWriter:
    """Appends mono float blocks to an open sound file (PCM clipped to [-1, 1])."""

    def __init__(self, name: str, file: sf.SoundFile, pcm: bool):
        self._name, self._file, self._pcm = name, file, pcm
        self.frames = 0

    def write(self, block: np.ndarray) -> None:
        """Append ``block[B]``; NaN/Inf raise :class:`AudioSaveError` (nothing is kept)."""
        data = np.asarray(block, dtype=np.float32)
        if not np.isfinite(data).all():
            raise AudioSaveError(self._name, "refusing to save NaN/Inf samples")
        if self._pcm:
            data = np.clip(data, -1.0, 1.0)
        try:
            self._file.write(data)
        except (sf.LibsndfileError, RuntimeError, OSError) as err:
            raise AudioSaveError(self._name, f"could not write the file ({err})") from err
        self.frames += len(data)


@contextlib.contextmanager
def open_writer(path: str | os.PathLike, sample_rate: int, *,
                subtype: str = "PCM_16") -> Iterator[BlockWriter]:
    """Open ``path`` (``.wav`` or ``.flac``) for block-by-block mono writing, atomically.

    Raises
    ------
    AudioSaveError
        Unknown suffix, a subtype the format cannot hold, or a write failure (disk full,
        permission...).
    """
    name = os.fspath(path)
    fmt = _FORMATS.get(Path(name).suffix.lower())
    if fmt is None:
        raise AudioSaveError(name, f"cannot save as '{Path(name).suffix}': use .wav or .flac")
    if not sf.check_format(fmt, subtype):
        raise AudioSaveError(name, f"{fmt} cannot hold sample type {subtype}")
    in_body = False
    try:
        with atomic_path(name) as tmp, sf.SoundFile(tmp, "w", samplerate=sample_rate,
                                                     channels=1, format=fmt,
                                                     subtype=subtype) as f:
            in_body = True
            yield BlockWriter(name, f, subtype.startswith("PCM"))
            in_body = False
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        if in_body:  # the caller's own error (its input failing, say): not a write failure
            raise
        raise AudioSaveError(name, f"could not write the file ({err})") from err


def save_audio(path: str | os.PathLike, x: np.ndarray, sample_rate: int = SAMPLE_RATE, *,
               subtype: str | None = None) -> None:
    """Write a mono signal as WAV or FLAC (chosen by the suffix), atomically.

    Parameters
    ----------
    path : str or PathLike
        Ends in ``.wav`` or ``.flac``.
    x : np.ndarray
        float ``[T]``, finite; PCM subtypes clip it to [-1, 1] (no wrap-around).
    sample_rate : int
        Rate in Hz.
    subtype : str or None
        A libsndfile subtype (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``...); default ``"PCM_16"``.

    Raises
    ------
    AudioSaveError
        Unknown suffix, a subtype the format cannot hold, non-finite samples, or a write failure
        (disk full, permission...). The previous file, if any, is left intact.
    """
    name = os.fspath(path)
    fmt = _FORMATS.get(Path(name).suffix.lower())
    if fmt is None:
        raise AudioSaveError(name, f"cannot save as '{Path(name).suffix}': use .wav or .flac")
    subtype = subtype or "PCM_16"
    if not sf.check_format(fmt, subtype):
        raise AudioSaveError(name, f"{fmt} cannot hold sample type {subtype}")
    data = np.asarray(x, dtype=np.float32)
    if data.ndim != 1 or data.size == 0:
        raise ValueError(f"save_audio expects a non-empty 1-D signal, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise AudioSaveError(name, "refusing to save NaN/Inf samples")
    if subtype.startswith("PCM") or subtype in ("ULAW", "ALAW"):
        data = np.clip(data, -1.0, 1.0)
    try:
        with atomic_path(name) as tmp:
            sf.write(tmp, data, sample_rate, format=fmt, subtype=subtype)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise AudioSaveError(name, f"could not write the file ({err})") from err
