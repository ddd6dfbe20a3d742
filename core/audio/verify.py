"""Does the whole file decode? A streaming check for files that open fine and break later.

The app's library checks a file quickly (its header and first half second), so an MP3 damaged
in the middle was listed as good until a whole-song reconstruction stopped half-way. This
decodes the whole file block by block at its own rate (no resampling, memory of one block),
checking ``should_stop`` between blocks, and says how far it gets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.audio.io import iter_blocks, probe
from core.errors import AudioLoadError, TruncatedAudioError
from core.progress import Cancelled, StopFn, never_stop

CHECK_BLOCK_SECONDS = 5.0
"""Source seconds decoded between two looks at ``should_stop``."""


@dataclass(frozen=True)
class Damage:
    """How far a damaged file decodes.

    Attributes
    ----------
    decoded_seconds : float
        Seconds from the start that decode.
    total_seconds : float
        Length the header promises.
    reason : str
        What the decoder said (``"truncated or damaged: header promises ..."``).
    """

    decoded_seconds: float
    total_seconds: float
    reason: str

    def summary(self) -> str:
        """``"decodes only the first 2:31 of 5:00"``."""
        return (f"decodes only the first {clock(self.decoded_seconds)} of "
                f"{clock(self.total_seconds)}")

    def text(self) -> str:
        """The summary, then the decoder's reason in brackets."""
        return f"{self.summary()} ({self.reason})"


def clock(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour), seconds rounded down."""
    whole = int(max(0.0, seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def find_damage(path: str | os.PathLike, *, should_stop: StopFn = never_stop) -> Damage | None:
    """Decode all of ``path``; None when every sample decodes, else how far it got.

    Parameters
    ----------
    path : str or PathLike
        An audio file whose header already probed fine.
    should_stop : StopFn
        Checked between blocks of :data:`CHECK_BLOCK_SECONDS`.

    Returns
    -------
    Damage or None

    Raises
    ------
    AudioLoadError
        The file cannot be opened at all (its header is bad, or it vanished since).
    Cancelled
        ``should_stop()`` returned True.
    """
    info = probe(path)
    decoded = 0
    try:
        for block in iter_blocks(path, CHECK_BLOCK_SECONDS, info.sample_rate):
            if should_stop():
                raise Cancelled("whole-file check cancelled")
            decoded += len(block)
    except TruncatedAudioError as err:
        return Damage(err.decoded_seconds, err.total_seconds, err.reason)
    except AudioLoadError as err:
        if decoded == 0:
            raise
        # Damage found part way that is not a short read (NaN samples, say).
        return Damage(decoded / info.sample_rate, info.duration, err.reason)
    return None
