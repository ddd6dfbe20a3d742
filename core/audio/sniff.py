"""What an audio file really is, read from its first bytes, so a failure can be explained.

libsndfile's own messages mislead: it reports an empty file or a text file as "File does not
exist", and it silently shortens a WAV whose ``data`` chunk promises more bytes than the file
holds. This module reads the container header itself (RIFF/WAVE chunks, the FLAC and Ogg magic,
ID3 tags and MPEG frame headers) and returns a :class:`Sniff` that :mod:`core.audio.io` uses to
reject files it is sure about before decoding and to word the reason when libsndfile fails.
It never decodes audio.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

HEAD_BYTES = 64 * 1024
"""Bytes read from the start of a file to sniff it (ID3 tags with cover art can be longer; the
MPEG scan then just reports no frame found in that range)."""

_STREAMED_SIZE = 0xFFFFFFFF
_MAX_WAV_CHUNKS = 1000
_MPEG_SYNC_SCAN = 16 * 1024

# kbit/s by [version 1 or 2][layer 1..3][index]; MPEG 2.5 uses the version-2 rows.
_BITRATES = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class Sniff:
    """What the first bytes of a file say it is.

    Attributes
    ----------
    kind : str
        ``"wav"``, ``"rf64"``, ``"flac"``, ``"ogg"``, ``"mp3"``, ``"aiff"``, ``"other-audio"``
        (another container libsndfile knows), ``"text"`` or ``"unknown"``.
    problem : str or None
        A reason to reject the file that the header alone makes certain (truncated WAV data,
        zero channels, an ID3 tag with no audio after it...), or None.
    hint : str or None
        A better wording to use if libsndfile later fails or finds no samples, or None.
    wav_tag : int or None
        The WAV ``fmt`` format tag (1 PCM, 3 float, 0xFFFE extensible...), when read.
    """

    kind: str
    problem: str | None = None
    hint: str | None = None
    wav_tag: int | None = None


def sniff(fh: BinaryIO, size: int) -> Sniff:
    """Identify the file open as ``fh`` (``size`` bytes long) from its header.

    Parameters
    ----------
    fh : binary file object
        Open for reading; its position is changed.
    size : int
        The file's size in bytes (> 0).

    Returns
    -------
    Sniff
    """
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _sniff_wav(fh, head, size)
    if head[:4] == b"RF64":
        return Sniff("rf64")
    if head[:4] == b"fLaC":
        if size < 42:
            return Sniff("flac", problem=f"truncated: the FLAC header is cut short ({size} bytes)")
        return Sniff("flac")
    if head[:4] == b"OggS":
        if size < 28:
            return Sniff("ogg", problem=f"truncated: the Ogg header is cut short ({size} bytes)")
        return Sniff("ogg")
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return Sniff("aiff")
    if head[:3] == b"ID3" or _mpeg_header(head[:4]) is not None:
        return _sniff_mpeg(head, size)
    if head[:4] in (b".snd", b"caf ", b"riff", b"FORM", b"RIFX", b"wvpk", b"NIST", b"MThd"):
        return Sniff("other-audio")
    if looks_like_text(head):
        return Sniff("text")
    return Sniff("unknown")


def looks_like_text(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) reads as UTF-8 text with no NUL bytes."""
    sample = head[:4096]
    if not sample or b"\x00" in sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as err:
        # A multi-byte character cut by the 4096-byte window is still text.
        if err.start < len(sample) - 4:
            return False
        text = sample[: err.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\t\r\n\f" for ch in text)
    return printable >= 0.95 * max(1, len(text))


def _sniff_wav(fh: BinaryIO, head: bytes, size: int) -> Sniff:
    """Walk the RIFF chunks up to ``data`` and check what they promise against the file size."""
    tag = channels = rate = align = None
    pos = 12
    for _ in range(_MAX_WAV_CHUNKS):
        if pos + 8 > size:
            reason = f"truncated: the file ends before the WAV 'data' chunk ({size} bytes)"
            return Sniff("wav", problem=reason, wav_tag=tag)
        fh.seek(pos)
        chunk = fh.read(24)
        cid, csize = chunk[:4], struct.unpack("<I", chunk[4:8])[0]
        if cid == b"fmt ":
            if len(chunk) < 24:
                reason = f"truncated: the WAV header is cut short ({size} bytes)"
                return Sniff("wav", problem=reason)
            tag, channels, rate, _, align = struct.unpack("<HHIIH", chunk[8:22])
            if channels == 0:
                return Sniff("wav", problem="no channels (the WAV header says 0)", wav_tag=tag)
            if rate == 0:
                return Sniff("wav", problem="invalid sample rate: the header says 0 Hz",
                             wav_tag=tag)
        elif cid == b"data":
            return _check_wav_data(pos + 8, csize, size, align, tag)
        if csize == _STREAMED_SIZE:
            break
        pos += 8 + csize + (csize & 1)
    return Sniff("wav", wav_tag=tag)


def _check_wav_data(offset: int, data_size: int, size: int, align: int | None,
                    tag: int | None) -> Sniff:
    available = size - offset
    if data_size == 0 and available > 0:
        hint = ("too short to contain audio (the WAV 'data' chunk says 0 bytes: "
                "a recording that was never finalised?)")
        return Sniff("wav", hint=hint, wav_tag=tag)
    if data_size == _STREAMED_SIZE or not align:
        return Sniff("wav", wav_tag=tag)
    promised, present = data_size // align, max(0, available) // align
    if present < promised:
        reason = (f"truncated: header promises {promised} frames, only {present} "
                  "could be decoded")
        return Sniff("wav", problem=reason, wav_tag=tag)
    return Sniff("wav", wav_tag=tag)


def _mpeg_header(b: bytes) -> tuple[int, int] | None:
    """Return ``(frame_bytes, samples_per_frame)`` if ``b`` starts a valid MPEG audio frame."""
    if len(b) < 4 or b[0] != 0xFF or (b[1] & 0xE0) != 0xE0:
        return None
    version_bits, layer_bits = (b[1] >> 3) & 3, (b[1] >> 1) & 3
    bitrate_idx, rate_idx, padding = b[2] >> 4, (b[2] >> 2) & 3, (b[2] >> 1) & 1
    if version_bits == 1 or layer_bits == 0 or bitrate_idx in (0, 15) or rate_idx == 3:
        return None
    layer = 4 - layer_bits
    version = 1 if version_bits == 3 else 2
    bitrate = _BITRATES[(version, layer)][bitrate_idx] * 1000
    rate = _MPEG_RATES[version_bits][rate_idx]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4, 384
    samples = 576 if (layer == 3 and version == 2) else 1152
    return samples // 8 * bitrate // rate + padding, samples


def _id3_end(head: bytes) -> int:
    """Offset just past any ID3v2 tags at the start of ``head`` (0 if there are none)."""
    pos = 0
    while head[pos:pos + 3] == b"ID3" and len(head) >= pos + 10:
        raw = head[pos + 6:pos + 10]
        tag_size = (raw[0] & 0x7F) << 21 | (raw[1] & 0x7F) << 14 | (raw[2] & 0x7F) << 7 | (
            raw[3] & 0x7F)
        footer = 10 if head[pos + 5] & 0x10 else 0
        pos += 10 + tag_size + footer
    return pos


def _sniff_mpeg(head: bytes, size: int) -> Sniff:
    """Find the first MPEG audio frame after any ID3 tag and say what is wrong if there is none."""
    has_id3 = head[:3] == b"ID3"
    start = _id3_end(head)
    if has_id3 and len(head) < 10:
        return Sniff("mp3", problem=f"truncated: the ID3 tag is cut short ({size} bytes)")
    if start > size:
        return Sniff("mp3", problem=f"truncated: the file ends inside its ID3 tag ({size} bytes)")
    if start == size:
        return Sniff("mp3", problem="no audio: the file holds only an ID3 tag, no MPEG frames")
    if start >= len(head):
        return Sniff("mp3")  # a huge tag (cover art): let the decoder look for the frames
    for pos in range(start, min(len(head) - 3, start + _MPEG_SYNC_SCAN)):
        frame = _mpeg_header(head[pos:pos + 4])
        if frame is None:
            continue
        length = frame[0]
        if pos + length > size:
            if pos == start:
                return Sniff("mp3", problem=(
                    "truncated: the file ends inside the first MPEG audio frame "
                    f"({size} bytes)"))
            continue
        follower = head[pos + length:pos + length + 4]
        if pos + length == size or len(follower) < 4 or _mpeg_header(follower) is not None:
            return Sniff("mp3")
    if has_id3:
        return Sniff("mp3", problem="no audio: an ID3 tag followed by no MPEG audio frames")
    return Sniff("mp3", hint="not an audio file (no valid MPEG audio frames)")


def has_vbr_header(fh: BinaryIO) -> bool:
    """True when an MP3's first frame carries a Xing/Info/VBRI header.

    Only then does the decoder know the exact length; otherwise it estimates it from the file size
    and the first frame's bit rate, so a shorter decode proves nothing.
    """
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    start = _id3_end(head)
    first = head[start:start + 200]
    return any(marker in first for marker in (b"Xing", b"Info", b"VBRI"))


def explain_open_failure(s: Sniff, size: int, message: str) -> str:
    """Word the reason libsndfile could not open a file whose sniff is ``s``.

    Parameters
    ----------
    s : Sniff
        What the header said.
    size : int
        File size in bytes.
    message : str
        libsndfile's own message, kept in brackets where it adds something.
    """
    if s.problem:
        return s.problem
    if s.kind in ("text", "unknown") and size < 12:
        return f"too short to contain audio ({size} byte{'s' if size != 1 else ''})"
    if s.kind == "text":
        return "not an audio file (looks like text)"
    if s.kind == "unknown":
        return "not an audio file (unrecognised format)"
    if s.hint:
        return s.hint
    if s.kind == "wav" and s.wav_tag not in (None, 1, 3, 0xFFFE):
        return f"unsupported WAV encoding (format tag 0x{s.wav_tag:04X}; libsndfile: {message})"
    names = {"wav": "WAV", "rf64": "RF64", "flac": "FLAC", "ogg": "Ogg", "mp3": "MP3",
             "aiff": "AIFF", "other-audio": "audio"}
    return f"damaged or unsupported {names[s.kind]} file (libsndfile: {message})"
