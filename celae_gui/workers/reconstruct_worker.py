"""Load the chosen window of a song (or all of it) and reconstruct it with the current model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from celae_gui.state import ClipWindow, SourceData
from celae_gui.views.figures import full_quality, source_data
from celae_gui.workers.base import BaseWorker
from core.constants import SAMPLE_RATE

if TYPE_CHECKING:
    from core.models.inference import SongLatent


@dataclass(frozen=True)
class ReconstructResult:
    """Original and reconstruction of one window, and its latents (a ``SongLatent``)."""

    path: Path
    window: ClipWindow
    original: SourceData
    recon: SourceData
    latents: SongLatent
    baseline_audio: np.ndarray | None = None
    bits: int = 32


def pad_to(audio: np.ndarray, length: int) -> np.ndarray:
    """``audio`` zero-padded (or cut) to ``length`` samples (``core.models.inference.pad_to``)."""
    out = np.zeros(length, dtype=np.float32)
    n = min(length, len(audio))
    out[:n] = audio[:n]
    return out


def load_window(path: Path, window: ClipWindow, clip_samples: int) -> np.ndarray:
    """Audio ``[T]`` of ``window``: one clip from its offset (zero-padded), or the whole song."""
    from core.audio.io import load_audio

    if window.whole_song:
        return load_audio(path)
    audio = load_audio(path, offset=window.offset, duration=clip_samples / SAMPLE_RATE)
    return pad_to(audio, clip_samples)


def encode_audio(model, audio: np.ndarray, whole_song: bool) -> SongLatent:
    """``core.models.inference.encode_audio``, imported when first used (torch)."""
    from core.models.inference import encode_audio as encode

    return encode(model, audio, whole_song=whole_song)


def decode_latents(model, song: SongLatent) -> np.ndarray:
    """``core.models.inference.decode_latent``, imported when first used (torch)."""
    from core.models.inference import decode_latent

    return decode_latent(model, song)


def pool_interp_like(model, audio: np.ndarray) -> np.ndarray:
    """The no-learning baseline of ``audio`` keeping as many values as ``model``'s latent."""
    from core.audio.baseline import pool_interp

    c, length = model.latent_shape()
    return pool_interp(audio, model.clip_samples / (c * length))


class ReconstructWorker(BaseWorker):
    """Reconstruct ``window`` of ``path`` with ``model`` (an ``Autoencoder``), its latent
    stored at ``bits`` per value (``core.latent.quantize``: 32, 16 or 8)."""

    def __init__(self, model, path: Path, window: ClipWindow, bits: int = 32):
        super().__init__()
        self._model = model
        self._path = Path(path)
        self._window = window
        self._bits = int(bits)

    def work(self) -> ReconstructResult:
        self.on_progress(0.0, f"Loading {self._path.name}")
        audio = load_window(self._path, self._window, self._model.clip_samples)
        self.on_progress(0.2, f"Reconstructing {self._path.name}")
        song = encode_audio(self._model, audio, self._window.whole_song)
        if self._bits != 32:
            from core.latent.quantize import roundtrip

            song = song.with_z(roundtrip(song.z, self._bits))
        if self.should_stop():
            return None
        recon = pad_to(decode_latents(self._model, song), len(audio))
        self.on_progress(0.9, "Measuring quality")
        baseline = pool_interp_like(self._model, audio)
        recon_data = dataclasses.replace(source_data(recon, audio), latent=song,
                                         baseline=full_quality(audio, baseline))
        return ReconstructResult(self._path, self._window, source_data(audio, None), recon_data,
                                 song, baseline, self._bits)
