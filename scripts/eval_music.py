"""Score models on held-out real music, beside pool+interp at the same ratio.

The held-out side is the ``test`` folder of ``bench-out/real_music/`` (``make music``): whole
tracks no bundled model was trained or validated on. From each track it scores up to
``--clips-per-track`` 5 s clips spread evenly over the track (a fixed choice, so every run and
every model sees the same clips), and prints a markdown table: ratio, latent floats per second,
SI-SDR, log-mel L1 and MR-STFT of each model and of pool+interp at its ratio, then the issue's
targets. Without model arguments it scores every bundled model.

Example::

    python scripts/eval_music.py --out bench-out/eval_real.md
    python scripts/eval_music.py celcodec4-real path/to/my-model
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.atomic import atomic_write_text  # noqa: E402
from core.audio.baseline import pool_interp  # noqa: E402
from core.audio.metrics import quality  # noqa: E402
from core.constants import SAMPLE_RATE  # noqa: E402
from core.data import load_clips, scan_dataset  # noqa: E402
from core.models.inference import reconstruct  # noqa: E402
from core.models.io import list_models, load_model  # noqa: E402


@dataclass
class Scored:
    name: str
    ratio: float
    floats_per_s: float
    si_sdr: float
    log_mel_l1: float
    mr_stft: float
    visqol: float = float("nan")


def held_out_clips(folder: str, per_track: int) -> tuple[np.ndarray, int]:
    """Up to ``per_track`` clips of each track, evenly spread; float32 ``[N, T]``, tracks."""
    clipset = load_clips(scan_dataset(folder))
    owners = np.asarray(clipset.song_of_clip)
    chosen = []
    for song in np.unique(owners):
        mine = np.flatnonzero(owners == song)
        take = np.unique(np.linspace(0, len(mine) - 1, min(per_track, len(mine))).round())
        chosen.extend(mine[take.astype(int)])
    clips = clipset.float_batch(np.asarray(chosen))
    keep = np.abs(clips).max(axis=1) > 1e-4  # silent intros say nothing about quality
    return clips[keep], len(np.unique(owners))


def score(name: str, ref: np.ndarray, est: np.ndarray, ratio: float, floats_per_s: float,
          visqol_clips: int = 0) -> Scored:
    q = quality(ref, est)
    v = float("nan")
    if visqol_clips:
        from core.audio.visqol import visqol_clips as vq

        # ViSQOL costs seconds a clip: a fixed, evenly spread subset of the same clips.
        pick = np.unique(np.linspace(0, len(ref) - 1, min(visqol_clips, len(ref))).round()
                         ).astype(int)
        v = float(np.nanmean(vq(ref[pick], est[pick])))
    return Scored(name, ratio, floats_per_s, q.si_sdr, q.log_mel_l1, q.mr_stft, v)


def baseline(ref: np.ndarray, ratio: float, visqol_clips: int = 0) -> Scored:
    return score(f"pool+interp 1/{ratio:g}", ref, pool_interp(ref, ratio), ratio,
                 SAMPLE_RATE / ratio, visqol_clips)


def markdown(rows: list[tuple[Scored, Scored]], header: str) -> str:
    lines = [header, "",
             "| model | ratio | latent floats/s | SI-SDR dB | log-mel L1 | MR-STFT | ViSQOL | "
             "pool+interp SI-SDR dB | pool+interp log-mel L1 | pool+interp MR-STFT | "
             "pool+interp ViSQOL |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for m, b in rows:
        lines.append(f"| {m.name} | 1/{m.ratio:g} | {m.floats_per_s:,.0f} | {m.si_sdr:.2f} | "
                     f"{m.log_mel_l1:.3f} | {m.mr_stft:.3f} | {m.visqol:.2f} | {b.si_sdr:.2f} | "
                     f"{b.log_mel_l1:.3f} | {b.mr_stft:.3f} | {b.visqol:.2f} |")
    return "\n".join(lines) + "\n"


def targets(rows: list[tuple[Scored, Scored]], base4: Scored) -> str:
    out = ["", "Targets:", ""]
    for m, b in rows:
        gain = m.si_sdr - b.si_sdr
        cut = 1 - m.log_mel_l1 / b.log_mel_l1
        ok = gain >= 3 and cut >= 0.30
        out.append(f"- {m.name}: {gain:+.2f} dB SI-SDR and {100 * cut:.0f} % lower log-mel L1 "
                   f"than pool+interp at 1/{m.ratio:g} -> beats it by >= 3 dB and >= 30 %: "
                   f"{'yes' if ok else 'no'}")
        if m.ratio >= 63:  # 1/64 up to the latent length's rounding
            out.append(f"- {m.name}: log-mel L1 {m.log_mel_l1:.3f} vs pool+interp 1/4 "
                       f"{base4.log_mel_l1:.3f} -> at most the 1/4 baseline's: "
                       f"{'yes' if m.log_mel_l1 <= base4.log_mel_l1 else 'no'}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", help="model names or folders (default: every bundled)")
    ap.add_argument("--data", default=str(ROOT / "bench-out" / "real_music" / "test"))
    ap.add_argument("--clips-per-track", type=int, default=4)
    ap.add_argument("--visqol", type=int, default=0, metavar="N",
                    help="also ViSQOL on N of the clips, evenly spread (about 5 s a clip)")
    ap.add_argument("--out", default=None, help="markdown file to write (and .json beside)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    names = args.models or [e.name for e in list_models() if e.source == "bundled"]
    ref, tracks = held_out_clips(args.data, args.clips_per_track)
    start = time.perf_counter()
    rows = []
    for name in names:
        loaded = load_model(name)
        model = loaded.model
        c, length = model.latent_shape()
        floats_per_s = c * length / (model.clip_samples / SAMPLE_RATE)
        # Samples per kept float, all channels counted: a 1/4 codec keeps 8 channels at 1/32.
        ratio = round(model.clip_samples / (c * length), 2)
        est = reconstruct(model, ref, batch_size=4)
        rows.append((score(loaded.name, ref, est, ratio, floats_per_s, args.visqol),
                     baseline(ref, ratio, args.visqol)))
    base4 = baseline(ref, 4)
    cmd = " ".join(argv if argv is not None else sys.argv[1:])
    header = (f"Held-out real music: {len(ref)} clips of 5 s from {tracks} test tracks of "
              f"`{args.data}` (up to {args.clips_per_track} per track), {SAMPLE_RATE} Hz; "
              f"pool+interp keeps as many values per clip as the model's latent. Command: "
              f"`python scripts/eval_music.py {cmd}`"
              f" ({time.perf_counter() - start:.0f} s).")
    text = markdown(rows, header) + targets(rows, base4)
    print(text)
    if args.out:
        atomic_write_text(args.out, text)
        atomic_write_text(Path(args.out).with_suffix(".json"), json.dumps(
            {"clips": len(ref), "tracks": tracks, "pool_interp_1_4": asdict(base4),
             "rows": [{"model": asdict(m), "baseline": asdict(b)} for m, b in rows]},
            indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
