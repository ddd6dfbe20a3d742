"""Synthesised demo music in the GTZAN layout, so the app can be tried without a real dataset.

Each of the ten GTZAN genres has its own recipe: tempo range, drum pattern, instruments and
harmony (blues 12-bar dominant sevenths with a shuffle, classical strings without drums, jazz
ii-V-I with a walking bass and swung ride, metal fast distorted minor power chords, reggae
one-drop with an offbeat skank, disco four-on-the-floor...). Every song draws its key, tempo,
progression and instrument mix from a generator seeded by ``(seed, genre, index)``, so a dataset
is reproducible, songs of one genre differ, and genres differ in ways a classifier can learn.
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from core.atomic import atomic_path
from core.constants import SAMPLE_RATE
from core.data.demo_styles import GENRE_RECIPES
from core.data.synth import SongBuilder
from core.errors import AudioSaveError
from core.progress import Cancelled, ProgressFn, StopFn, Throttle, never_stop, no_progress

GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae",
          "rock")
"""The ten GTZAN genres, in the dataset's (alphabetical) order."""

FORMATS = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ogg": ("OGG", "VORBIS"),
}
"""Output formats: suffix -> (libsndfile format, subtype)."""

CONTRASTING_GENRES = ("classical", "metal", "jazz", "disco", "reggae", "hiphop", "blues",
                      "country", "pop", "rock")
"""Order in which :func:`write_demo_songs` picks genres: the most unlike ones first."""


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`write_demo_dataset` wrote."""

    root: Path
    files: tuple[Path, ...]
    genres: tuple[str, ...]
    songs_per_genre: int
    seconds: float
    sample_rate: int
    fmt: str
    seed: int
    elapsed_s: float

    def as_dict(self) -> dict:
        """JSON-ready summary (paths as strings), for the CLI's ``--json`` output."""
        return {"root": str(self.root), "files": len(self.files), "genres": list(self.genres),
                "songs_per_genre": self.songs_per_genre, "seconds": self.seconds,
                "sample_rate": self.sample_rate, "format": self.fmt, "seed": self.seed,
                "elapsed_s": round(self.elapsed_s, 3)}


def song_seed(seed: int, genre: str, index: int) -> np.random.SeedSequence:
    """The seed of one song: stable across runs and Python versions (no ``hash()``)."""
    return np.random.SeedSequence([int(seed), zlib.crc32(genre.encode("utf-8")), int(index)])


def synthesize_song(genre: str, seconds: float = 30.0, *, seed: int = 0, index: int = 0,
                    sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Synthesise one song of ``genre``.

    Parameters
    ----------
    genre : str
        One of :data:`GENRES`.
    seconds : float
        Length of the song.
    seed, index : int
        Together with ``genre`` they seed every random choice (key, tempo, progression, mix).
    sample_rate : int
        Output rate in Hz.

    Returns
    -------
    np.ndarray
        ``float32[round(seconds * sample_rate)]``, finite, peak between -3 and -1 dBFS.
    """
    if genre not in GENRE_RECIPES:
        raise ValueError(f"unknown genre {genre!r}; expected one of {', '.join(GENRES)}")
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    rng = np.random.default_rng(song_seed(seed, genre, index))
    song = SongBuilder(rng, int(round(seconds * sample_rate)), sample_rate)
    GENRE_RECIPES[genre](song)
    return _master(song.mix(), rng, sample_rate)


def _master(x: np.ndarray, rng: np.random.Generator, sr: int) -> np.ndarray:
    peak = float(np.abs(x).max())
    if not np.isfinite(peak) or peak < 1e-9:
        return np.zeros(len(x), dtype=np.float32)
    # Gentle bus saturation evens out drum peaks, as a mastering limiter would.
    x = np.tanh(x * np.float32(1.5 / peak))
    fade = min(len(x) // 4, int(0.02 * sr))
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade)
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    target = 10.0 ** (rng.uniform(-3.0, -1.0) / 20.0)
    # Lossy codecs overshoot a little; -1 dBFS at most leaves room so decoded files do not clip.
    x *= np.float32(target / max(1e-9, float(np.abs(x).max())))
    return x


def _write(path: Path, audio: np.ndarray, sr: int, fmt: str) -> None:
    major, subtype = FORMATS[fmt]
    # libsndfile's default (variable-rate) MP3 frames make libmpg123 print "part2_3_length too
    # large" warnings on every read; constant bit rate decodes cleanly.
    extra = {"bitrate_mode": "CONSTANT", "compression_level": 0.5} if fmt == "mp3" else {}
    try:
        with atomic_path(path) as tmp:
            sf.write(tmp, audio, sr, format=major, subtype=subtype, **extra)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioSaveError(path, f"could not write {fmt} ({exc})") from exc


def _check_format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


def write_demo_dataset(out: str | os.PathLike, *, songs_per_genre: int = 10,
                       seconds: float = 30.0, seed: int = 0, fmt: str = "wav",
                       on_progress: ProgressFn | None = None,
                       should_stop: StopFn | None = None) -> DemoSummary:
    """Write a GTZAN-layout folder of synthesised songs: ``OUT/<genre>/<genre>.000NN.<fmt>``.

    Parameters
    ----------
    out : path
        Folder to create or fill; existing files of the same names are replaced (atomically).
    songs_per_genre : int
        Songs per genre, numbered from ``00000``.
    seconds : float
        Length of each song (GTZAN's are 30 s).
    seed : int
        The same seed writes the same audio.
    fmt : {"wav", "flac", "mp3", "ogg"}
        Container; WAV and FLAC are 16-bit PCM.
    on_progress, should_stop
        Progress callback ``(fraction, message)`` and cancel check, called between songs;
        a stop raises :class:`core.progress.Cancelled` (finished songs stay on disk).

    Returns
    -------
    DemoSummary
    """
    fmt = _check_format(fmt)
    if songs_per_genre < 1:
        raise ValueError("songs_per_genre must be at least 1")
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise AudioSaveError(root, "exists and is not a folder")
    report = Throttle(on_progress or no_progress)
    stop = should_stop or never_stop
    total = songs_per_genre * len(GENRES)
    files: list[Path] = []
    started = time.perf_counter()
    for g, genre in enumerate(GENRES):
        for i in range(songs_per_genre):
            if stop():
                raise Cancelled()
            name = f"{genre}.{i:05d}.{fmt}"
            report((g * songs_per_genre + i) / total, f"Synthesising {name}")
            audio = synthesize_song(genre, seconds, seed=seed, index=i)
            path = root / genre / name
            _write(path, audio, SAMPLE_RATE, fmt)
            files.append(path)
    report(1.0, f"Wrote {total} songs to {root}")
    return DemoSummary(root=root, files=tuple(files), genres=GENRES,
                       songs_per_genre=songs_per_genre, seconds=float(seconds),
                       sample_rate=SAMPLE_RATE, fmt=fmt, seed=seed,
                       elapsed_s=time.perf_counter() - started)


def write_demo_songs(out: str | os.PathLike, n: int = 4, seconds: float = 15.0,
                     fmt: str = "mp3", seed: int = 0) -> tuple[Path, ...]:
    """Write the app's few demo songs, ``OUT/demo_<genre>.<fmt>``, in contrasting genres.

    The genres follow :data:`CONTRASTING_GENRES` (classical, metal, jazz, disco, ...), so even
    ``n=2`` gives two songs that sound nothing alike. Returns the paths written.
    """
    fmt = _check_format(fmt)
    if not 1 <= n <= len(CONTRASTING_GENRES):
        raise ValueError(f"n must be between 1 and {len(CONTRASTING_GENRES)}")
    root = Path(out)
    paths = []
    for genre in CONTRASTING_GENRES[:n]:
        path = root / f"demo_{genre}.{fmt}"
        # A seed offset keeps the demo songs distinct from the demo dataset's first songs.
        audio = synthesize_song(genre, seconds, seed=seed + 7919, index=0)
        _write(path, audio, SAMPLE_RATE, fmt)
        paths.append(path)
    return tuple(paths)
