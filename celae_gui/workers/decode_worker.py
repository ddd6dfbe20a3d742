"""Decode dropped or opened files in the background: expand folders, check each file reads.

Each file is probed and a short slice decoded, so a truncated or mislabelled file is reported
with its reason in the library instead of failing later when it is selected. Once every file
has its status, the good ones are decoded whole (:func:`core.audio.verify.find_damage`, one
block in memory at a time): a file damaged part way through is then marked ``"damaged"``, with
how far it decodes.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal

from celae_gui.state import LibraryEntry
from celae_gui.workers.base import BaseWorker
from core.bounded_read import regular_file_reason
from core.constants import AUDIO_EXTENSIONS
from core.errors import CelaeError
from core.progress import Cancelled

PROBE_SECONDS = 0.5
BATCH_SECONDS = 0.1
"""Checked files are sent to the GUI at most this often, in one batch."""
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle")
"""Checkpoint and pickle files a user may drop by mistake (``core.models.io`` refuses them too)."""
PICKLE_REFUSAL = ("a pickle file (a PyTorch checkpoint?) is never opened, as it could run "
                  "arbitrary code; models are folders with model.safetensors and config.json, "
                  "chosen in the model selector")
UNLISTABLE = "permission denied (the folder cannot be listed)"


def _is_dir(path: Path) -> bool:
    # Not Path.is_dir(): it raises PermissionError for a path inside a folder this user cannot
    # enter, which crashed the whole drop; such a path is checked, and named, as a file.
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _audio_files(root: Path) -> list[Path]:
    """The audio files below ``root`` (hidden ones skipped), plus each folder below it that
    cannot be listed, so the library names it instead of skipping its songs unsaid."""
    found: list[Path] = []

    def unreadable(err: OSError) -> None:
        found.append(Path(err.filename))

    # Links to folders are not followed (as Path.rglob did): a link back up would loop.
    for folder, dirs, files in os.walk(root, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        # Not only regular files: a FIFO or a symlink loop named like audio is listed with its
        # reason instead of vanishing.
        found.extend(Path(folder) / f for f in files
                     if Path(f).suffix.lower() in AUDIO_EXTENSIONS and not f.startswith("."))
    return sorted(found)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, plus the audio files found (recursively, sorted, hidden ones skipped) in
    the folders given; a folder that cannot be listed is kept as a path of its own."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        out.extend(_audio_files(p) if _is_dir(p) else [p])
    return out


def check_whole_file(entry: LibraryEntry, should_stop) -> LibraryEntry | None:
    """Decode all of an ``"ok"`` entry's file; the ``"damaged"`` entry when it stops early."""
    from core.audio.verify import find_damage

    try:
        damage = find_damage(entry.path, should_stop=should_stop)
    except CelaeError as err:  # gone or changed since the quick check
        return LibraryEntry(entry.path, "error", None, str(err))
    if damage is None:
        return None
    # The duration is what decodes, so no window past the damage is offered.
    return LibraryEntry(entry.path, "damaged", damage.decoded_seconds,
                        f"{entry.name}: {damage.text()}")


def check_file(path: Path) -> LibraryEntry:
    """Probe ``path`` and decode its first half second; a LibraryEntry with status and reason."""
    from core.audio.io import load_audio, probe

    if _is_dir(path) and not os.access(path, os.R_OK | os.X_OK):
        return LibraryEntry(path, "error", None, f"{path.name}: {UNLISTABLE}")
    reason = regular_file_reason(path)
    if reason is None and not os.access(path, os.R_OK):
        reason = "permission denied"
    if reason:
        return LibraryEntry(path, "error", None, f"{path.name}: {reason}")
    if path.suffix.lower() in PICKLE_SUFFIXES:
        # Never opened, not even by the audio decoder: a pickle can run code when read.
        return LibraryEntry(path, "error", None, f"{path.name}: {PICKLE_REFUSAL}")
    try:
        info = probe(path)
        load_audio(path, duration=PROBE_SECONDS)
    except CelaeError as err:
        return LibraryEntry(path, "error", None, str(err))
    except Exception as err:  # soundfile can raise anything on hostile files: report, go on
        return LibraryEntry(path, "error", None, f"{path.name}: {err}")
    return LibraryEntry(path, "ok", float(info.duration), "")


@dataclass(frozen=True)
class EntryBatch:
    """Files checked since the last batch, and the failures of the whole drop so far (in the
    whole-file pass: the files found damaged so far)."""

    entries: list[LibraryEntry]
    failed: int
    first_failure: str


class DecodeWorker(BaseWorker):
    """Check a list of files and folders; ``discovered``, then ``entries_ready`` batches.

    ``discovered(list[Path])`` lists the files found (folders expanded) before any is probed,
    so the library can show them as pending at once. ``entries_ready(list[LibraryEntry])``
    carries an :class:`EntryBatch`: the files checked in the last :data:`BATCH_SECONDS`
    (every file exactly once) and the drop's failure count so far:
    one signal per file made the GUI rebuild the library a hundred times in a burst and froze
    it for 300-650 ms on a 100-file drop.
    """

    discovered = Signal(object)
    entries_ready = Signal(object)

    def __init__(self, paths: list[Path]):
        super().__init__()
        self._paths = [Path(p) for p in paths]

    def work(self) -> int:
        files = expand_paths(self._paths)
        self.discovered.emit(files)
        batch: list[LibraryEntry] = []
        failures: list[str] = []
        sent = time.monotonic()

        def send() -> None:
            self.entries_ready.emit(EntryBatch(batch, len(failures),
                                               failures[0] if failures else ""))

        good: list[LibraryEntry] = []
        for i, path in enumerate(files):
            if self.should_stop():
                raise Cancelled
            entry = check_file(path)
            batch.append(entry)
            if entry.status == "error":
                failures.append(entry.reason)
            else:
                good.append(entry)
            # The first file goes at once, so a single dropped song shows without delay.
            if i == 0 or time.monotonic() - sent >= BATCH_SECONDS:
                send()
                batch, sent = [], time.monotonic()
            self.on_progress((i + 1) / len(files), f"Decoded {path.name}")
        if batch:
            send()
        self._check_whole_files(good)
        return len(files)

    def _check_whole_files(self, entries: list[LibraryEntry]) -> None:
        """Second pass: each good file decoded whole; a damaged one is sent alone, at once.

        No progress is reported: this quiet check must not push the reconstruction's figures
        out of the status bar.
        """
        failures = 0
        for entry in entries:
            if self.should_stop():
                raise Cancelled
            found = check_whole_file(entry, self.should_stop)
            if found is not None:
                failures += 1
                self.entries_ready.emit(EntryBatch([found], failures, found.reason))
