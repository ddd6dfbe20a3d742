"""Decoding the second half of a long file on another thread (``iter_blocks(threads=2)``).

:func:`core.audio.io.iter_blocks` reads the first half; a :class:`SecondHalf` seeks to the
second and reads it meanwhile on its own file handle, in the same blocks. The halves meet at a
read boundary of the sequential decode, and the reader checks the second half's first block
against its own decode of it before using the rest, so the output is what one thread gives.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio.quiet import quiet_native_stderr


def mix(got: np.ndarray, channels: int) -> np.ndarray:
    """Mono float32 of ``[n, channels]`` frames: their average."""
    # A matrix-vector product averages the channels ~8x faster than ndarray.mean(axis=1).
    weights = np.full(channels, 1.0 / channels, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        return got @ weights if channels > 1 else got[:, 0].copy()


class SecondHalf(threading.Thread):
    """Decodes source frames ``[split, end)`` of a window on its own file handle, so the two
    halves of a long file decode at once.

    Any fault (an error, NaN/Inf, fewer frames than asked) just marks it failed: the caller
    then reads on sequentially and reports the fault exactly as a one-thread decode would.
    """

    def __init__(self, path: Path, channels: int, mp3: bool, split: int, end: int, block: int):
        super().__init__(name="celae-decode-half", daemon=True)
        self.path, self.channels, self.mp3 = path, channels, mp3
        self.split, self.end, self.block = split, end, block
        self.head: np.ndarray | None = None      # the first block's raw frames, to compare
        self.blocks: list[np.ndarray] = []       # mono blocks, as the sequential reader cuts
        self.ok = False
        self.stop = threading.Event()

    def run(self) -> None:
        block = self.block
        try:
            with quiet_native_stderr(self.mp3), sf.SoundFile(os.fsencode(self.path)) as f:
                f.seek(self.split)
                at = self.split
                while at < self.end and not self.stop.is_set():
                    got = f.read(min(block, self.end - at), dtype="float32", always_2d=True)
                    if len(got) < min(block, self.end - at):
                        return
                    if self.head is None:
                        self.head = got.copy()
                    mono = mix(got, self.channels)
                    if not np.isfinite(mono).all():
                        return
                    self.blocks.append(mono)
                    at += len(got)
            self.ok = at == self.end
        except Exception:  # any fault: the sequential reader will meet and report it
            self.ok = False


PARALLEL_MIN_SECONDS = 60.0
PARALLEL_MAX_SECONDS = 900.0
"""Windows :func:`core.audio.io.iter_blocks` decodes in two halves at once (``threads=2``):
from a minute (shorter ones gain too little) to 15 minutes (the second half waits in memory as
mono source samples: 79 MB at 44.1 kHz at most)."""

FIRST_HALF = 0.55
"""Share of a window the calling thread decodes when two do (it also resamples its share)."""
