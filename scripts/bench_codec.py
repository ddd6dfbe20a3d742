"""Codec benchmark: every bundled model at 32/16/8 bits against Opus, MP3 and pool+interp.

On held-out real music (one 5 s clip from the middle of each track, peak-normalised, 22 050 Hz
mono) it scores:

- each model in ``resources/models`` (whatever it holds), its latent stored at 32, 16 and 8 bits
  (``core.latent.quantize.roundtrip``), at the kbps that depth costs;
- pool+interp at each model's ratio (as many values per second as the latent; kbps as 16-bit);
- Opus and MP3 (Debian's ffmpeg) at the models' 16- and 8-bit bitrates ("matched") and at 6, 12
  and 24 kbps ("fixed"). Their kbps is measured from the encoded file's size (container
  included), not the requested rate: at 22 050 Hz MP3 only has 8-160 kbps.

Figures: SI-SDR (dB), log-mel L1, MR-STFT distance, ViSQOL v3 (audio mode, 48 kHz), means over
the clips. Prints a markdown table and writes it to ``--out``.

Held-out music: ``--music DIR``; by default the real_music corpus' test split
(``bench-out/real_music/test``) when it exists, else Debian's warzone2100-music
(``scripts/bench_music.sh`` installs it). That soundtrack is itself distributed as Opus, so
its references already passed through one codec. Audio is decoded in memory and in a temporary
folder only; nothing is written under the project but the table.

Example::

    python scripts/bench_codec.py --clips 12 --jobs 2
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.audio.baseline import pool_interp  # noqa: E402
from core.audio.io import load_audio, probe  # noqa: E402
from core.audio.metrics import DB_CAP, log_mel_l1, mr_stft_distance, si_sdr  # noqa: E402
from core.audio.visqol import visqol  # noqa: E402
from core.constants import AUDIO_EXTENSIONS, CLIP_SAMPLES, SAMPLE_RATE  # noqa: E402
from core.errors import CelaeError  # noqa: E402

CORPUS_TEST = ROOT / "bench-out" / "real_music" / "test"
WARZONE = Path("/usr/share/games/warzone2100/music")
FIXED_KBPS = (6, 12, 24)
MAX_LAG = 2048
"""Codec delay searched for (samples); a decoder that trims its own delay leaves lag 0."""


@dataclass
class System:
    """One row: how it codes the clips and what it costs."""

    name: str
    family: str
    kbps: float
    est: np.ndarray
    scores: dict[str, float] = field(default_factory=dict)
    note: str = ""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def music_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())


def held_out_clips(files: list[Path], count: int) -> tuple[np.ndarray, list[str]]:
    """One clip from the middle of each of ``count`` tracks spread over the sorted list."""
    pick = [files[i] for i in np.unique(np.linspace(0, len(files) - 1, count).round()
                                        .astype(int))]
    clips, names = [], []
    for path in pick:
        try:
            seconds = probe(path).duration
            x = load_audio(path, offset=max(0.0, seconds / 2 - 2.5), duration=5.0)
        except CelaeError as err:
            log(f"skipping {err}")
            continue
        if len(x) >= CLIP_SAMPLES and np.abs(x).max() > 0:
            clips.append(x[:CLIP_SAMPLES])
            names.append(path.name)
    if not clips:
        raise SystemExit("no usable music: give --music DIR")
    return np.stack(clips).astype(np.float32), names


def model_systems(clips: np.ndarray, bits: list[int]) -> list[System]:
    """Every bundled model at every depth, with pool+interp at its ratio."""
    from core.latent.bitrate import bitrate
    from core.latent.quantize import roundtrip
    from core.models.inference import decode, encode
    from core.models.io import list_models, load_model

    out = []
    for entry in (e for e in list_models() if e.source == "bundled"):
        loaded = load_model(entry.path)
        net = loaded.model
        rate = bitrate(net.latent_shape(), net.clip_samples, net.sample_rate)
        ratio = net.clip_samples / np.prod(net.latent_shape())
        z = encode(net, clips)
        for b in bits:
            est = decode(net, np.stack([roundtrip(zi, b) for zi in z]), length=clips.shape[1])
            out.append(System(f"{entry.name} {b}-bit", "model", rate.kbps[b], est))
        out.append(System(f"pool+interp 1/{ratio:.3g}", "pool+interp", rate.kbps[16],
                          pool_interp(clips, ratio)))
        log(f"{entry.name}: 1/{ratio:.3g}, {rate.text()}")
    return out


def _ffmpeg(*args: str) -> bytes:
    done = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args],
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace").strip()[-300:])
    return done.stdout


def _align(ref: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, int]:
    """``est`` shifted by the lag (within +-MAX_LAG) that best matches ``ref``."""
    n = len(ref)
    spec = np.fft.rfft(est, 2 * n) * np.conj(np.fft.rfft(ref, 2 * n))
    corr = np.fft.irfft(spec, 2 * n)
    lags = np.r_[np.arange(0, MAX_LAG + 1), np.arange(-MAX_LAG, 0)]
    lag = int(lags[np.argmax(corr[lags])])
    shifted = np.zeros_like(ref)
    if lag >= 0:
        shifted[:n - lag] = est[lag:n]
    else:
        shifted[-lag:] = est[:n + lag]
    return shifted, lag


def codec(clips: np.ndarray, kind: str, kbps: float, work: Path) -> tuple[np.ndarray, float, str]:
    """Encode each clip with ffmpeg, decode it back at 22 050 Hz; (audio, measured kbps, note)."""
    args = {"opus": ["-c:a", "libopus", "-application", "audio"],
            "mp3": ["-c:a", "libmp3lame"]}[kind]
    out = np.zeros_like(clips)
    sizes, lags = 0, []
    for i, x in enumerate(clips):
        src = work / "in.wav"
        enc = work / f"enc.{'opus' if kind == 'opus' else 'mp3'}"
        sf.write(src, x, SAMPLE_RATE, subtype="FLOAT")
        _ffmpeg("-i", str(src), *args, "-b:a", f"{kbps:g}k", "-map_metadata", "-1",
                "-fflags", "+bitexact", str(enc))
        sizes += enc.stat().st_size
        raw = _ffmpeg("-i", str(enc), "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-")
        y = np.frombuffer(raw, dtype=np.float32)[:clips.shape[1]]
        y = np.pad(y, (0, clips.shape[1] - len(y)))
        out[i], lag = _align(x, y)
        lags.append(lag)
    measured = sizes * 8 / 1000 / (clips.size / SAMPLE_RATE)
    notes = []
    if abs(measured - kbps) > 0.2 * kbps:
        notes.append(f"asked {kbps:g} kbps, the encoder's nearest rate at {SAMPLE_RATE} Hz")
    if any(lags):
        notes.append(f"delay {min(lags)}..{max(lags)} samples re-aligned")
    return out, measured, "; ".join(notes)


def codec_systems(clips: np.ndarray, matched: list[float], fixed: list[float]) -> list[System]:
    out = []
    with tempfile.TemporaryDirectory(prefix="celae-bench-codec-") as tmp:
        for kind in ("opus", "mp3"):
            for label, rates in (("matched", matched), ("fixed", fixed)):
                for kbps in rates:
                    try:
                        est, measured, note = codec(clips, kind, kbps, Path(tmp))
                    except RuntimeError as err:
                        log(f"{kind} at {kbps:g} kbps: {err}")
                        continue
                    name = f"{'Opus' if kind == 'opus' else 'MP3'} {kbps:g}k ({label})"
                    same = next((s for s in out if np.array_equal(s.est, est)), None)
                    if same is not None:  # the encoder chose the same rate: score it once
                        same.name += f" = {name}"
                        continue
                    out.append(System(name, kind, measured, est, note=note))
    return out


def score(systems: list[System], clips: np.ndarray, jobs: int) -> None:
    """The four figures of every system; ViSQOL (the slow one) in ``jobs`` processes."""
    for s in systems:
        s.scores["si_sdr"] = float(np.mean(np.clip(si_sdr(clips, s.est), -DB_CAP, DB_CAP)))
        s.scores["log_mel_l1"] = float(np.mean(log_mel_l1(clips, s.est)))
        s.scores["mr_stft"] = float(np.mean(mr_stft_distance(clips, s.est)))
    tasks = [(k, i) for k in range(len(systems)) for i in range(len(clips))]
    values: dict[int, list[float]] = {k: [] for k in range(len(systems))}
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {pool.submit(visqol, clips[i], systems[k].est[i], SAMPLE_RATE): k
                   for k, i in tasks}
        for n, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            values[futures[future]].append(future.result())
            if n % 10 == 0 or n == len(tasks):
                log(f"ViSQOL {n}/{len(tasks)} ({time.perf_counter() - started:.0f} s)")
    for k, s in enumerate(systems):
        kept = [v for v in values[k] if np.isfinite(v)]
        s.scores["visqol"] = float(np.mean(kept)) if kept else float("nan")


def table(systems: list[System]) -> str:
    rows = ["| system | kbps | SI-SDR dB | log-mel L1 | MR-STFT | ViSQOL | note |",
            "|---|---|---|---|---|---|---|"]
    for s in systems:
        v = s.scores
        rows.append(f"| {s.name} | {s.kbps:.1f} | {v['si_sdr']:.2f} | {v['log_mel_l1']:.3f} | "
                    f"{v['mr_stft']:.3f} | {v['visqol']:.2f} | {s.note} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--music", type=Path, default=None,
                   help="folder of held-out music (default: the corpus' test split, else "
                        f"{WARZONE})")
    p.add_argument("--clips", type=int, default=12, help="tracks to take one 5 s clip from")
    p.add_argument("--bits", type=int, nargs="+", default=[32, 16, 8])
    p.add_argument("--fixed-kbps", type=float, nargs="+", default=list(FIXED_KBPS))
    p.add_argument("--jobs", type=int, default=2, help="ViSQOL processes")
    p.add_argument("--out", type=Path, default=ROOT / "bench-out" / "codec.md")
    args = p.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is missing: run scripts/bench_ffmpeg.sh (make bench-codec does)")
    music = args.music or (CORPUS_TEST if CORPUS_TEST.is_dir() else WARZONE)
    clips, names = held_out_clips(music_files(music), args.clips)
    log(f"{len(clips)} clips from {music}")
    systems = model_systems(clips, args.bits)
    matched = sorted({round(s.kbps, 1) for s in systems if s.family == "model"
                      and any(s.name.endswith(f" {b}-bit") for b in (16, 8))})
    systems += codec_systems(clips, matched, args.fixed_kbps)
    score(systems, clips, args.jobs)
    text = (f"Held-out music: {len(clips)} clips of 5 s, one from the middle of each of "
            f"{len(names)} tracks under {music}; means over clips.\n\n{table(systems)}\n")
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from core.atomic import atomic_write_text

    atomic_write_text(args.out, text)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
