"""Dataset folders: finding the songs (GTZAN or plain layout) and splitting them by song.

A GTZAN layout is a folder with one sub-folder of audio per genre (``blues/blues.00000.wav``);
the Kaggle download's extra nesting (``Data/genres_original/<genre>/...``) is found too. Any other
folder is "plain": every audio file below it, unlabelled.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.bounded_read import os_reason, regular_file_reason
from core.constants import AUDIO_EXTENSIONS
from core.errors import DatasetError

GTZAN_GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop",
                "reggae", "rock")
_GTZAN_ID = re.compile(r"^(" + "|".join(GTZAN_GENRES) + r")\.\d{5}$")
_MAX_NESTING = 3


@dataclass(frozen=True)
class Song:
    """One audio file of a dataset.

    ``song_id`` is the file stem (``"blues.00000"``) when stems are unique in the dataset, else
    the path relative to the dataset root; ``genre`` is None in a plain (unlabelled) folder.
    """

    path: Path
    genre: str | None
    song_id: str


@dataclass(frozen=True)
class DatasetIndex:
    """The songs of a dataset folder, sorted, and its genres (empty when unlabelled).

    ``skipped`` lists ``(path, reason)`` of entries that could not even be looked at (a symlink
    loop, a FIFO named like audio, a dangling link): they are reported, never silently dropped.
    """

    root: Path
    layout: str
    songs: tuple[Song, ...]
    genres: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Split:
    """A train/valid/test split where every song sits on exactly one side.

    ``train``/``valid``/``test`` are clip indices into the ClipSet that was split (empty when a
    DatasetIndex was split); the ``*_songs`` tuples name the songs. ``method`` says how it was
    made: ``"seeded"``, ``"gtzan-filtered"`` or ``"gtzan-filtered+seeded"``.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    train_songs: tuple[Song, ...]
    valid_songs: tuple[Song, ...]
    test_songs: tuple[Song, ...] = field(default=())
    method: str = "seeded"


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _audio_entry(entry: os.DirEntry, skipped: dict[str, str]) -> tuple[bool, bool]:
    """(is an audio file, is a visible folder); a broken entry is noted in ``skipped``."""
    if _hidden(entry.name):
        return False, False
    audio_name = os.path.splitext(entry.name)[1].lower() in AUDIO_EXTENSIONS
    try:
        is_file, is_dir = entry.is_file(), entry.is_dir()
    except OSError as err:  # a symlink loop raises here instead of answering False
        skipped[entry.path] = os_reason(err)
        return False, False
    if audio_name and not is_file and not is_dir:
        skipped[entry.path] = regular_file_reason(entry.path) or "not a regular file"
    return audio_name and is_file, is_dir


def _listdir(folder: Path, skipped: dict[str, str]) -> tuple[list[Path], list[Path]]:
    """Sorted (audio files, visible sub-folders) directly in ``folder``."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as err:
        raise DatasetError(f"{folder}: cannot list the folder ({err.strerror or err})") from err
    files, dirs = [], []
    for e in entries:
        is_audio, is_dir = _audio_entry(e, skipped)
        if is_audio:
            files.append(Path(e.path))
        elif is_dir:
            dirs.append(Path(e.path))
    return files, dirs


def _genre_root(folder: Path, skipped: dict[str, str]) -> Path | None:
    """The shallowest folder (within a few levels) holding no audio itself but at least two
    sub-folders that hold audio directly: GTZAN's ``<genre>/`` folders."""
    level = [folder]
    for _ in range(_MAX_NESTING + 1):
        nxt: list[Path] = []
        for d in level:
            files, dirs = _listdir(d, skipped)
            with_audio = [s for s in dirs if _listdir(s, skipped)[0]]
            if not files and len(with_audio) >= 2:
                return d
            nxt.extend(dirs)
        level = nxt
    return None


def _plain_files(folder: Path, skipped: dict[str, str]) -> list[Path]:
    found = []
    for dirpath, dirnames, _filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _hidden(d))
        found.extend(_listdir(Path(dirpath), skipped)[0])
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _ids(paths: Sequence[Path], root: Path) -> list[str]:
    stems = [p.name.rsplit(".", 1)[0] for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [p.relative_to(root).as_posix() for p in paths]


def scan_dataset(folder: str | os.PathLike) -> DatasetIndex:
    """Find the songs of a dataset folder.

    Parameters
    ----------
    folder : path
        A GTZAN-layout folder (``<genre>/<files>``, possibly nested as
        ``genres_original/<genre>/...``) or any folder of audio files (searched recursively).

    Returns
    -------
    DatasetIndex
        ``layout`` is ``"gtzan"`` (songs labelled by their folder; only audio directly inside a
        genre folder counts) or ``"plain"`` (unlabelled). Songs are sorted by path; hidden files
        and folders are skipped.

    Raises
    ------
    DatasetError
        The folder does not exist, cannot be read, or holds no audio file.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder" if root.exists() else f"{root}: no such folder")
    skipped: dict[str, str] = {}
    genre_root = _genre_root(root, skipped)
    if genre_root is not None:
        pairs = []
        for sub in _listdir(genre_root, skipped)[1]:
            pairs.extend((path, sub.name) for path in _listdir(sub, skipped)[0])
        paths = [p for p, _ in pairs]
        ids = _ids(paths, genre_root)
        songs = tuple(Song(p, g, i) for (p, g), i in zip(pairs, ids, strict=True))
        genres = tuple(sorted({g for _, g in pairs}))
        return DatasetIndex(root=genre_root, layout="gtzan", songs=songs, genres=genres,
                            skipped=tuple(sorted(skipped.items())))
    paths = _plain_files(root, skipped)
    if not paths:
        also = f"; skipped {len(skipped)} unreadable entries" if skipped else ""
        raise DatasetError(f"{root}: no audio files found (looked for "
                           f"{', '.join(AUDIO_EXTENSIONS)}, in sub-folders too{also})")
    songs = tuple(Song(p, None, i) for p, i in zip(paths, _ids(paths, root), strict=True))
    return DatasetIndex(root=root, layout="plain", songs=songs, genres=(),
                        skipped=tuple(sorted(skipped.items())))


# --- Splitting -----------------------------------------------------------------------------

def _gtzan_lists() -> dict[str, str] | None:
    """torchaudio's fault-filtered GTZAN split as {song id: "train"|"valid"|"test"}."""
    try:
        from torchaudio.datasets import gtzan
    except ImportError:
        return None
    side = {}
    for name, lst in (("train", gtzan.filtered_train), ("valid", gtzan.filtered_valid),
                      ("test", gtzan.filtered_test)):
        side.update(dict.fromkeys(lst, name))
    return side


def _song_genre(song: Song) -> str | None:
    m = _GTZAN_ID.match(song.path.name.rsplit(".", 1)[0])
    return song.genre or (m.group(1) if m else None)


def _seeded(songs: list[int], groups: list[Any], valid_fraction: float, test_fraction: float,
            rng: np.random.Generator) -> dict[int, str]:
    """Per group (genre), shuffle the songs and cut test, valid, then train from the front."""
    side: dict[int, str] = {}
    by_group: dict[Any, list[int]] = {}
    for s, g in zip(songs, groups, strict=True):
        by_group.setdefault(g, []).append(s)
    for g in sorted(by_group, key=str):
        members = [by_group[g][i] for i in rng.permutation(len(by_group[g]))]
        n = len(members)
        n_test = min(n - 1, int(np.floor(n * test_fraction + 0.5))) if n > 1 else 0
        n_valid = min(n - 1 - n_test, int(np.floor(n * valid_fraction + 0.5))) if n > 1 else 0
        for i, s in enumerate(members):
            side[s] = "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
    # Tiny datasets: per-genre rounding can leave a requested side empty; borrow one train song.
    for name, frac in (("valid", valid_fraction), ("test", test_fraction)):
        train = [s for s in songs if side.get(s) == "train"]
        if frac > 0 and name not in side.values() and len(train) > 1:
            side[train[int(rng.integers(len(train)))]] = name
    return side


def split_by_song(data: Any, valid_fraction: float = 0.2, seed: int = 0, *,
                  test_fraction: float = 0.0, use_gtzan_lists: bool | None = None) -> Split:
    """Split a dataset so that all clips of a song fall on the same side.

    Parameters
    ----------
    data : ClipSet or DatasetIndex
        What to split (anything with ``songs`` and, for clip indices, ``song_of_clip``).
    valid_fraction, test_fraction : float
        Share of songs held out, per genre when the songs are labelled (stratified).
    seed : int
        The same seed gives the same split.
    use_gtzan_lists : bool or None
        Use torchaudio's fault-filtered GTZAN split (``torchaudio.datasets.gtzan.filtered_train``,
        ``filtered_valid``, ``filtered_test``: artist-disjoint, with GTZAN's duplicated and
        mislabelled recordings removed) for songs whose ids are in those lists. ``None`` (auto)
        does so only when every file is named like ``genre.000NN`` and the lists give every genre
        present at least one train and one valid song (and a test song when ``test_fraction`` >
        0); a small synthetic GTZAN-named folder thus falls back to the seeded split. With
        ``test_fraction == 0`` the lists' test songs join train. Songs not in the lists (GTZAN's
        filtered-out faulty files, extra songs) are split by the seeded rule among themselves.

    Returns
    -------
    Split
    """
    if not 0.0 <= valid_fraction < 1.0 or not 0.0 <= test_fraction < 1.0 or \
            valid_fraction + test_fraction >= 1.0:
        raise ValueError("valid_fraction and test_fraction must be in [0, 1) with a sum below 1")
    songs: tuple[Song, ...] = tuple(data.songs)
    rng = np.random.default_rng(seed)
    genres = [_song_genre(s) for s in songs]
    side: dict[int, str] = {}
    method = "seeded"
    names_ok = bool(songs) and all(_GTZAN_ID.match(s.path.name.rsplit(".", 1)[0]) for s in songs)
    lists = _gtzan_lists() if names_ok and use_gtzan_lists is not False else None
    if lists is not None:
        listed = {}
        for i, s in enumerate(songs):
            where = lists.get(s.path.name.rsplit(".", 1)[0])
            if where is not None:
                listed[i] = "train" if where == "test" and test_fraction == 0 else where
        needed = {"train", "valid"} | ({"test"} if test_fraction > 0 else set())
        covered = all(needed <= {w for i, w in listed.items() if genres[i] == g}
                      for g in {genres[i] for i in listed})
        if listed and (use_gtzan_lists or covered):
            side.update(listed)
            method = "gtzan-filtered"
    rest = [i for i in range(len(songs)) if i not in side]
    if rest:
        side.update(_seeded(rest, [genres[i] for i in rest], valid_fraction, test_fraction, rng))
        if method != "seeded":
            method = "gtzan-filtered+seeded"
    by_side = {name: sorted(i for i, w in side.items() if w == name)
               for name in ("train", "valid", "test")}
    song_of_clip = getattr(data, "song_of_clip", None)

    def clips(idx: list[int]) -> np.ndarray:
        if song_of_clip is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.isin(np.asarray(song_of_clip), idx)).astype(np.int64)

    return Split(train=clips(by_side["train"]), valid=clips(by_side["valid"]),
                 test=clips(by_side["test"]),
                 train_songs=tuple(songs[i] for i in by_side["train"]),
                 valid_songs=tuple(songs[i] for i in by_side["valid"]),
                 test_songs=tuple(songs[i] for i in by_side["test"]), method=method)
