"""Whole-song edits heard at once: render from the play head, then fill in the rest.

A slider move on a whole song used to decode every window before anything changed (about 3 s
for 5 minutes). :class:`LiveRenderService` instead renders the edited song with
:class:`core.models.streaming.LatentRenderer` starting at the window under the play head, hands
the buffer to the player as soon as that window is decoded (the player reads it without a copy,
see ``PlaybackController.share_live``), keeps rendering to the end of the song ahead of the play
head, then wraps round to fill the start. Only then does the state get the edited source, with
its spectrum and figures, for the plots, the quality panel and export.

The worker lives for the session in its own thread, like ``EditWorker``: a new request
replaces the pending one and interrupts the render in progress between two windows; results of
overtaken requests carry an old generation and are dropped by the service.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from celae_gui.workers.base import LatestOnlyService
from core.constants import SAMPLE_RATE
from core.errors import CelaeError

if TYPE_CHECKING:
    from core.genre.files import LoadedClassifier
    from core.latent.edits import EditParams
    from core.models.base import Autoencoder
    from core.models.inference import SongLatent

log = logging.getLogger(__name__)

PARTIAL_INTERVAL_S = 0.25
"""How often the plots get the envelope of what is rendered so far."""

PREVIEW_SECONDS = 0.5
"""Audio from the play head rendered before the first whole window (see ``_render``)."""


@dataclass(frozen=True)
class LiveRequest:
    """One edited render of a whole song's latent (a ``SongLatent``) from ``position`` s."""

    generation: int
    model: Autoencoder
    latents: SongLatent
    params: EditParams
    original: np.ndarray
    position: float
    directions: np.ndarray | None = None
    other: np.ndarray | None = None
    requested_at: float = 0.0
    classifier: LoadedClassifier | None = None
    """``core.genre.files.LoadedClassifier`` giving the edited latent's genres, or None."""


@dataclass(frozen=True)
class LiveTimes:
    """How long the render took: to the audio at the play head, and to the whole song."""

    heard_s: float
    complete_s: float
    windows: int


class _Superseded(Exception):
    pass


class LiveRenderWorker(QObject):
    """Renders the newest :class:`LiveRequest`; ``share(audio)`` is called from this thread."""

    heard = Signal(int, float, float)
    partial = Signal(int, object, float)
    done = Signal(int, object, object)
    genres = Signal(int, object)
    failed = Signal(int, str)
    _wake = Signal()

    def __init__(self, share: Callable[[np.ndarray], None]):
        super().__init__()
        self._share = share
        self._lock = threading.Lock()
        self._pending: LiveRequest | None = None
        self._latest = -1
        self._rms_key = None
        self._rms = 0.0
        self.stop_event = threading.Event()
        self._post = ThreadPoolExecutor(max_workers=1, thread_name_prefix="celae-live-figures")
        self._wake.connect(self._process)

    def submit(self, request: LiveRequest) -> None:
        """Queue ``request``, replacing a pending one and interrupting the render in progress."""
        with self._lock:
            self._pending = request
            self._latest = request.generation
        self._wake.emit()

    def _stale(self, request: LiveRequest) -> bool:
        return request.generation != self._latest or self.stop_event.is_set()

    def _superseded(self) -> bool:
        return self._pending is not None or self.stop_event.is_set()

    def _process(self) -> None:
        with self._lock:
            request, self._pending = self._pending, None
        if request is None or self.stop_event.is_set():
            return
        try:
            audio, z, times = self._render(request)
        except _Superseded:
            return
        except CelaeError as err:
            self.failed.emit(request.generation, str(err))
            return
        except Exception as err:  # a bug must reach the status bar, not kill the thread
            log.error("live render failed:\n%s", traceback.format_exc())
            self.failed.emit(request.generation, f"{type(err).__name__}: {err}")
            return
        # The spectrum, figures and genres of a whole song take a while: they run on a thread
        # of their own, so this one is free at once for the next slider move.
        self._post.submit(self._finish, request, audio, z, times)

    def _finish(self, request: LiveRequest, audio: np.ndarray, z: np.ndarray,
                times: LiveTimes) -> None:
        import dataclasses

        from celae_gui.views.figures import source_data

        if self._stale(request):
            return  # a newer edit is on its way: these figures would be stale at once
        try:
            data = dataclasses.replace(source_data(audio, request.original, live=True),
                                       latent=request.latents.with_z(z))
        except Exception as err:  # noqa: BLE001 - reported, the thread goes on
            log.error("live figures failed:\n%s", traceback.format_exc())
            self.failed.emit(request.generation, f"{type(err).__name__}: {err}")
            return
        self.done.emit(request.generation, data, times)
        if request.classifier is not None and not self._stale(request):
            self._emit_genres(request, z)

    def _render(self, request: LiveRequest) -> tuple[np.ndarray, np.ndarray, LiveTimes]:
        from celae_gui.views.figures import RunningEnvelope
        from core.latent.window_edits import SongEdits, latent_rms
        from core.models.streaming import (
            LatentRenderer,
            WindowPlan,
            decoder_radius,
            render_span,
            torch_decode_fn,
            torch_span_fn,
        )

        song = request.latents
        if self._rms_key is not song:
            self._rms_key, self._rms = song, latent_rms(song.z)
        edits = SongEdits(request.params, rms=self._rms, other=request.other,
                          directions=request.directions)
        plan = WindowPlan(length=song.length, clip=song.clip_samples, hop=song.hop)
        edited = np.empty_like(song.z)

        def record(first: int, z: np.ndarray) -> np.ndarray:
            # The edited latent is what File > Export latent saves: it decodes to this audio.
            out = edits(first, z)
            edited[first:first + len(out)] = out
            return out

        renderer = LatentRenderer(plan, song.z,
                                  torch_decode_fn(request.model, song.clip_samples, record))
        # calloc'd: the pages not yet rendered cost nothing and play as silence.
        out = np.zeros(plan.length, dtype=np.float32)
        position = min(plan.length - 1, round(request.position * SAMPLE_RATE))
        first = plan.first_window(position)
        heard_at = None
        radius = decoder_radius(request.model)
        if radius is not None:
            # The next PREVIEW_SECONDS from the play head first, from only the latent steps
            # they need: heard in a fraction of a window's decode. The full windows that follow
            # write the same samples again (equal up to float rounding).
            stop = min(plan.length, position + round(PREVIEW_SECONDS * SAMPLE_RATE))
            span = render_span(plan, lambda i: record(i, song.z[i:i + 1])[0],
                               torch_span_fn(request.model), radius,
                               float(request.model.latent_ratio), position, stop)
            np.clip(span, -1.0, 1.0, out=out[position:stop])
            heard_at = self._heard(request, out)
        windows = 0
        envelope = RunningEnvelope(plan.length)
        shown = [time.perf_counter()]

        def rendered(start: int, stop: int) -> None:
            # The plots follow the render: the envelope of what is done, a few times a second.
            envelope.update(out, start, stop)
            now = time.perf_counter()
            if now - shown[0] >= PARTIAL_INTERVAL_S:
                shown[0] = now
                done_samples = windows * plan.hop
                self.partial.emit(request.generation, envelope.snapshot(),
                                  min(1.0, done_samples / plan.length))

        for block in renderer.blocks(position, should_stop=self._superseded_raise):
            np.clip(block.audio, -1.0, 1.0, out=out[block.start:block.stop])
            windows += 1
            if heard_at is None and block.stop > position:
                heard_at = self._heard(request, out)
            rendered(block.start, block.stop)
        if first > 0:
            resume = plan.emitted_start(first)
            for block in renderer.blocks(0, should_stop=self._superseded_raise):
                stop = min(block.stop, resume)
                np.clip(block.audio[:stop - block.start], -1.0, 1.0,
                        out=out[block.start:stop])
                windows += 1
                rendered(block.start, stop)
                if block.stop >= resume:
                    break
        now = time.perf_counter()
        return out, edited, LiveTimes(heard_s=(heard_at or now) - request.requested_at,
                              complete_s=now - request.requested_at, windows=windows)

    def _heard(self, request: LiveRequest, out: np.ndarray) -> float:
        self._share(out)
        now = time.perf_counter()
        self.heard.emit(request.generation, now - request.requested_at, now)
        return now

    def _superseded_raise(self) -> bool:
        if self._superseded():
            raise _Superseded
        return False


class LiveRenderService(LatestOnlyService):
    """Owns the :class:`LiveRenderWorker` and its thread; numbers requests so stale results
    drop.

    Signals
    -------
    heard(float)
        Seconds from the request to the edited audio at the play head being in the player;
        :attr:`heard_at` is that moment on ``time.perf_counter``'s clock (the signal itself
        reaches the GUI thread later when the thread is busy).
    partial(object, float)
        The envelope ``(seconds, values)`` of the edited song rendered so far, and the
        fraction rendered.
    edited(object, object)
        The complete edited ``SourceData`` and its :class:`LiveTimes`.
    """

    heard = Signal(float)
    partial = Signal(object, float)
    edited = Signal(object, object)

    def __init__(self, share: Callable[[np.ndarray], None], parent: QObject | None = None):
        super().__init__(parent)
        self.heard_at = 0.0
        worker = LiveRenderWorker(share)
        worker.heard.connect(self._on_heard)
        worker.partial.connect(self._on_partial)
        worker.done.connect(self._on_done)
        self._start(worker, "LiveRenderWorker")

    def request(self, model, latents, params, original: np.ndarray, position: float, *,
                directions: np.ndarray | None = None, other: np.ndarray | None = None,
                classifier=None) -> int:
        """Render ``latents`` edited by ``params`` from ``position`` seconds; the generation."""
        generation = self._next_generation()
        self._worker.submit(LiveRequest(generation, model, latents, params, original,
                                        position, directions, other, time.perf_counter(),
                                        classifier))
        return generation

    def _on_heard(self, generation: int, seconds: float, at: float) -> None:
        if self._current(generation):
            self.heard_at = at
            self.heard.emit(seconds)

    def _on_partial(self, generation: int, envelope, fraction: float) -> None:
        if self._current(generation):
            self.partial.emit(envelope, fraction)

    def _on_done(self, generation: int, data, times) -> None:
        if self._current(generation):
            self.edited.emit(data, times)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Interrupt the render, stop the thread and join it (idempotent)."""
        self._worker.stop_event.set()
        joined = self._join(timeout_ms)
        self._worker._post.shutdown(wait=True, cancel_futures=True)
        return joined
