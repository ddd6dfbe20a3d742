"""Export the reconstructed or edited audio (WAV/FLAC) and the latent (one ``.celat`` file).

Writes are atomic. The latent file (``core.latent.file``) records the model, the window layout,
the song's length and the edits, so ``celae decode`` gives back exactly the audio the app played.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.atomic import ensure_not_input
from core.constants import SAMPLE_RATE
from core.errors import AudioSaveError

if TYPE_CHECKING:
    from core.models.inference import SongLatent
    from core.models.io import LoadedModel

AUDIO_FILTER = "Audio (*.wav *.flac)"
LATENT_FILTER = "CELAE latent (*.celat)"


def export_audio(path: str | Path, audio: np.ndarray, inputs: Iterable[Path | None] = ()) -> Path:
    """Save ``audio[T]`` as WAV or FLAC (by suffix; none means ``.wav``); returns the path.

    ``inputs`` are the songs open in the app: the export never replaces one of them.
    """
    from core.audio.writer import save_audio

    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".wav")
    if path.suffix.lower() not in (".wav", ".flac"):
        raise AudioSaveError(path, "choose a .wav or .flac file name")
    ensure_not_input(path, *inputs)
    save_audio(path, audio, SAMPLE_RATE)
    return path


def export_latent(path: str | Path, latent: SongLatent, *, model: LoadedModel, song: str,
                  window, edit_params, bits: int = 32) -> Path:
    """Save the latent that decodes to what the app plays as one ``.celat`` file.

    ``latent`` is the edit's latent (edits applied) or, with no edit, the reconstruction's;
    ``window`` and ``edit_params`` are recorded with it. Returns the path written.
    """
    from core.latent.file import SUFFIX, LatentFile, ModelRef, save_latent

    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        path = path.with_suffix(SUFFIX)
    edits = {"window": dataclasses.asdict(window), **dataclasses.asdict(edit_params)}
    lf = LatentFile(z=latent.z, length=latent.length, window=latent.clip_samples,
                    hop=latent.hop, sample_rate=SAMPLE_RATE,
                    model=ModelRef(model.name, model.arch, model.weights_sha256),
                    edits=edits, source=Path(song).name, bits=bits)
    return save_latent(path, lf, bits=bits)
