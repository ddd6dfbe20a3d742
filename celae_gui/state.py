"""The app state: one ``QObject`` holding what the views show, with a ``*_changed`` signal each.

Views take the state in ``__init__``, subscribe to its signals and write back through its
setters; workers never touch it (their results are applied on the GUI thread by the
controller). Tests build it with no widget at all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from core.audio.metrics import Quality
    from core.genre.files import LoadedClassifier
    from core.latent.edits import EditParams
    from core.latent.pca import LatentPCA
    from core.models.inference import SongLatent
    from core.models.io import LoadedModel

SOURCES = ("original", "recon", "edited")
"""The three audio sources, in A/B/C order."""

UNDO_LIMIT = 200


@dataclass(frozen=True)
class LibraryEntry:
    """One song of the library.

    ``status`` is ``"pending"`` while the decode worker probes it, ``"ok"`` or ``"error"`` after
    (then ``reason`` says why, e.g. ``"song.mp3: not an audio file"``), and ``"damaged"`` when
    the file opens but decodes only up to a point (``reason`` says how far; ``duration`` is the
    part that decodes, whose windows still reconstruct).
    """

    path: Path
    status: str = "pending"
    duration: float | None = None
    reason: str = ""

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class ClipWindow:
    """Which part of the current song is reconstructed: 5 s from ``offset`` or the whole song."""

    offset: float = 0.0
    whole_song: bool = False


@dataclass(frozen=True)
class Spectrum:
    """A display spectrogram: ``values[bands, frames]`` (natural-log power) over ``seconds``."""

    values: np.ndarray
    seconds: float


@dataclass(frozen=True)
class SourceData:
    """Everything shown for one source: audio ``[T]``, its spectrogram and quality figures.

    ``quality`` compares the source with the original (``None`` for the original itself);
    ``latent`` is the latent that decodes to ``audio`` (for the edit: after the edits), which
    File > Export latent saves.
    """

    audio: np.ndarray
    spectrum: Spectrum | None = None
    quality: Quality | None = None
    latent: SongLatent | None = None
    baseline: Quality | None = None
    """For the reconstruction: the same figures for pool+interp at the model's ratio."""
    envelope: tuple[np.ndarray, np.ndarray] | None = None
    """``(seconds, values)`` the waveform draws instead of every sample of a long source:
    each bin's minimum and maximum, computed off the GUI thread."""
    playable: bool = False
    """True when ``audio`` is float32, finite and in [-1, 1] (``views.figures.playable``): the
    player reads it without a copy."""


class AppState(QObject):
    """Model of the workbench; every setter emits the matching ``*_changed`` signal."""

    model_changed = Signal(object)
    library_changed = Signal()
    current_song_changed = Signal(object)
    window_changed = Signal(object)
    source_changed = Signal(str)
    partial_source = Signal(str, object)
    quality_changed = Signal(str)
    latents_changed = Signal(object)
    edit_params_changed = Signal(object)
    undo_changed = Signal(bool, bool)
    other_song_changed = Signal(object)
    message = Signal(str, str)
    classifier_changed = Signal(object)
    genre_changed = Signal(str)
    pca_changed = Signal(object)
    latent_bits_changed = Signal(int)
    visqol_changed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        from core.latent.edits import EditParams

        self._default_params = EditParams()
        self.model: LoadedModel | None = None
        self.model_error = ""
        self.library: list[LibraryEntry] = []
        self.current_path: Path | None = None
        self.window = ClipWindow()
        self.sources: dict[str, SourceData] = {}
        self.latents: SongLatent | None = None
        self.edit_params: EditParams = self._default_params
        self.other_path: Path | None = None
        self._undo: list[tuple[EditParams, str]] = []
        self._redo: list[EditParams] = []
        self.classifier: LoadedClassifier | None = None
        self.latent_pca: LatentPCA | None = None
        self.genre_probabilities: dict[str, np.ndarray] = {}
        self.latent_bits = 32
        self.visqol: dict[str, float | None] = {}

    # --- model -------------------------------------------------------------------------------
    def set_model(self, loaded: LoadedModel | None, error: str = "") -> None:
        """Make ``loaded`` (a ``core.models.io.LoadedModel`` or None) the current model."""
        self.model = loaded
        self.model_error = error
        self.model_changed.emit(loaded)

    # --- library -----------------------------------------------------------------------------
    def add_paths(self, paths: list[Path]) -> list[Path]:
        """Append songs not already in the library as pending; return the new ones."""
        known = {e.path for e in self.library}
        new = []
        for p in paths:
            p = Path(p)
            if p not in known:
                known.add(p)
                new.append(p)
                self.library.append(LibraryEntry(p))
        if new:
            self.library_changed.emit()
        return new

    def update_entry(self, entry: LibraryEntry) -> None:
        """Replace the entry with the same path (after probing)."""
        for i, old in enumerate(self.library):
            if old.path == entry.path:
                self.library[i] = entry
                self.library_changed.emit()
                return

    def update_entries(self, entries: list[LibraryEntry]) -> None:
        """Replace the entries with the same paths, then emit ``library_changed`` once.

        A dropped folder probes many files a second; one signal per batch keeps the views
        from rebuilding their lists once per file.
        """
        index = {e.path: i for i, e in enumerate(self.library)}
        changed = False
        for entry in entries:
            i = index.get(entry.path)
            if i is not None:
                self.library[i] = entry
                changed = True
        if changed:
            self.library_changed.emit()

    def remove_entry(self, path: Path) -> None:
        """Drop one song from the library."""
        self.library = [e for e in self.library if e.path != path]
        self.library_changed.emit()
        if self.current_path == path:
            self.set_current_song(None)

    def remove_entries(self, paths: list[Path]) -> None:
        """Drop these songs from the library (one ``library_changed``); the current song too
        when it is among them."""
        gone = {Path(p) for p in paths}
        if not gone & {e.path for e in self.library}:
            return
        self.library = [e for e in self.library if e.path not in gone]
        self.library_changed.emit()
        if self.current_path in gone:
            self.set_current_song(None)

    def entry(self, path: Path | None) -> LibraryEntry | None:
        """The library entry of ``path``, if any."""
        return next((e for e in self.library if e.path == path), None)

    def playable_entries(self) -> list[LibraryEntry]:
        """Entries that decoded fine."""
        return [e for e in self.library if e.status == "ok"]

    # --- current song and window -------------------------------------------------------------
    def set_current_song(self, path: Path | None) -> None:
        """Select the song to reconstruct (None clears every source)."""
        if path == self.current_path:
            return
        self.current_path = path
        self.window = ClipWindow(whole_song=self.window.whole_song)
        self.clear_sources()
        self.current_song_changed.emit(path)

    def set_window(self, window: ClipWindow) -> None:
        """Choose the part of the current song that is reconstructed."""
        if window != self.window:
            self.window = window
            self.window_changed.emit(window)

    def time_origin(self) -> float:
        """Song time, in seconds, of the first sample of the shown audio (0 for a whole song):
        views add it so axes and clock read song time, not time within the window."""
        return 0.0 if self.window.whole_song else float(self.window.offset)

    def set_other_song(self, path: Path | None) -> None:
        """The song interpolated toward (its latent over the same window)."""
        if path != self.other_path:
            self.other_path = path
            self.other_song_changed.emit(path)

    # --- sources -----------------------------------------------------------------------------
    def set_source(self, kind: str, data: SourceData | None) -> None:
        """Store one source's audio, spectrum and quality and emit ``source_changed(kind)``."""
        if kind not in SOURCES:
            raise ValueError(f"unknown source {kind!r}")
        if data is None:
            self.sources.pop(kind, None)
        else:
            self.sources[kind] = data
        self.source_changed.emit(kind)

    def show_partial(self, kind: str, envelope: tuple[np.ndarray, np.ndarray]) -> None:
        """The envelope of ``kind`` rendered so far, for the plots while it has no source yet
        (a whole-song edit being rendered); emits ``partial_source(kind, envelope)``."""
        if kind not in SOURCES:
            raise ValueError(f"unknown source {kind!r}")
        if kind not in self.sources:
            self.partial_source.emit(kind, envelope)

    def set_quality(self, kind: str, quality) -> None:
        """Replace the quality figures of ``kind`` (completed after a live edit)."""
        data = self.sources.get(kind)
        if data is not None:
            self.sources[kind] = dataclasses.replace(data, quality=quality)
            self.quality_changed.emit(kind)

    def source(self, kind: str) -> SourceData | None:
        """The data of ``kind`` (``"original"``, ``"recon"`` or ``"edited"``), or None."""
        return self.sources.get(kind)

    def audio(self, kind: str) -> np.ndarray | None:
        """Audio ``[T]`` of ``kind``, or None."""
        data = self.sources.get(kind)
        return None if data is None else data.audio

    def set_latents(self, z: SongLatent | None) -> None:
        """The current window's latents: a ``core.models.inference.SongLatent`` (``z[N, C, L]``)."""
        self.latents = z
        self.latents_changed.emit(z)

    def clear_sources(self) -> None:
        """Forget every source and latent (a new song or model is coming)."""
        for kind in SOURCES:
            if kind in self.sources:
                self.set_source(kind, None)
        for kind in list(self.visqol):
            self.set_visqol(kind, None)
        if self.latents is not None:
            self.set_latents(None)

    # --- bitrate and the slow perceptual figure -----------------------------------------------
    def set_latent_bits(self, bits: int) -> None:
        """Hear and measure the reconstruction with its latent stored at ``bits`` (32, 16, 8)."""
        if bits != self.latent_bits:
            self.latent_bits = int(bits)
            self.latent_bits_changed.emit(self.latent_bits)

    def set_visqol(self, kind: str, value: float | None) -> None:
        """ViSQOL of ``kind`` (``"recon"``, ``"baseline"``, ``"edited"``) against the original:
        a score, NaN while it is being computed, None when there is none."""
        if value is None:
            if kind not in self.visqol:
                return
            del self.visqol[kind]
        else:
            self.visqol[kind] = float(value)
        self.visqol_changed.emit(kind)

    # --- latent edits with undo --------------------------------------------------------------
    def set_edit_params(self, params, merge_key: str = "") -> None:
        """Set the latent-edit parameters (a ``core.latent.edits.EditParams``), recording undo.

        Consecutive changes with the same non-empty ``merge_key`` (one slider drag) make one undo
        step.
        """
        if params == self.edit_params:
            return
        if not (merge_key and self._undo and self._undo[-1][1] == merge_key):
            self._undo.append((self.edit_params, merge_key))
            del self._undo[:-UNDO_LIMIT]
        self._redo.clear()
        self._apply_params(params)

    def reset_edits(self) -> None:
        """Back to the identity edit (undoable)."""
        self.set_edit_params(self._default_params)

    def undo(self) -> bool:
        """Restore the parameters before the last change; False when there is none."""
        if not self._undo:
            return False
        previous, _ = self._undo.pop()
        self._redo.append(self.edit_params)
        self._apply_params(previous)
        return True

    def redo(self) -> bool:
        """Re-apply the last undone change; False when there is none."""
        if not self._redo:
            return False
        self._undo.append((self.edit_params, ""))
        self._apply_params(self._redo.pop())
        return True

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def _apply_params(self, params) -> None:
        self.edit_params = params
        self.edit_params_changed.emit(params)
        self.undo_changed.emit(self.can_undo(), self.can_redo())

    def replace_params(self, **changes) -> Any:
        """A copy of the current edit parameters with ``changes`` (not applied)."""
        return dataclasses.replace(self.edit_params, **changes)

    # --- exploration: genre classifier, genre probabilities, latent PCA ---------------------
    def set_classifier(self, loaded: LoadedClassifier | None) -> None:
        """The current model's genre classifier (a ``core.genre.files.LoadedClassifier``) or
        None; forgets every genre probability."""
        self.classifier = loaded
        for kind in list(self.genre_probabilities):
            self.set_genre_probabilities(kind, None)
        self.classifier_changed.emit(loaded)

    def set_genre_probabilities(self, kind: str, proba: np.ndarray | None) -> None:
        """Genre probabilities ``[n_genres]`` of source ``kind`` (None forgets them)."""
        if proba is None:
            if self.genre_probabilities.pop(kind, None) is None:
                return
        else:
            self.genre_probabilities[kind] = np.asarray(proba, dtype=np.float64)
        self.genre_changed.emit(kind)

    def set_latent_pca(self, pca: LatentPCA | None) -> None:
        """Principal directions of the model's latents (``core.latent.pca.LatentPCA``) or None."""
        self.latent_pca = pca
        self.pca_changed.emit(pca)

    # --- messages ----------------------------------------------------------------------------
    def info(self, text: str) -> None:
        """Show ``text`` in the status bar."""
        self.message.emit("info", text)

    def error(self, text: str) -> None:
        """Show an error in the status bar and the non-modal message area; never raises."""
        self.message.emit("error", text)
