"""Decoded clips of a dataset, cached on disk as one int16 memmap so a second open is instant.

Cache key
    Each file is fingerprinted by its size, its modification and change times (ns) and a BLAKE2
    hash of three 16 KiB samples of its bytes (start, middle, end). Hashing every byte of GTZAN
    (1.2 GB) would cost seconds on every open; size + mtime alone would miss a file re-encoded
    in place within the clock's resolution (the sampled bytes catch that) or edited in place with
    its mtime restored (``touch -r``: the change time catches that, only the kernel sets it).
    The entry key hashes the fingerprints, song ids and genres with the decode settings (rate,
    clip length, clips per song,
    cache version).

Layout and atomicity
    ``cache_dir()/clips/<tag>-<key>.i16`` holds the clips, raw int16 ``[N, T]``;
    ``<tag>-<key>.json`` holds the songs, clip counts, labels and decode errors. Both go through
    :func:`core.atomic.atomic_path`, data first: an entry counts only when its JSON exists and the
    data file has exactly the size the JSON promises, so a killed process leaves no entry that
    loads as garbage. The JSON keeps a CRC-32 of each song's clips, checked on every open: a
    data file damaged on disk is decoded again instead of being trained on.
    ``tag`` hashes the dataset folder and settings: a new entry for the same
    folder removes the older ones, so the cache does not grow with every change of the folder.

Decoding
    Songs are decoded by :func:`core.audio.io.load_audio` on a thread pool: libsndfile (via cffi)
    and soxr release the GIL, so threads scale across cores without the start-up cost of spawned
    processes (which re-import numpy/torch) and are safe when the caller has imported torch.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import logging
import os
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from core.atomic import atomic_path, atomic_write_text, write_reason
from core.audio.io import load_audio, split_clips
from core.constants import CLIP_SAMPLES, SAMPLE_RATE
from core.data.dataset import DatasetIndex, Song
from core.errors import AudioLoadError, DatasetError, WriteError
from core.paths import cache_dir
from core.progress import Cancelled, ProgressFn, StopFn, Throttle, never_stop, no_progress

CACHE_VERSION = 2
INT16_SCALE = 32768.0
"""int16 clip value = round(float sample * INT16_SCALE), clipped to the int16 range."""

_SAMPLE_BYTES = 16 * 1024
log = logging.getLogger(__name__)


class SongError(NamedTuple):
    """A song that could not be decoded: its path and the reason."""

    path: str
    reason: str


@dataclass(frozen=True, eq=False)
class ClipSet:
    """The clips of a dataset, int16 on disk (memmap) or in memory.

    Attributes
    ----------
    clips : np.ndarray
        int16 ``[N, T]``; ``float = int16 / 32768``.
    song_of_clip : np.ndarray
        int64 ``[N]``: index into ``songs`` of each clip's song.
    labels : np.ndarray
        int64 ``[N]``: index into ``genres``, -1 for unlabelled clips.
    songs : tuple of Song
        The songs that loaded, in dataset order.
    genres : tuple of str
        Genre names (empty when unlabelled).
    errors : tuple of SongError
        Songs that failed to decode and were left out.
    """

    clips: np.ndarray
    song_of_clip: np.ndarray
    labels: np.ndarray
    songs: tuple[Song, ...]
    genres: tuple[str, ...]
    errors: tuple[SongError, ...] = ()
    sample_rate: int = SAMPLE_RATE
    cache_path: Path | None = None

    def __len__(self) -> int:
        return int(self.clips.shape[0])

    @property
    def clip_samples(self) -> int:
        """Samples per clip, ``T``."""
        return int(self.clips.shape[1])

    def audio(self, i: int) -> np.ndarray:
        """Clip ``i`` as float32 ``[T]`` in [-1, 1)."""
        return self.clips[i].astype(np.float32) / np.float32(INT16_SCALE)

    def float_batch(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Clips ``indices`` as float32 ``[len(indices), T]``, in the order given.

        The rows are read in ascending order (sequential on disk) and put back in order.
        """
        idx = np.asarray(indices, dtype=np.int64)
        order = np.argsort(idx, kind="stable")
        out = np.empty((len(idx), self.clip_samples), dtype=np.float32)
        out[order] = self.clips[idx[order]]
        out *= np.float32(1.0 / INT16_SCALE)
        return out

    @classmethod
    def from_audio(cls, clips: np.ndarray, song_of_clip: Sequence[int] | None = None,
                   labels: Sequence[int] | None = None, genres: Sequence[str] = (),
                   songs: Sequence[Song] | None = None,
                   sample_rate: int = SAMPLE_RATE) -> ClipSet:
        """An in-memory ClipSet from float clips ``[N, T]`` (tests, generated data).

        By default every clip is its own song and unlabelled.
        """
        x = np.asarray(clips, dtype=np.float32)
        n = len(x)
        soc = np.arange(n) if song_of_clip is None else np.asarray(song_of_clip)
        if songs is None:
            songs = [Song(Path(f"clip{i:05d}"), None, f"clip{i:05d}") for i in
                     range(int(soc.max()) + 1 if n else 0)]
        lab = np.full(n, -1) if labels is None else np.asarray(labels)
        return cls(clips=_to_int16(x), song_of_clip=soc.astype(np.int64),
                   labels=lab.astype(np.int64), songs=tuple(songs), genres=tuple(genres),
                   sample_rate=sample_rate)


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * INT16_SCALE), -32768, 32767).astype(np.int16)


def _fingerprint(path: Path) -> str:
    """size:mtime:ctime:hash of three byte samples (see the module docstring for why)."""
    st = path.stat()
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for pos in sorted({0, max(0, st.st_size // 2 - _SAMPLE_BYTES // 2),
                           max(0, st.st_size - _SAMPLE_BYTES)}):
            fh.seek(pos)
            h.update(fh.read(_SAMPLE_BYTES))
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{h.hexdigest()}"


def _digest(obj: object) -> str:
    return hashlib.blake2b(json.dumps(obj, sort_keys=True).encode(), digest_size=12).hexdigest()


def _keep_clips(x: np.ndarray, clip_samples: int, max_clips: int | None) -> np.ndarray:
    """float ``[T]`` -> int16 clips ``[n, clip]``; a tail clip more than half padding is dropped
    unless it is the only one, then at most ``max_clips`` evenly spread clips are kept."""
    clips = split_clips(x, clip_samples)
    padding = len(clips) * clip_samples - len(x)
    if len(clips) > 1 and padding > clip_samples // 2:
        clips = clips[:-1]
    if max_clips is not None and len(clips) > max_clips:
        clips = clips[np.unique(np.linspace(0, len(clips) - 1, max_clips).round().astype(int))]
    return _to_int16(clips)


def _corrupt_song(clips: np.ndarray, counts: Sequence[int], checksums: Sequence[int]) -> int | None:
    """Index of the first song whose clips do not match their CRC-32, or None."""
    if len(counts) != len(checksums):
        raise ValueError("one checksum per song expected")
    start = 0
    for i, (n, crc) in enumerate(zip(counts, checksums, strict=True)):
        if zlib.crc32(clips[start:start + int(n)]) != int(crc):
            return i
        start += int(n)
    return None


def _decode(song: Song, sample_rate: int, clip_samples: int,
            max_clips: int | None) -> np.ndarray | SongError:
    try:
        x = load_audio(song.path, sample_rate)
        return _keep_clips(x, clip_samples, max_clips)
    except AudioLoadError as err:
        return SongError(str(song.path), err.reason)


def _open_entry(meta_path: Path, data_path: Path, key: str,
                index: DatasetIndex) -> ClipSet | None:
    """The cached ClipSet, or None when the entry is absent, stale or incomplete."""
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        if meta.get("version") != CACHE_VERSION or meta.get("key") != key:
            return None
        n, t = int(meta["n_clips"]), int(meta["clip_samples"])
        if data_path.stat().st_size != n * t * 2 or n == 0:
            return None
        clips = np.memmap(data_path, dtype=np.int16, mode="r", shape=(n, t))
        bad = _corrupt_song(clips, meta["clip_counts"], meta["checksums"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if bad is not None:
        log.warning("clip cache %s: the clips of %s do not match their checksum; decoding the "
                    "dataset again", data_path.name, meta["song_ids"][bad])
        return None
    by_id = {s.song_id: s for s in index.songs}
    songs = tuple(by_id[i] for i in meta["song_ids"] if i in by_id)
    if len(songs) != len(meta["song_ids"]):
        return None
    counts = np.asarray(meta["clip_counts"], dtype=np.int64)
    song_of_clip = np.repeat(np.arange(len(songs)), counts)
    genre_of = {g: i for i, g in enumerate(index.genres)}
    labels = np.asarray([genre_of.get(s.genre, -1) for s in songs], dtype=np.int64)[song_of_clip]
    return ClipSet(clips=clips, song_of_clip=song_of_clip, labels=labels, songs=songs,
                   genres=index.genres,
                   errors=tuple(SongError(*e) for e in (*index.skipped, *meta["errors"])),
                   sample_rate=int(meta["sample_rate"]), cache_path=data_path)


def load_clips(index: DatasetIndex, *, clip_samples: int = CLIP_SAMPLES,
               sample_rate: int = SAMPLE_RATE, max_clips_per_song: int | None = None,
               workers: int | None = None, on_progress: ProgressFn | None = None,
               should_stop: StopFn | None = None) -> ClipSet:
    """Decode a dataset into clips, or open them from the cache when nothing changed.

    Parameters
    ----------
    index : DatasetIndex
        From :func:`core.data.dataset.scan_dataset`.
    clip_samples, sample_rate : int
        Clip length ``T`` and decode rate. A 30 s song gives 6 clips of 5 s; a last clip that
        would be more than half zero-padding is dropped unless it is the song's only clip.
    max_clips_per_song : int or None
        Keep at most this many clips per song, evenly spread over it.
    workers : int or None
        Decoding threads (default: the number of CPUs, at most 8).
    on_progress, should_stop
        Progress ``(fraction, message)`` and cancel check, per song; a stop raises
        :class:`core.progress.Cancelled` and leaves no cache entry.

    Returns
    -------
    ClipSet
        Clips as an int16 memmap ``[N, T]`` opened read-only from the cache.

    Raises
    ------
    DatasetError
        No song could be decoded (a few reasons are listed). Songs that fail while others load
        are reported in ``ClipSet.errors`` instead.
    WriteError
        The cache could not be written (a full disk): no partial entry is left, and the
        message says where the cache is.
    """
    report = Throttle(on_progress or no_progress)
    stop = should_stop or never_stop
    settings = {"version": CACHE_VERSION, "sr": int(sample_rate), "clip": int(clip_samples),
                "max": max_clips_per_song}
    report(0.0, "Checking the clip cache")
    try:
        prints = [_fingerprint(s.path) for s in index.songs]
    except OSError as err:
        raise DatasetError(f"{index.root}: cannot read {Path(err.filename or '').name} "
                           f"({err.strerror or err}): scan the folder again") from err
    key = _digest([settings, [(s.song_id, s.genre, p) for s, p in
                              zip(index.songs, prints, strict=True)]])
    tag = _digest([settings, str(Path(index.root).resolve())])
    folder = cache_dir() / "clips"
    meta_path, data_path = folder / f"{tag}-{key}.json", folder / f"{tag}-{key}.i16"
    cached = _open_entry(meta_path, data_path, key, index)
    if cached is not None:
        report(1.0, f"Opened {len(cached)} clips from the cache{_skipped_note(cached)}")
        return cached
    try:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise WriteError(folder, write_reason(err)) from err
        song_ids, counts, checksums, errors = _decode_all(
            index, data_path, sample_rate, clip_samples, max_clips_per_song, workers, report,
            stop)
        if not song_ids:
            errors = [SongError(*e) for e in index.skipped] + errors
            reasons = "; ".join(f"{Path(e.path).name}: {e.reason}" for e in errors[:3])
            raise DatasetError(f"{index.root}: none of the {len(errors)} songs could be decoded "
                               f"({reasons}{'; ...' if len(errors) > 3 else ''})")
        try:
            atomic_write_text(meta_path, json.dumps({
                "version": CACHE_VERSION, "key": key, "root": str(index.root),
                "sample_rate": int(sample_rate), "clip_samples": int(clip_samples),
                "n_clips": int(sum(counts)), "song_ids": song_ids, "clip_counts": counts,
                "checksums": checksums, "errors": [list(e) for e in errors]}))
        except BaseException:
            # Without its JSON the data file is no entry, only space taken from a full disk.
            data_path.unlink(missing_ok=True)
            raise
    except WriteError as err:
        # The entry's name is a hash: say where the cache is and how to move it.
        raise WriteError(err.path, f"{err.reason}; the clip cache is in {folder}: free space "
                         "there or set CELAE_CACHE_DIR to another disk") from err
    _evict(folder, tag, key)
    result = _open_entry(meta_path, data_path, key, index)
    if result is None:
        raise DatasetError(f"{index.root}: the clip cache in {folder} could not be read back")
    report(1.0, f"Decoded {len(result)} clips from {len(song_ids)} songs{_skipped_note(result)}")
    return result


def _skipped_note(clipset: ClipSet) -> str:
    """Log every left-out file with its reason; a short note for the progress line."""
    for err in clipset.errors:
        log.warning("skipped %s: %s", err.path, err.reason)
    if not clipset.errors:
        return ""
    return f"; skipped {len(clipset.errors)} files (reasons in the log)"


def _decode_all(index: DatasetIndex, data_path: Path, sample_rate: int, clip_samples: int,
                max_clips: int | None, workers: int | None, report: ProgressFn,
                stop: StopFn) -> tuple[list[str], list[int], list[int], list[SongError]]:
    """Decode every song on a thread pool, appending clips to the data file in song order."""
    songs = index.songs
    n_workers = max(1, workers or min(8, os.cpu_count() or 1))
    song_ids: list[str] = []
    counts: list[int] = []
    checksums: list[int] = []
    errors: list[SongError] = []
    # A bounded window of futures keeps memory flat while results are written in order.
    window = 2 * n_workers
    with atomic_path(data_path) as tmp, open(tmp, "wb") as out, \
            ThreadPoolExecutor(n_workers, thread_name_prefix="celae-decode") as pool:
        pending: collections.deque[Future] = collections.deque()
        submitted = 0
        try:
            for done in range(len(songs)):
                while submitted < len(songs) and len(pending) < window:
                    pending.append(pool.submit(_decode, songs[submitted], sample_rate,
                                               clip_samples, max_clips))
                    submitted += 1
                if stop():
                    raise Cancelled()
                result = pending.popleft().result()
                song = songs[done]
                if isinstance(result, SongError):
                    errors.append(result)
                else:
                    out.write(result.tobytes())
                    song_ids.append(song.song_id)
                    counts.append(len(result))
                    checksums.append(zlib.crc32(result))
                report((done + 1) / len(songs), f"Decoded {song.path.name} "
                                                f"({done + 1}/{len(songs)})")
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    if not song_ids:
        with contextlib.suppress(OSError):
            data_path.unlink()
    return song_ids, counts, checksums, errors


def _evict(folder: Path, tag: str, key: str) -> None:
    """Remove older entries of the same folder and settings."""
    for entry in folder.glob(f"{tag}-*"):
        if not entry.name.startswith(f"{tag}-{key}."):
            with contextlib.suppress(OSError):
                entry.unlink()


def iter_batches(clipset: ClipSet, indices: Sequence[int] | np.ndarray, batch_size: int, *,
                 shuffle: bool = True, seed: int = 0, crop: int | None = None,
                 drop_last: bool = False) -> Iterator[np.ndarray]:
    """Yield float32 batches ``[B, T]`` (or ``[B, crop]``) of the clips ``indices``.

    The order is shuffled with ``seed`` (same seed, same batches); each batch is read from the
    memmap in ascending row order. With ``crop`` each clip is cut at a seeded random offset, for
    models trained on shorter windows.
    """
    idx = np.asarray(indices, dtype=np.int64)
    rng = np.random.default_rng(seed)
    if shuffle:
        idx = idx[rng.permutation(len(idx))]
    stop = len(idx) - len(idx) % batch_size if drop_last else len(idx)
    for start in range(0, stop, batch_size):
        batch = clipset.float_batch(idx[start:start + batch_size])
        if crop is not None and crop < batch.shape[1]:
            offsets = rng.integers(0, batch.shape[1] - crop + 1, len(batch))
            batch = np.stack([row[o:o + crop] for row, o in zip(batch, offsets, strict=True)])
        yield batch
