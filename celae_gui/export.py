"""Export the reconstructed or edited audio (WAV/FLAC) and the latent (``.npy`` + JSON).

Writes are atomic (``core.atomic``); the JSON beside a latent records what produced it, so an
exported latent can be decoded again with the same model and edits.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from core.atomic import atomic_path, atomic_write_text, ensure_not_input
from core.constants import SAMPLE_RATE
from core.errors import AudioSaveError

AUDIO_FILTER = "Audio (*.wav *.flac)"
LATENT_FILTER = "Latent (*.npy)"


def export_audio(path: str | Path, audio: np.ndarray, inputs: Iterable[Path | None] = ()) -> Path:
    """Save ``audio[T]`` as WAV or FLAC (by suffix; none means ``.wav``); returns the path.

    ``inputs`` are the songs open in the app: the export never replaces one of them.
    """
    from core.audio.io import save_audio

    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".wav")
    if path.suffix.lower() not in (".wav", ".flac"):
        raise AudioSaveError(path, "choose a .wav or .flac file name")
    ensure_not_input(path, *inputs)
    save_audio(path, audio, SAMPLE_RATE)
    return path


def export_latent(path: str | Path, latents: np.ndarray, *, model_name: str, arch: str,
                  song: str, window, edit_params) -> tuple[Path, Path]:
    """Save latents ``[N, C, L]`` as ``.npy`` and a JSON description beside it.

    Returns
    -------
    (npy_path, json_path)
    """
    path = Path(path).with_suffix(".npy")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, np.ascontiguousarray(latents, dtype=np.float32), allow_pickle=False)
    meta = {
        "model": model_name,
        "arch": arch,
        "song": song,
        "window": dataclasses.asdict(window),
        "edit_params": dataclasses.asdict(edit_params),
        "shape": list(latents.shape),
        "sample_rate": SAMPLE_RATE,
        "note": "latents of the clip before edits; apply edit_params with core.latent.edits",
    }
    json_path = path.with_suffix(".json")
    atomic_write_text(json_path, json.dumps(meta, indent=2))
    return path, json_path
