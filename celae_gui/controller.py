"""The workbench's behaviour: which worker runs when the state changes, and where results go.

The main window only wires widgets to this controller and the state. One task slot per kind of
work (decode, model, reconstruction): a new request cancels the stale one, results are applied
on the GUI thread, and :meth:`Controller.shutdown` joins every thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from celae_gui.state import AppState
from celae_gui.workers.base import TaskSlot
from celae_gui.workers.decode_worker import DecodeWorker, EntryBatch
from celae_gui.workers.edit_worker import EditService
from celae_gui.workers.model_worker import ModelLoadWorker
from celae_gui.workers.quality_worker import QualityWorker
from celae_gui.workers.reconstruct_worker import ReconstructResult, ReconstructWorker
from celae_gui.workers.visqol_worker import VisqolService

log = logging.getLogger(__name__)

QUALITY_DELAY_MS = 400
PAINT_FIRST_MS = 250
"""How long the latents and the work they start (genre bars, PC labels, the edit's rendering)
wait after a reconstruction is shown: started at once, their threads took the cores while the
window drew the new song, and the first paint of a whole song stretched from 45-60 ms to
70-150 ms (``scripts/bench_switch.py``)."""


class Controller(QObject):
    """Drives the workers from state changes.

    Signals
    -------
    models_listed(list)
        ``core.models.io.list_models()`` after a model load or a training run.
    progress(str, float, str)
        Task name, fraction and message, for the status bar.
    reconstructed(object)
        The :class:`ReconstructResult` just applied to the state.
    """

    models_listed = Signal(object)
    progress = Signal(str, float, str)
    reconstructed = Signal(object)
    model_load_done = Signal(bool)
    busy_changed = Signal(str)
    """What is being computed for the view ("" when nothing): a reconstruction or an edit."""

    def __init__(self, state: AppState, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.auto_select = True
        self._pending_quality = (None, None)
        self._model = TaskSlot("model", self)
        self._recon = TaskSlot("reconstruct", self)
        self._decoders: list[DecodeWorker] = []
        self.edits = EditService(self)
        self.live = None
        self.edits.edited.connect(self._on_edited)
        # The slow spectral figures of an edit are computed once the sliders rest.
        self._quality = TaskSlot("quality", self)
        self._quality_timer = QTimer(self)
        self._quality_timer.setSingleShot(True)
        self._quality_timer.setInterval(QUALITY_DELAY_MS)
        self._quality_timer.timeout.connect(self._measure_edit)
        self._after_paint = QTimer(self, singleShot=True, interval=PAINT_FIRST_MS)
        self._after_paint.timeout.connect(self._start_after_reconstruct)
        self._shown: ReconstructResult | None = None
        self.edits.failed.connect(self._on_edit_failed)
        state.current_song_changed.connect(self._on_song_or_window_changed)
        state.window_changed.connect(self._on_window_changed)
        state.model_changed.connect(self._on_model_changed)
        state.latent_bits_changed.connect(self._on_song_or_window_changed)
        # ViSQOL takes seconds a clip: scored last, in a child process, cached.
        self.visqol = VisqolService(state, self)
        self._baseline_audio = None
        self.busy = ""
        state.edit_params_changed.connect(self.request_edit)
        state.other_song_changed.connect(self.request_edit)
        # Principal directions and the classifier take part in every edit pass.
        self.edits.genres_ready.connect(self._on_edit_genres)
        state.pca_changed.connect(self._on_explore_changed)
        state.classifier_changed.connect(self._on_explore_changed)

    # --- library -----------------------------------------------------------------------------
    def open_paths(self, paths: list[Path]) -> None:
        """Add files and folders to the library; they are checked in a worker.

        Decoders are not cancelled by later drops: every dropped file gets its status.
        """
        worker = DecodeWorker([Path(p) for p in paths])
        worker.discovered.connect(self._on_discovered)
        worker.entries_ready.connect(self._on_entries_ready)
        worker.failed.connect(self.state.error)
        worker.progress.connect(self._on_decode_progress)
        slot = TaskSlot("decode", self)
        self._decoders.append(slot)
        slot.start(worker)

    def _on_discovered(self, files: list[Path]) -> None:
        self.state.add_paths(files)
        if not files:
            self.state.info("No audio files found there")

    def _on_entries_ready(self, batch: EntryBatch) -> None:
        entries = batch.entries
        self.state.update_entries(entries)
        # Counted over the whole drop, not this batch: "3 files could not be read", not 2.
        if any(e.status == "error" for e in entries):
            if batch.failed == 1:
                self.state.error(batch.first_failure)
            else:
                self.state.error(f"{batch.failed} files could not be read (reasons in the "
                                 f"library): {batch.first_failure}")
        damaged = [e for e in entries if e.status == "damaged" and self.state.entry(e.path)]
        if damaged:
            # Found by the whole-file pass, one file per batch and counted over the drop.
            self.state.error(damaged[0].reason if batch.failed == 1 else
                             f"{batch.failed} files decode only in part (reasons in the "
                             f"library): {damaged[0].reason}")
        ok = [e for e in entries if e.status == "ok"]
        if ok and self.auto_select and self.state.current_path is None:
            self.state.set_current_song(ok[0].path)

    # Progress arrives through bound slots (not lambdas) so it is queued to the GUI thread.
    def _on_decode_progress(self, fraction: float, message: str) -> None:
        self.progress.emit("decode", fraction, message)

    def _on_model_progress(self, fraction: float, message: str) -> None:
        self.progress.emit("model", fraction, message)

    def _on_recon_progress(self, fraction: float, message: str) -> None:
        self.progress.emit("reconstruct", fraction, message)

    # --- model -------------------------------------------------------------------------------
    def load_model(self, name_or_path: str | Path | None = None) -> None:
        """Load a model in a worker (None: the bundled default); the state gets it when done."""
        worker = ModelLoadWorker(name_or_path)
        worker.result.connect(self._on_model_loaded)
        worker.failed.connect(self._on_model_failed)
        worker.progress.connect(self._on_model_progress)
        self.state.info("Loading model…")
        self._model.start(worker)

    def _on_model_loaded(self, loaded) -> None:
        self.edits.invalidate()
        # The old model's latents must never meet the new model or its classifier; the new
        # reconstruction brings the new latents.
        self.state.set_latents(None)
        self.state.set_model(loaded)
        self.state.info(f"Model {loaded.name} ({loaded.arch}) loaded")
        self.refresh_models()
        self.model_load_done.emit(True)

    def _on_model_failed(self, message: str) -> None:
        current = self.state.model
        if current is None:
            self.state.set_model(None, message)
            self.state.error(f"No model: {message}")
        else:
            # A bad pick must not cost the user the model they were working with.
            self.state.error(f"Model not loaded: {message} (keeping {current.name})")
        self.refresh_models()
        self.model_load_done.emit(False)

    def refresh_models(self) -> None:
        """Re-list bundled and user models (reads only their ``config.json``)."""
        from core.models.io import list_models

        self.models_listed.emit(list_models())

    # --- reconstruction ----------------------------------------------------------------------
    def _on_song_or_window_changed(self, *_args) -> None:
        self.reconstruct()

    def _on_window_changed(self, *_args) -> None:
        # The shown audio is of the old window: clear it rather than show it as the new one.
        self.state.clear_sources()
        self.reconstruct()

    def _on_model_changed(self, *_args) -> None:
        # A stays right; B and C were the old model's.
        for kind in ("recon", "edited"):
            if self.state.source(kind) is not None:
                self.state.set_source(kind, None)
        self.reconstruct()

    def _set_busy(self, text: str) -> None:
        if text != self.busy:
            self.busy = text
            self.busy_changed.emit(text)

    def reconstruct(self) -> None:
        """Reconstruct the current window of the current song with the current model."""
        state = self.state
        self._after_paint.stop()
        self.edits.invalidate()
        if self.live is not None:
            self.live.invalidate()
        self.visqol.forget()
        if state.model is None or state.current_path is None:
            self._recon.cancel()
            self._set_busy("")
            return
        # C belongs to the previous reconstruction: never shown beside the new B.
        if state.source("edited") is not None:
            state.set_source("edited", None)
        worker = ReconstructWorker(state.model.model, state.current_path, state.window,
                                   state.latent_bits)
        worker.result.connect(self._on_reconstructed)
        worker.failed.connect(self._on_reconstruct_failed)
        worker.progress.connect(self._on_recon_progress)
        worker.cancelled.connect(self._on_reconstruct_cancelled)
        self._set_busy(f"Reconstructing {state.current_path.name}…")
        self._recon.start(worker)

    def _on_reconstruct_cancelled(self) -> None:
        if not self._recon.busy():
            self._set_busy("")

    def _is_current(self, result: ReconstructResult) -> bool:
        state = self.state
        return (result.path == state.current_path and result.window == state.window
                and result.bits == state.latent_bits)

    def _on_reconstructed(self, result: ReconstructResult) -> None:
        state = self.state
        if not self._is_current(result):
            return
        state.set_source("original", result.original)
        state.set_source("recon", result.recon)
        # The latents, and the work they start (genre bars, the PC labels, the edit, ViSQOL),
        # come PAINT_FIRST_MS later; meanwhile no other window's or model's latents stand.
        if state.latents is not None:
            state.set_latents(None)
        self._shown = result
        quality = result.recon.quality
        if quality is not None:
            state.info(f"{result.path.name}: reconstructed, SI-SDR {quality.si_sdr:.1f} dB")
        self._baseline_audio = result.baseline_audio
        self.visqol.request(self._baseline_audio)  # marks the scores pending; scored later
        self._after_paint.start()

    def _start_after_reconstruct(self) -> None:
        result, self._shown = self._shown, None
        if result is None or not self._is_current(result) or self.state.source("recon") is None:
            return
        self.state.set_latents(result.latents)
        self.reconstructed.emit(result)
        self.request_edit()

    def _on_reconstruct_failed(self, message: str) -> None:
        self._set_busy("")
        self.state.error(f"Reconstruction failed: {message}")

    # --- live edits --------------------------------------------------------------------------
    def attach_live(self, playback) -> None:
        """Render whole-song edits from ``playback``'s play head, heard before the rest of the
        song is decoded (:mod:`celae_gui.workers.live_render_worker`)."""
        from celae_gui.workers.live_render_worker import LiveRenderService

        self.live = LiveRenderService(lambda audio: playback.share_live("edited", audio), self)
        self._live_position = playback.position
        self.live.edited.connect(self._on_live_edited)
        self.live.partial.connect(self._on_live_partial)
        self.live.genres_ready.connect(self._on_edit_genres)
        self.live.failed.connect(self._on_edit_failed)

    def _request_live(self, classifier) -> bool:
        """Route a whole-song edit to the live renderer; False when it cannot take it (a mix
        toward another song still needs that song's latent, which the edit worker encodes)."""
        state = self.state
        if (self.live is None or not state.window.whole_song or len(state.latents.z) < 2
                or (state.edit_params.mix_t != 0 and state.other_path is not None)):
            return False
        directions = None
        if any(state.edit_params.pc_offsets) and state.latent_pca is not None:
            from core.latent.pca import directions as pca_directions

            directions = pca_directions(state.latent_pca, tuple(state.latents.z.shape[-2:]),
                                        len(state.edit_params.pc_offsets))
        self.edits.invalidate()
        self.live.request(state.model.model, state.latents, state.edit_params,
                          state.audio("original"), self._live_position(), directions=directions,
                          classifier=classifier)
        return True

    def _on_live_partial(self, envelope, fraction: float) -> None:
        self._set_busy(f"Rendering C (the edit): {100 * fraction:.0f} %")
        self.state.show_partial("edited", envelope)

    def _on_live_edited(self, data, _times) -> None:
        self._on_edited(data)

    def request_edit(self, *_args) -> None:
        """Decode the current latents with the current edit parameters (coalesced)."""
        state = self.state
        original = state.audio("original")
        if state.model is None or state.latents is None or original is None:
            return
        classifier = state.classifier
        if classifier is not None and classifier.autoencoder is not state.model:
            classifier = None  # another model's classifier: it must not read these latents
        if state.window.whole_song and state.source("edited") is not None:
            # A whole song takes seconds to decode: the old C must not pass for the new edit.
            state.set_source("edited", None)
        self._set_busy("Rendering C (the edit)…")
        if self._request_live(classifier):
            return
        self.edits.request(state.model.model, state.latents, state.edit_params, original,
                           state.window, state.other_path, pca=state.latent_pca,
                           classifier=classifier)

    def _on_explore_changed(self, value) -> None:
        # Right after a model change the latents are still the old model's until the new
        # reconstruction lands (which requests the edit itself): never decode them with it.
        state = self.state
        if value is None or state.model is None or state.latents is None:
            return
        latents = state.latents
        if tuple(latents.z.shape[1:]) == tuple(state.model.model.latent_shape(
                latents.clip_samples)):
            self.request_edit()

    def _on_edit_genres(self, proba) -> None:
        if self.state.latents is not None:
            self.state.set_genre_probabilities("edited", proba)

    def _on_edited(self, data) -> None:
        self._set_busy("")
        if self.state.latents is not None:
            self._quality.cancel()
            self.state.set_source("edited", data)
            self._quality_timer.start()

    def _measure_edit(self) -> None:
        original, edited = self.state.audio("original"), self.state.source("edited")
        if original is None or edited is None:
            return
        worker = QualityWorker(original, edited.audio)
        worker.result.connect(self._on_edit_quality_ready)
        self._pending_quality = (worker, edited)
        self._quality.start(worker)

    def _on_edit_quality_ready(self, quality) -> None:
        worker, data = self._pending_quality
        if self._quality.is_current(worker) and self.state.source("edited") is data:
            self.state.set_quality("edited", quality)
            self.visqol.request(self._baseline_audio)

    def _on_edit_failed(self, message: str) -> None:
        self._set_busy("")
        self.state.error(f"Edit failed: {message}")

    # --- shutdown ----------------------------------------------------------------------------
    def shutdown(self) -> bool:
        """Cancel every task and join every thread; True when all stopped in time."""
        ok = self.edits.shutdown()
        if self.live is not None:
            ok = self.live.shutdown() and ok
        ok = self.visqol.shutdown() and ok
        self._quality_timer.stop()
        self._after_paint.stop()
        for slot in (self._model, self._recon, self._quality, *self._decoders):
            ok = slot.shutdown() and ok
        return ok
