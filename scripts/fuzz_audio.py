"""Fuzz the audio loader: mutated WAV/MP3/FLAC/Ogg bytes must load or raise AudioLoadError.

Usage: ``python scripts/fuzz_audio.py --count 10000 [--seed 0]`` (``make fuzz``). Prints
``"N inputs, K unexpected errors"`` and exits non-zero when K > 0; each unexpected error (another
exception type, non-finite or non-float32 output, a decode that hangs) is printed with the mutation
that caused it and the input is kept under ``--keep`` for replay.

``tests/core/test_fuzz_audio.py`` imports :func:`seed_corpus`, :func:`mutate` and :func:`check`
so the test suite and this script check the same property.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.audio.io import load_audio  # noqa: E402
from core.errors import AudioLoadError  # noqa: E402

HANG_SECONDS = 10


def seed_corpus(folder: Path, seconds: float = 0.25) -> dict[str, bytes]:
    """Valid files of every supported kind, as ``{file name: bytes}``, written via ``folder``."""
    rate = 16_000
    t = np.arange(int(seconds * rate)) / rate
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 660 * t)], 1) * 0.5
    stereo = stereo.astype(np.float32)
    specs = {
        "pcm16.wav": ("WAV", "PCM_16", stereo[:, :1]),
        "float.wav": ("WAV", "FLOAT", stereo),
        "stereo.flac": ("FLAC", "PCM_16", stereo),
        "stereo.mp3": ("MP3", "MPEG_LAYER_III", stereo),
        "vorbis.ogg": ("OGG", "VORBIS", stereo),
        "opus.opus": ("OGG", "OPUS", stereo),
    }
    corpus = {}
    for name, (fmt, subtype, data) in specs.items():
        path = folder / f"seed-{name}"
        sf.write(path, data, rate, format=fmt, subtype=subtype)
        corpus[name] = path.read_bytes()
        path.unlink()
    return corpus


def mutate(data: bytes, kind: int, a: float, b: float, donor: bytes, flips: int = 1) -> bytes:
    """Apply one mutation, parametrised by fractions ``a`` and ``b`` in [0, 1).

    ``kind`` 0: flip ``flips`` bits near ``a``; 1: truncate at ``a``; 2: splice ``donor``'s bytes
    from ``b`` onward in at ``a``; 3: overwrite a header byte (first 64 bytes) with ``b * 256``;
    4: duplicate a run of bytes (a repeated or misplaced chunk).
    """
    n = len(data)
    at = int(a * n)
    if kind == 0:
        out = bytearray(data)
        for i in range(flips):
            pos = (at + i * 7919) % n
            out[pos] ^= 1 << (int(b * 8 + i) % 8)
        return bytes(out)
    if kind == 1:
        return data[:at]
    if kind == 2:
        return data[:at] + donor[int(b * len(donor)):]
    if kind == 3:
        out = bytearray(data)
        out[at % min(n, 64)] = int(b * 256) & 0xFF
        return bytes(out)
    length = max(1, int(b * 512))
    return data[:at] + data[at:at + length] * 2 + data[at + length:]


def check(path: Path) -> str | None:
    """Load ``path``; return a description of an unexpected outcome, or None if all is well."""
    try:
        x = load_audio(path)
    except AudioLoadError as err:
        if os.path.basename(path) not in str(err):
            return f"AudioLoadError without the file name: {err}"
        return None
    except Exception as err:  # noqa: BLE001 - finding these is the point
        return f"{type(err).__name__}: {err}"
    if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 1 or x.size == 0:
        return f"bad result: {type(x).__name__} {getattr(x, 'dtype', '')} {np.shape(x)}"
    if not np.isfinite(x).all():
        return "non-finite samples returned"
    if np.abs(x).max() > 1.0 + 1e-6:
        return f"peak {np.abs(x).max()} > 1 after normalisation"
    return None


class _Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hang()


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the C decoders' diagnostics (mpg123 prints a note per resync) during the run."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="inputs to try")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None,
                        help="where failing inputs are kept (default: <temp>/celae-fuzz-failures)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    failures = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="celae-fuzz-") as tmp:
        folder = Path(tmp)
        keep = args.keep or Path(tempfile.gettempdir()) / "celae-fuzz-failures"
        corpus = seed_corpus(folder)
        names = sorted(corpus)
        signal.signal(signal.SIGALRM, _on_alarm)
        with _quiet_stderr():
            for i in range(args.count):
                name = names[rng.integers(len(names))]
                donor = corpus[names[rng.integers(len(names))]]
                kind, a, b = int(rng.integers(5)), float(rng.random()), float(rng.random())
                flips = int(rng.integers(1, 9))
                data = mutate(corpus[name], kind, a, b, donor, flips)
                path = folder / f"input{Path(name).suffix}"
                path.write_bytes(data)
                signal.alarm(HANG_SECONDS)
                try:
                    problem = check(path)
                except _Hang:
                    problem = f"no result after {HANG_SECONDS} s (hang)"
                finally:
                    signal.alarm(0)
                if problem:
                    failures += 1
                    keep.mkdir(parents=True, exist_ok=True)
                    kept = keep / f"{i:06d}-{name}"
                    kept.write_bytes(data)
                    print(f"#{i} {name} mutation={kind} a={a:.4f} b={b:.4f} flips={flips}: "
                          f"{problem} (kept as {kept})", flush=True)
    elapsed = time.monotonic() - started
    print(f"{args.count} inputs, {failures} unexpected errors ({elapsed:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
