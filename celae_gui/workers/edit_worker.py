"""Live latent edits: apply ``core.latent.edits`` to the current latents and decode, off the GUI
   thread.

Unlike the one-shot workers this one lives for the whole session in its own thread, because a
slider sends many requests per second: :meth:`EditWorker.submit` (GUI thread) replaces the
pending request and wakes the worker, which always decodes only the newest one. Requests that
were replaced before it got to them are never decoded; results of requests that were overtaken
while decoding carry an old generation number and are dropped by the receiver.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from celae_gui.state import ClipWindow
from celae_gui.views.figures import source_data
from celae_gui.workers.base import LatestOnlyService
from celae_gui.workers.reconstruct_worker import (
    decode_latents,
    encode_audio,
    load_window,
    pad_to,
)
from core.errors import CelaeError

if TYPE_CHECKING:
    from core.genre.files import LoadedClassifier
    from core.latent.edits import EditParams
    from core.latent.pca import LatentPCA
    from core.models.base import Autoencoder
    from core.models.inference import SongLatent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EditRequest:
    """One decode of edited latents (a ``SongLatent``); ``original`` is audio ``[T]``."""

    generation: int
    model: Autoencoder
    latents: SongLatent
    params: EditParams
    original: np.ndarray
    window: ClipWindow
    other_path: Path | None = None
    pca: LatentPCA | None = None
    """``core.latent.pca.LatentPCA`` the ``pc_offsets`` move along (None: offsets ignored)."""
    classifier: LoadedClassifier | None = None
    """``core.genre.files.LoadedClassifier`` giving the edited latent's genres, or None."""


class EditWorker(QObject):
    """Decode the newest :class:`EditRequest`; ``result(generation, SourceData)``, preceded by
    ``genres(generation, proba[n_genres])`` when the request has a classifier."""

    result = Signal(int, object)
    genres = Signal(int, object)
    failed = Signal(int, str)
    _wake = Signal()

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._pending: EditRequest | None = None
        self._other_key = None
        self._other_latents: np.ndarray | None = None
        self._dirs_key = None
        self._dirs: np.ndarray | None = None
        self._wake.connect(self._process)

    def submit(self, request: EditRequest) -> None:
        """Queue ``request``, replacing any request not yet started (thread-safe)."""
        with self._lock:
            self._pending = request
        self._wake.emit()

    def _process(self) -> None:
        with self._lock:
            request, self._pending = self._pending, None
        if request is None:
            return
        try:
            data, _z = self._decode(request)
            self.result.emit(request.generation, data)
            # Genre probabilities after the audio: they must not delay what the user hears.
            if request.classifier is not None:
                self._emit_genres(request, data.audio)
        except CelaeError as err:
            self.failed.emit(request.generation, str(err))
        except Exception as err:  # a bug must reach the status bar, not kill the thread
            log.error("edit failed:\n%s", traceback.format_exc())
            self.failed.emit(request.generation, f"{type(err).__name__}: {err}")

    def _decode(self, request: EditRequest):
        from core.latent.edits import apply_edits

        params = request.params
        other = self._other(request) if params.mix_t != 0 else None
        if other is None and params.mix_t != 0:
            params = dataclasses.replace(params, mix_t=0.0)  # no second song chosen yet
        dirs = self._directions(request) if any(params.pc_offsets) else None
        if dirs is None and any(params.pc_offsets):
            params = dataclasses.replace(params, pc_offsets=())  # the model has no PCA yet
        song = request.latents
        z = apply_edits(song.z, params, other, directions=dirs)
        edited = song.with_z(z)
        audio = pad_to(decode_latents(request.model, edited), len(request.original))
        if any(params.pc_offsets):
            # A principal direction can still move the decoder's DC level a little (+0.18 at
            # +3 sigma on the bundled model); a DC step is heard as a thump, not as music.
            audio = audio - np.float32(audio.mean() - request.original.mean())
        data = dataclasses.replace(source_data(audio, request.original, live=True), latent=edited)
        return data, z

    def _directions(self, request: EditRequest) -> np.ndarray | None:
        """Principal directions ``[K, C, L]`` for this latent shape, cached between requests."""
        if request.pca is None:
            return None
        from core.latent.pca import directions

        shape = tuple(request.latents.z.shape[-2:])
        key = (id(request.pca), shape, len(request.params.pc_offsets))
        if key != self._dirs_key:
            self._dirs = directions(request.pca, shape, len(request.params.pc_offsets))
            self._dirs_key = key
        return self._dirs

    def _emit_genres(self, request: EditRequest, audio: np.ndarray) -> None:
        """Genre probabilities of the edited audio ``audio[T]``, scored as A and B are."""
        from celae_gui.workers.classify_worker import genre_proba

        try:
            proba = genre_proba(request.classifier, audio)
        except (CelaeError, ValueError, RuntimeError) as err:
            # A classifier that cannot read these latents must not stop the audio edit.
            log.warning("genre probabilities of the edit failed: %s", err)
            return
        self.genres.emit(request.generation, proba)

    def _other(self, request: EditRequest) -> np.ndarray | None:
        """Latents of the interpolation target over the same window, cached between requests."""
        if request.other_path is None:
            return None
        key = (request.other_path, request.window, id(request.model))
        if key != self._other_key:
            audio = load_window(request.other_path, request.window, request.model.clip_samples)
            z = encode_audio(request.model, audio, request.window.whole_song).z
            n = len(request.latents.z)
            if len(z) < n:
                z = np.concatenate([z, np.zeros((n - len(z),) + z.shape[1:], z.dtype)])
            self._other_key, self._other_latents = key, z[:n]
        return self._other_latents


class EditService(LatestOnlyService):
    """Owns the :class:`EditWorker` and its thread; numbers requests so stale results drop."""

    edited = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        worker = EditWorker()
        worker.result.connect(self._on_result)
        self._start(worker, "EditWorker")

    def request(self, model, latents, params, original: np.ndarray,
                window: ClipWindow, other_path: Path | None = None, *, pca=None,
                classifier=None) -> int:
        """Decode ``latents`` edited by ``params``; returns the request's generation.

        ``pca`` (a ``LatentPCA``) gives ``params.pc_offsets`` their directions; ``classifier``
        (a ``LoadedClassifier``) makes the same pass emit ``genres_ready``.
        """
        generation = self._next_generation()
        self._worker.submit(EditRequest(generation, model, latents, params, original,
                                        window, other_path, pca, classifier))
        return generation

    def _on_result(self, generation: int, data) -> None:
        if self._current(generation):
            self.edited.emit(data)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop the worker thread and join it (idempotent)."""
        return self._join(timeout_ms)
