"""Audio: decoding and saving files, what a file really is, features, quality figures and the
no-learning baseline.

Only :mod:`core.audio.io`'s names and :func:`core.audio.writer.save_audio` are re-exported
here, so ``import core.audio`` stays free of torch; import the other modules by name
(``core.audio.metrics``, ``core.audio.features``).
"""

from core.audio.io import (
    AudioInfo,
    iter_blocks,
    load_audio,
    peak_normalize,
    probe,
    split_clips,
)
from core.audio.writer import save_audio

__all__ = ["AudioInfo", "iter_blocks", "load_audio", "peak_normalize", "probe", "save_audio",
           "split_clips"]
