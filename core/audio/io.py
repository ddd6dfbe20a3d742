"""Decoding, resampling, clipping and saving audio.

Every file is decoded with libsndfile (through ``soundfile``: WAV, FLAC, Ogg Vorbis/Opus, MP3,
AIFF...) in blocks of a couple of seconds, downmixed by averaging the channels and resampled
with a streaming ``soxr`` resampler, so memory stays bounded by the output whatever the source
rate, channel count or length. Every failure raises :class:`core.errors.AudioLoadError` with the
file name and a human reason; :mod:`core.audio.sniff` reads the header to find out what really
went wrong when libsndfile's own message would mislead.

Non-finite samples (NaN/Inf, possible only in float files) are rejected, not zeroed: such a file
is damaged, and silently patching it would hide that from the user.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from core.audio.halves import (
    FIRST_HALF,
    PARALLEL_MAX_SECONDS,
    PARALLEL_MIN_SECONDS,
    SecondHalf,
    mix,
)
from core.audio.quiet import quiet_native_stderr
from core.audio.sniff import Sniff, explain_open_failure, has_vbr_header, sniff
from core.bounded_read import os_reason, regular_file_reason
from core.constants import CLIP_SAMPLES, SAMPLE_RATE
from core.errors import AudioLoadError, TruncatedAudioError

MIN_SAMPLE_RATE = 1_000
"""Lowest source sample rate accepted, in Hz; below it a header is damaged, not audio."""

MAX_SAMPLE_RATE = 768_000
"""Highest source sample rate accepted, in Hz (the highest rate PCM hardware records)."""

MAX_LOAD_SECONDS = 2 * 3600
"""Longest stretch :func:`load_audio` returns at once (about 635 MB at 22 050 Hz); longer files
are read through a window (``offset``/``duration``) or :func:`iter_blocks`."""

BLOCK_SECONDS = 2.0
"""Source seconds decoded per block."""

_MAX_BLOCK_BYTES = 32 * 1024 * 1024
_MP3_BLOCK_SECONDS = 30.0
"""libsndfile 1.2.2's MP3 reader makes libmpg123 print a harmless "part2_3_length too large"
line to stderr on most partial reads (the samples are bit-identical to one whole read); fewer,
longer reads keep a user's terminal quiet while memory stays bounded (32 MiB cap)."""
_LOSSY_SLACK_FRAMES = 2 * 1152
_LIBSNDFILE_ERRORS = (sf.LibsndfileError, RuntimeError, OSError, ValueError, TypeError)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says about its audio.

    For MP3 without a Xing/Info header, ``frames`` is libsndfile's estimate from the file size.
    """

    path: Path
    sample_rate: int
    channels: int
    frames: int
    duration: float
    format: str
    subtype: str


@dataclass
class _Opened:
    file: sf.SoundFile
    info: AudioInfo
    sniff: Sniff
    slack: int | None
    """Source frames a full decode may fall short of the header without being truncated; None
    when the header's length is only an estimate (MP3 with no Xing/Info header)."""


def _stat_reason(path: str) -> tuple[str | None, int]:
    reason = regular_file_reason(path)
    if reason:
        return reason, 0
    size = os.stat(path).st_size
    return ("empty file (0 bytes)", 0) if size == 0 else (None, size)


@contextlib.contextmanager
def _open(path: str | os.PathLike) -> Iterator[_Opened]:
    """Open ``path`` for decoding after checking its header; raise AudioLoadError on any fault."""
    name = os.fspath(path)
    reason, size = _stat_reason(name)
    if reason:
        raise AudioLoadError(name, reason)
    try:
        with open(name, "rb") as fh:
            sn = sniff(fh, size)
            vbr = sn.kind == "mp3" and has_vbr_header(fh)
    except OSError as err:
        raise AudioLoadError(name, os_reason(err)) from err
    if sn.problem:
        raise AudioLoadError(name, sn.problem)
    try:
        # Bytes, not str: soundfile encodes a str name as UTF-8, which fails for a valid file
        # whose name is not (a Latin-1 name from an old disc, say).
        # libsndfile tries unrecognised bytes as MPEG too, and libmpg123 then talks.
        with quiet_native_stderr(sn.kind not in ("wav", "rf64", "flac", "ogg", "aiff")):
            f = sf.SoundFile(os.fsencode(name))
    except _LIBSNDFILE_ERRORS as err:
        message = getattr(err, "error_string", None) or str(err)
        raise AudioLoadError(name, explain_open_failure(sn, size, message.strip())) from err
    with f:
        if f.channels < 1:
            raise AudioLoadError(name, "no channels")
        if not MIN_SAMPLE_RATE <= f.samplerate <= MAX_SAMPLE_RATE:
            raise AudioLoadError(name, f"invalid sample rate: the header says {f.samplerate} Hz "
                                       f"(expected {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz)")
        frames = max(0, int(f.frames))
        info = AudioInfo(Path(name), int(f.samplerate), int(f.channels), frames,
                         frames / f.samplerate, str(f.format), str(f.subtype))
        if str(f.subtype).startswith("MPEG_LAYER"):
            slack = _LOSSY_SLACK_FRAMES if vbr else None
        else:
            slack = _LOSSY_SLACK_FRAMES if sn.kind == "ogg" else 0
        yield _Opened(f, info, sn, slack)


def probe(path: str | os.PathLike) -> AudioInfo:
    """Read a file's header: rate, channels, length, format. Decodes nothing.

    Parameters
    ----------
    path : str or PathLike
        The audio file.

    Returns
    -------
    AudioInfo

    Raises
    ------
    AudioLoadError
        If the file is missing, empty, not audio, has a damaged or truncated header, no
        channels or an impossible sample rate.
    """
    with _open(path) as opened:
        if opened.info.frames == 0:
            raise AudioLoadError(path, opened.sniff.hint or
                                 "too short to contain audio (the file holds 0 samples)")
        return opened.info


def _window(opened: _Opened, offset: float, duration: float | None) -> tuple[int, int]:
    """Source frames ``(start, count)`` of the requested window."""
    info = opened.info
    start = round(offset * info.sample_rate)
    if offset > 0 and start >= info.frames:
        raise AudioLoadError(info.path, f"offset {offset:g} s is past the end of the audio "
                                        f"({info.duration:.2f} s)")
    count = info.frames - start
    if duration is not None:
        count = min(count, max(1, round(duration * info.sample_rate)))
    return start, count


def _decode(path: str | os.PathLike, sample_rate: int, offset: float,
            duration: float | None, max_seconds: float | None,
            threads: int = 1) -> Iterator[int | np.ndarray]:
    """Yield the expected output length (an int, first), then resampled mono float32 chunks of
    the window (variable lengths, not normalised)."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if offset < 0 or not math.isfinite(offset):
        raise ValueError(f"offset must be a finite number >= 0, got {offset}")
    if duration is not None and (not duration > 0 or not math.isfinite(duration)):
        raise ValueError(f"duration must be a finite number > 0, got {duration}")
    with _open(path) as opened:
        f, info = opened.file, opened.info
        start, count = _window(opened, offset, duration)
        if count <= 0:
            raise AudioLoadError(path, opened.sniff.hint or
                                 "too short to contain audio (the file holds 0 samples)")
        if max_seconds is not None and count / info.sample_rate > max_seconds:
            raise AudioLoadError(path, f"too long to load at once ({count / info.sample_rate:.0f}"
                                       f" s; the limit is {max_seconds:.0f} s): load a window")
        if start:
            try:
                f.seek(start)
            except _LIBSNDFILE_ERRORS as err:
                raise AudioLoadError(path, f"cannot seek to {offset:g} s ({err})") from err
        yield math.ceil(count * sample_rate / info.sample_rate) + 1
        yield from _stream(opened, start, count, sample_rate, threads)


def _read_block(info: AudioInfo) -> int:
    """Source frames read at once from ``info``'s file."""
    seconds = _MP3_BLOCK_SECONDS if info.format == "MP3" else BLOCK_SECONDS
    return max(1, min(int(info.sample_rate * seconds), _MAX_BLOCK_BYTES // (4 * info.channels)))


def _stream(opened: _Opened, start: int, count: int, sample_rate: int,
            threads: int = 1) -> Iterator[np.ndarray]:
    f, info = opened.file, opened.info
    mp3 = info.format == "MP3"
    block = _read_block(info)
    buf = np.empty((block, info.channels), dtype=np.float32)
    resampler = (soxr.ResampleStream(info.sample_rate, sample_rate, 1, dtype="float32")
                 if info.sample_rate != sample_rate else None)
    done = produced = 0
    first = None
    half: SecondHalf | None = None
    later: list[np.ndarray] | None = None  # the second half's blocks, once trusted
    split = count
    if (threads > 1 and opened.slack is not None and count >= 4 * block
            and PARALLEL_MIN_SECONDS <= count / info.sample_rate <= PARALLEL_MAX_SECONDS):
        # The halves meet at a read boundary of the sequential decode: an MP3 decoder gives
        # other samples for a while after a read that ends elsewhere. This thread also reads
        # the second half's first block, to check it, and resamples its share meanwhile.
        split = max(1, int((FIRST_HALF * count - block) // block)) * block
        half = SecondHalf(info.path, info.channels, mp3, start + split, start + count, block)
        half.start()
    try:
        while done < count:
            with quiet_native_stderr(mp3):
                got = _read(f, info, start + done, min(block, count - done), buf)
            if done == split:
                # This block is the second half's first one, decoded sequentially: the second
                # half is used past it if its own (after a seek) is the same to the bit.
                half.join()
                trusted = (half.ok and half.head is not None and np.array_equal(got, half.head))
                later, half, split = (half.blocks[1:] if trusted else None), None, count
            if len(got) == 0:
                break
            # NaN/Inf in damaged float files are reported just below, not warned about here.
            mono = mix(got, info.channels)
            if not np.isfinite(mono).all():
                at = (start + done + int(np.argmin(np.isfinite(mono)))) / info.sample_rate
                raise AudioLoadError(info.path, f"contains NaN/Inf samples (damaged float data "
                                                f"at {at:.3f} s)")
            if first is None:
                first = mono[:1].copy()
            done += len(got)
            out = _finite(resampler.resample_chunk(mono), info) if resampler else mono
            produced += len(out)
            if len(out):
                yield out
            if later is not None:
                for mono in later:
                    done += len(mono)
                    out = _finite(resampler.resample_chunk(mono), info) if resampler else mono
                    produced += len(out)
                    if len(out):
                        yield out
                break
    finally:
        if half is not None:
            half.stop.set()
    if done == 0:
        raise AudioLoadError(info.path, opened.sniff.hint or _short_reason(info, start, None))
    if resampler:
        tail = _finite(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True), info)
        produced += len(tail)
        if len(tail):
            yield tail
    if produced == 0:
        # A source shorter than one output period still holds a sample: keep it.
        yield first
    if opened.slack is not None and done < count - opened.slack:
        raise _truncated(info, start + done, None)


def _read(f: sf.SoundFile, info: AudioInfo, at: int, want: int, buf: np.ndarray) -> np.ndarray:
    """Up to ``want`` frames from ``f`` (at source frame ``at``) into ``buf``; a read error is
    the file's truncation or damage, reported with how far it does decode."""
    try:
        return f.read(want, dtype="float32", always_2d=True, out=buf[:want])
    except _LIBSNDFILE_ERRORS as err:
        # A failed read of a long MP3 block loses the whole block: find how far the file
        # really decodes, so the message does not claim that nothing could be.
        good = _decodable_frames(info.path, at, want) if want > 1 else 0
        raise _truncated(info, at + good, err) from err


def _decodable_frames(path: Path, start: int, limit: int) -> int:
    """How many frames from ``start`` (at most ``limit``) decode, read in small blocks."""
    step = 4096
    good = 0
    try:
        with quiet_native_stderr(), sf.SoundFile(os.fsencode(path)) as f:
            f.seek(start)
            while good < limit:
                got = len(f.read(min(step, limit - good), dtype="float32", always_2d=True))
                if got == 0:
                    break
                good += got
    except _LIBSNDFILE_ERRORS:
        pass
    return good


def _finite(out: np.ndarray, info: AudioInfo) -> np.ndarray:
    # Finite float samples near 3e38 overflow the resampling filter.
    if not np.isfinite(out).all():
        raise AudioLoadError(info.path, "damaged float data (samples too large to resample)")
    return out


def _truncated(info: AudioInfo, decoded: int, err: BaseException | None) -> AudioLoadError:
    """The error of a file that decodes only up to source frame ``decoded``."""
    return TruncatedAudioError(info.path, _short_reason(info, decoded, err),
                               decoded / info.sample_rate, info.duration)


def _short_reason(info: AudioInfo, decoded: int, err: BaseException | None) -> str:
    if decoded == 0 and err is None:
        return "too short to contain audio (no samples could be decoded)"
    text = f"header promises {info.frames} frames, only {decoded} could be decoded"
    if err is None:
        return f"truncated: {text}"
    return f"truncated or damaged: {text} (libsndfile: {err})"


def iter_blocks(path: str | os.PathLike, block_seconds: float = BLOCK_SECONDS,
                sample_rate: int = SAMPLE_RATE, *, offset: float = 0.0,
                duration: float | None = None, threads: int = 1) -> Iterator[np.ndarray]:
    """Decode a file block by block: mono, resampled, not normalised.

    Memory stays bounded by one block whatever the file's length, so this is the way through
    songs longer than :data:`MAX_LOAD_SECONDS`.

    Parameters
    ----------
    path : str or PathLike
        The audio file.
    block_seconds : float
        Length of each yielded block; every block but the last holds exactly
        ``round(block_seconds * sample_rate)`` samples.
    sample_rate : int
        Output rate in Hz.
    offset, duration : float
        The window to decode, in seconds (``duration=None``: to the end).
    threads : int
        2 or more: a window of :data:`PARALLEL_MIN_SECONDS` to :data:`PARALLEL_MAX_SECONDS`
        has its second half decoded on another thread meanwhile (held until the first half is
        done: memory grows by that half's source samples). The blocks are the same to the
        bit; a file whose second half does not decode exactly as a sequential pass would
        (checked on the block at the seam), or shows any fault there, is read on sequentially.

    Yields
    ------
    np.ndarray
        float32 ``[B]`` blocks.

    Raises
    ------
    AudioLoadError
        As :func:`load_audio`; raised on the first iteration for header problems, later for
        damage found while decoding.
    """
    size = max(1, round(block_seconds * sample_rate))
    pending: list[np.ndarray] = []
    held = 0
    chunks = _decode(path, sample_rate, offset, duration, None, threads)
    next(chunks)  # the expected length
    for chunk in chunks:
        pending.append(chunk)
        held += len(chunk)
        if held < size:
            continue
        joined = np.concatenate(pending)
        cut = held - held % size
        yield from np.split(joined[:cut], cut // size)
        rest = joined[cut:]
        pending, held = ([rest.copy()] if len(rest) else []), len(rest)
    if held:
        yield np.concatenate(pending)


def load_audio(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE, *,
               normalize: bool = True, offset: float = 0.0,
               duration: float | None = None) -> np.ndarray:
    """Decode a file to mono float32 at ``sample_rate``, peak-normalised.

    Channels are averaged; the source is resampled with soxr (high quality) block by block, so
    memory stays bounded by the output. A window (``offset``, ``duration``) seeks to its start
    instead of decoding what comes before.

    Parameters
    ----------
    path : str or PathLike
        WAV, FLAC, Ogg (Vorbis/Opus), MP3, AIFF... at any rate and channel count.
    sample_rate : int
        Output rate in Hz.
    normalize : bool
        Divide by the peak magnitude (silence stays silence).
    offset : float
        Start of the window, in seconds.
    duration : float or None
        Length of the window in seconds; None reads to the end.

    Returns
    -------
    np.ndarray
        float32 ``[T]``, at least one sample.

    Raises
    ------
    AudioLoadError
        The file is missing, empty, not audio, truncated, damaged, holds NaN/Inf samples, has an
        impossible header, the offset is past its end, or the window is longer than
        :data:`MAX_LOAD_SECONDS`.
    """
    chunks = _decode(path, sample_rate, offset, duration, MAX_LOAD_SECONDS)
    # Filling one buffer sized from the header keeps the peak at one copy of the output; a list
    # of chunks joined at the end would need two (the difference is 318 MB for an hour).
    x = np.empty(next(chunks), dtype=np.float32)
    overflow: list[np.ndarray] = []
    filled = 0
    for chunk in chunks:
        take = min(len(chunk), len(x) - filled)
        x[filled:filled + take] = chunk[:take]
        filled += take
        if take < len(chunk):
            # Never seen (libsndfile stops at the header's frame count), but cheap to allow.
            overflow.append(chunk[take:])
    x = np.concatenate([x[:filled], *overflow]) if overflow else x[:filled]
    if normalize:
        _normalize_inplace(x)
    return x


def _normalize_inplace(x: np.ndarray) -> None:
    # max and -min instead of max(abs(x)): no temporary copy of a possibly hour-long signal.
    peak = max(float(x.max()), -float(x.min())) if x.size else 0.0
    if peak > 0:
        x /= np.float32(peak)


def peak_normalize(x: np.ndarray) -> np.ndarray:
    """Scale a signal so its largest magnitude is 1 (a silent signal is returned unchanged).

    Parameters
    ----------
    x : np.ndarray
        float ``[T]`` or ``[N, T]``, finite; one peak is taken over the whole array.

    Returns
    -------
    np.ndarray
        float32, same shape, a new array.
    """
    y = np.array(x, dtype=np.float32, copy=True)
    _normalize_inplace(y)
    return y


def split_clips(x: np.ndarray, clip_samples: int = CLIP_SAMPLES) -> np.ndarray:
    """Cut a signal into consecutive clips, zero-padding the last one.

    Parameters
    ----------
    x : np.ndarray
        float ``[T]``, ``T >= 1``.
    clip_samples : int
        Samples per clip.

    Returns
    -------
    np.ndarray
        float32 ``[N, clip_samples]`` with ``N = ceil(T / clip_samples)``.

    Raises
    ------
    ValueError
        If ``x`` is empty or not one-dimensional, or ``clip_samples < 1``.
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"split_clips expects a 1-D signal, got shape {x.shape}")
    if x.size == 0:
        raise ValueError("split_clips got an empty signal: there is nothing to cut into clips")
    if clip_samples < 1:
        raise ValueError(f"clip_samples must be >= 1, got {clip_samples}")
    n = -(-x.size // clip_samples)
    clips = np.zeros((n, clip_samples), dtype=np.float32)
    clips.reshape(-1)[: x.size] = x
    return clips
