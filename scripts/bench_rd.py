"""Rate-distortion benchmark: the no-learning baseline, the report's models and CELCodec.

For each latent ratio (samples per kept value: 2, 4, 10, 32, 64 by default) it scores, on
held-out songs (split by song, never by clip):

- ``pool+interp``: average-pool to the same number of latent values, linear interpolation back;
- the report's model (``CELAutoencoderSiLU``, ``CELAutoencoder2``, ``CELAutoencoder3``) where
  one exists at that ratio, trained on waveform MSE (its own recipe);
- the ``CELCodec`` preset of that ratio, trained on the composite loss its config names;

every model trained for the same wall-clock budget on the same random crops of the same
training songs (``--jobs 2`` trains two models at a time, one per core, each on one thread).
Scores: SI-SDR (dB, higher is better), log-mel L1 and multi-resolution STFT distance (lower is
better), averaged over held-out 5 s clips. Prints a markdown table and writes it to ``--out``.

Data: ``--data demo`` synthesises (once, into the cache folder) a GTZAN-layout demo set;
``--data games`` uses the freely licensed game soundtracks Debian ships under /usr/share/games
(``apt-get install warzone2100-music`` or ``wesnoth-1.16-music``); a folder path uses every audio
file under it, one song per file. Audio is decoded in memory only and never written anywhere.

Example::

    python scripts/bench_rd.py --budget-seconds 180 --ratios 2 4 10 32 64
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import math
import multiprocessing
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.audio.baseline import pool_interp  # noqa: E402
from core.audio.io import load_audio, split_clips  # noqa: E402
from core.audio.metrics import DB_CAP, log_mel_l1, quality, si_sdr  # noqa: E402
from core.constants import AUDIO_EXTENSIONS, CLIP_SAMPLES, SAMPLE_RATE  # noqa: E402
from core.data import ClipSet, Split  # noqa: E402
from core.errors import CelaeError  # noqa: E402
from core.latent.pca import apply_pc_offsets, fit_latent_pca, save_latent_pca  # noqa: E402
from core.models import build_model  # noqa: E402
from core.models.inference import decode, encode, reconstruct  # noqa: E402
from core.paths import cache_dir  # noqa: E402
from core.training import TrainConfig, train  # noqa: E402

REPORT_MODELS = {2: "CELAutoencoderSiLU", 4: "CELAutoencoder2", 10: "CELAutoencoder3"}
GAME_MUSIC_GLOBS = ("/usr/share/games/*/music/**/*", "/usr/share/games/*/data/core/music/*",
                    "/usr/share/games/*/base/music/**/*")


@dataclass
class Source:
    """One data source: its songs, split by song into training and held-out sets."""

    name: str
    train: list[np.ndarray]
    test_clips: np.ndarray
    n_songs: int


@dataclass
class Row:
    ratio: int
    method: str
    si_sdr: dict[str, float] = field(default_factory=dict)
    log_mel: dict[str, float] = field(default_factory=dict)
    mr_stft: dict[str, float] = field(default_factory=dict)
    params: int = 0
    steps: int = 0
    train_s: float = 0.0
    decode_ms: float = float("nan")
    pca_counts: dict[str, int] = field(default_factory=dict)
    slider_ms: float = float("nan")
    # Per held-out clip, for the paired comparisons of the target lines.
    clip_si_sdr: dict[str, np.ndarray] = field(default_factory=dict)
    clip_log_mel: dict[str, np.ndarray] = field(default_factory=dict)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def game_music_files() -> list[Path]:
    found: set[Path] = set()
    for pattern in GAME_MUSIC_GLOBS:
        for p in glob.glob(pattern, recursive=True):
            if Path(p).suffix.lower() in AUDIO_EXTENSIONS and os.path.isfile(p):
                found.add(Path(p))
    return sorted(found)


def folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)


def demo_files(seconds: float, songs_per_genre: int) -> list[Path]:
    from core.data.demo import write_demo_dataset

    root = cache_dir() / "bench-rd" / f"demo-{songs_per_genre}x{int(seconds)}s"
    done = root / ".complete"
    if not done.exists():
        log(f"synthesising demo set into {root}")
        write_demo_dataset(root, songs_per_genre=songs_per_genre, seconds=seconds, seed=0)
        done.write_text("ok\n")
    return folder_files(root)


def load_source(name: str, files: list[Path], *, offset: float, seconds: float,
                valid_fraction: float, eval_clips: int, seed: int) -> Source:
    """Decode the songs, hold out whole songs, cut the held-out ones into 5 s clips."""
    songs = []
    for path in files:
        try:
            audio = load_audio(path, offset=offset, duration=seconds)
        except CelaeError:
            # A track shorter than the offset: take it from its start instead.
            audio = load_audio(path, duration=seconds)
        if audio.size >= CLIP_SAMPLES and np.abs(audio).max() > 0:
            songs.append(audio)
    if len(songs) < 2:
        raise SystemExit(f"{name}: need at least 2 usable songs, found {len(songs)}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(songs))
    n_test = max(1, round(valid_fraction * len(songs)))
    test = [songs[i] for i in order[:n_test]]
    train = [songs[i] for i in order[n_test:]]
    clips = np.concatenate([split_clips(s)[: max(1, s.size // CLIP_SAMPLES)] for s in test])
    if len(clips) > eval_clips:
        clips = clips[np.sort(rng.choice(len(clips), eval_clips, replace=False))]
    log(f"{name}: {len(songs)} songs ({len(train)} train, {len(test)} held out), "
        f"{len(clips)} test clips")
    return Source(name, train, clips.astype(np.float32), len(songs))


def training_clips(songs: list[np.ndarray], seed: int) -> tuple[ClipSet, Split]:
    """The training songs as 5 s clips, one song in ten (at least one) held out for the
    trainer's validation (its best-model choice), split by song like every other split."""
    rows, owner = [], []
    for k, song in enumerate(songs):
        clips = split_clips(song)[: max(1, song.size // CLIP_SAMPLES)]
        rows.append(clips)
        owner += [k] * len(clips)
    clipset = ClipSet.from_audio(np.concatenate(rows), song_of_clip=owner)
    rng = np.random.default_rng(seed)
    held = set(rng.permutation(len(songs))[: max(1, len(songs) // 10)].tolist())
    owner_arr = np.asarray(owner)
    valid = np.flatnonzero(np.isin(owner_arr, list(held)))
    train = np.flatnonzero(~np.isin(owner_arr, list(held)))
    return clipset, Split(train=train, valid=valid, test=train[:0], train_songs=(),
                          valid_songs=())


def train_for_budget(arch: str, loss_name: str, songs: list[np.ndarray],
                     args: argparse.Namespace) -> tuple[torch.nn.Module, int, float]:
    """``celae train``'s trainer on random crops for ``--budget-seconds`` of wall time, Adam
    with a learning rate decaying linearly to 10 % over the budget; (model, steps, seconds)."""
    clipset, split = training_clips(songs, args.seed)
    config = TrainConfig(arch=arch, loss=loss_name, epochs=100_000, batch_size=args.batch,
                         lr=args.lr, seed=args.seed, device="cpu", patience=None,
                         crop=args.crop, max_minutes=args.budget_seconds / 60.0,
                         lr_schedule="linear", grad_clip=1.0, threads=args.threads,
                         num_workers=1)
    start = time.perf_counter()
    result = train(config, clipset, split=split)
    steps = sum(int(h["steps"]) for h in result.history)
    return result.model, steps, time.perf_counter() - start


def decode_ms(model: torch.nn.Module) -> float:
    """Median time to decode one 5 s clip's latent (what a latent slider change costs)."""
    z = encode(model, np.zeros((1, CLIP_SAMPLES), dtype=np.float32))
    times = []
    for _ in range(5):
        t = time.perf_counter()
        decode(model, z)
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def latent_pca_figures(model: torch.nn.Module, songs: list[np.ndarray], row: Row):
    """Fit the latent PCA on training clips; time a principal-direction slider change."""
    clips = np.concatenate([split_clips(s)[: s.size // CLIP_SAMPLES] for s in songs])[:32]
    pca = fit_latent_pca(model, clips, batch_size=4)
    row.pca_counts = pca.thresholds
    z = encode(model, clips[:1])
    times = []
    for i in range(9):
        offsets = np.zeros(min(8, pca.n_components), dtype=np.float32)
        offsets[i % offsets.size] = 1.0 + 0.1 * i
        t = time.perf_counter()
        decode(model, apply_pc_offsets(z, pca, offsets))
        times.append(time.perf_counter() - t)
    row.slider_ms = 1000 * statistics.median(times)
    return pca


def score(row: Row, sources: list[Source], fn) -> None:
    for src in sources:
        est = fn(src.test_clips)
        q = quality(src.test_clips, est)
        row.si_sdr[src.name] = q.si_sdr
        row.log_mel[src.name] = q.log_mel_l1
        row.mr_stft[src.name] = q.mr_stft
        row.clip_si_sdr[src.name] = np.clip(si_sdr(src.test_clips, est), -DB_CAP, DB_CAP)
        row.clip_log_mel[src.name] = np.asarray(log_mel_l1(src.test_clips, est))


def paired(a: np.ndarray, b: np.ndarray, *, higher_is_better: bool, seed: int = 0,
           draws: int = 10_000) -> str:
    """Mean of ``a - b`` over the same clips, its 95 % bootstrap interval, clips where a wins."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, (draws, d.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    wins = int((d > 0).sum() if higher_is_better else (d < 0).sum())
    return f"{d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}], better on {wins}/{d.size} clips"


def run_model(arch: str, loss: str, ratio: int, sources: list[Source],
              args: argparse.Namespace, label: str) -> Row:
    # The same seed for every model: each sees the same crops, whatever the order or job.
    songs = [s for src in sources for s in src.train]
    log(f"1/{ratio} {arch}: training {args.budget_seconds:.0f} s on `{loss}`")
    model, steps, seconds = train_for_budget(arch, loss, songs, args)
    row = Row(ratio, f"{label} `{arch}`", params=model.num_parameters(), steps=steps,
              train_s=seconds)
    score(row, sources, lambda clips: reconstruct(model, clips, batch_size=4))
    row.decode_ms = decode_ms(model)
    pca = latent_pca_figures(model, songs, row) if label == "CELCodec" else None
    log(f"  {row.steps} steps; " + ", ".join(
        f"{s}: {row.si_sdr[s]:.2f} dB / {row.log_mel[s]:.3f}" for s in row.si_sdr))
    if args.save_models:
        from core.models.io import save_model

        folder = Path(args.save_models) / f"{arch}-{int(args.budget_seconds)}s"
        save_model(model, folder, summary={"bench_rd": {"loss": loss, "steps": row.steps,
                                                        "train_seconds": row.train_s}})
        if pca is not None:
            save_latent_pca(pca, folder)
    return row


_WORKER: dict = {}


def _init_worker(sources: list[Source], args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    _WORKER.update(sources=sources, args=args)


def _run_job(job: tuple[str, str, int, str]) -> Row:
    arch, loss, ratio, label = job
    return run_model(arch, loss, ratio, _WORKER["sources"], _WORKER["args"], label)


def train_all(jobs: list[tuple[str, str, int, str]], sources: list[Source],
              args: argparse.Namespace) -> list[Row]:
    """Train and score every job, ``args.jobs`` at a time (in spawned processes when > 1)."""
    if args.jobs <= 1:
        return [run_model(arch, loss, ratio, sources, args, label)
                for arch, loss, ratio, label in jobs]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context,
                                                initializer=_init_worker,
                                                initargs=(sources, args)) as pool:
        return list(pool.map(_run_job, jobs))


def markdown(rows: list[Row], sources: list[Source], args: argparse.Namespace) -> str:
    names = [s.name for s in sources]
    head = ["ratio", "method"]
    for n in names:
        head += [f"SI-SDR dB ({n})", f"log-mel L1 ({n})", f"MR-STFT ({n})"]
    head += ["params", "train steps", "train s", "decode 5 s ms"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"1/{r.ratio}", r.method]
        for n in names:
            cells += [f"{r.si_sdr[n]:.2f}", f"{r.log_mel[n]:.3f}", f"{r.mr_stft[n]:.3f}"]
        learned = r.steps > 0
        cells += [f"{r.params:,}" if learned else "-", str(r.steps) if learned else "-",
                  f"{r.train_s:.0f}" if learned else "-",
                  f"{r.decode_ms:.0f}" if learned else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    pcs = ["| ratio | model | PCs for 80 / 90 / 95 / 99 % | PC-slider change, 5 s clip, ms |",
           "|---|---|---|---|"]
    pcs += [f"| 1/{r.ratio} | {r.method} | "
            + " / ".join(str(r.pca_counts[k]) for k in ("80", "90", "95", "99"))
            + f" | {r.slider_ms:.0f} |" for r in rows if r.pca_counts]
    return ("\n".join(lines) + "\n\n" + targets(rows, names) + "\nLatent PCA (per frame, "
            "fitted on up to 32 training clips); slider change = offsets + decode, median of 9:"
            "\n\n" + "\n".join(pcs) + "\n")


def targets(rows: list[Row], names: list[str]) -> str:
    """The issue's targets, checked on each source."""
    out = ["Targets (issue \"Beyond the report\"):", ""]
    by = {(r.ratio, r.method.split()[0]): r for r in rows}
    for n in names:
        for ratio in sorted({r.ratio for r in rows}):
            base, codec = by.get((ratio, "pool+interp")), by.get((ratio, "CELCodec"))
            if base is None or codec is None:
                continue
            gain = codec.si_sdr[n] - base.si_sdr[n]
            cut = 1 - codec.log_mel[n] / base.log_mel[n]
            ok = gain >= 3 or cut >= 0.30
            line = (f"- {n}, 1/{ratio}: CELCodec vs baseline {gain:+.2f} dB SI-SDR, "
                    f"{100 * cut:+.0f} % lower log-mel L1 -> {'met' if ok else 'NOT met'}")
            rep = by.get((ratio, "report"))
            if rep is not None:
                both = codec.si_sdr[n] > rep.si_sdr[n] and codec.log_mel[n] < rep.log_mel[n]
                sdr = paired(codec.clip_si_sdr[n], rep.clip_si_sdr[n], higher_is_better=True)
                mel = paired(codec.clip_log_mel[n], rep.clip_log_mel[n], higher_is_better=False)
                line += (f"; beats the report's model on both: {'yes' if both else 'NO'} "
                         f"(per clip, CELCodec - report: SI-SDR dB {sdr}; log-mel L1 {mel})")
            out.append(line)
        low, base4 = by.get((64, "CELCodec")), by.get((4, "pool+interp"))
        if low is not None and base4 is not None:
            ok = low.log_mel[n] <= base4.log_mel[n]
            mel = paired(low.clip_log_mel[n], base4.clip_log_mel[n], higher_is_better=False)
            out.append(f"- {n}: CELCodec 1/64 log-mel L1 {low.log_mel[n]:.3f} vs baseline 1/4 "
                       f"{base4.log_mel[n]:.3f} -> {'met' if ok else 'NOT met'} (per clip, "
                       f"1/64 - baseline 1/4: {mel})")
    return "\n".join(out) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget-seconds", type=float, default=180.0,
                   help="wall-clock training time per model (default 180)")
    p.add_argument("--ratios", type=int, nargs="+", default=[2, 4, 10, 32, 64],
                   help="latent ratios (samples per kept value); CELCodec<r> must exist")
    p.add_argument("--data", nargs="+", default=["demo", "games"],
                   help="sources: 'demo', 'games' (Debian game soundtracks, skipped if none "
                        "are installed) and/or folders of audio files (default: demo games)")
    p.add_argument("--out", default="bench-out/rd.md", help="markdown output file")
    p.add_argument("--song-seconds", type=float, default=60.0,
                   help="seconds decoded per real song (from --offset)")
    p.add_argument("--offset", type=float, default=20.0, help="start of each real song, s")
    p.add_argument("--demo-songs-per-genre", type=int, default=3)
    p.add_argument("--eval-clips", type=int, default=48, help="held-out clips per source")
    p.add_argument("--valid-fraction", type=float, default=0.2)
    p.add_argument("--crop", type=int, default=8192, help="training crop, samples")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: on a shared machine two threads that "
                        "wait on each other lose more than they gain)")
    p.add_argument("--jobs", type=int, default=1,
                   help="models trained at once, each in its own process (default 1; 2 on "
                        "an otherwise idle 2-core machine halves the wall-clock time)")
    p.add_argument("--codec-loss", default=None,
                   help="train CELCodec with this loss instead of the one its config names")
    p.add_argument("--skip-report", action="store_true", help="do not train the report's models")
    p.add_argument("--save-models", default=None, help="folder to save the trained models in")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sources = []
    for spec in args.data:
        if spec == "demo":
            files = demo_files(30.0, args.demo_songs_per_genre)
            kw = {"offset": 0.0, "seconds": 30.0}
        elif spec == "games":
            files = game_music_files()
            if not files:
                log("games: no game soundtrack installed (apt-get install warzone2100-music); "
                    "skipped")
                continue
            kw = {"offset": args.offset, "seconds": args.song_seconds}
        else:
            files = folder_files(Path(spec))
            kw = {"offset": args.offset, "seconds": args.song_seconds}
        name = {"demo": "demo", "games": "real"}.get(spec, Path(spec).name)
        sources.append(load_source(name, files, valid_fraction=args.valid_fraction,
                                   eval_clips=args.eval_clips, seed=args.seed, **kw))
    if not sources:
        raise SystemExit("no data")
    jobs, rows = [], []
    for ratio in args.ratios:
        base = Row(ratio, "pool+interp")
        score(base, sources, lambda clips, r=ratio: pool_interp(clips, r))
        rows.append(base)
        if ratio in REPORT_MODELS and not args.skip_report:
            jobs.append((REPORT_MODELS[ratio], "mse", ratio, "report"))
        arch = f"CELCodec{ratio}"
        jobs.append((arch, args.codec_loss or build_model(arch).config.loss, ratio, "CELCodec"))
    rows += train_all(jobs, sources, args)
    order = {"pool+interp": 0, "report": 1, "CELCodec": 2}
    rows.sort(key=lambda r: (r.ratio, order[r.method.split()[0]]))
    table = markdown(rows, sources, args)
    cmd = "python scripts/bench_rd.py " + " ".join(sys.argv[1:] if argv is None else argv)
    header = (f"# Rate-distortion benchmark\n\n`{cmd}`\n\n"
              f"{torch.get_num_threads()} torch thread(s) per model, {args.jobs} model(s) trained "
              f"at a time, {args.budget_seconds:.0f} s of training "
              f"per model on random {args.crop}-sample crops (batch {args.batch}); held-out songs "
              f"scored on 5 s clips at {SAMPLE_RATE} Hz. "
              + "; ".join(f"{s.name}: {s.n_songs} songs, {len(s.test_clips)} test clips"
                          for s in sources) + ".\n\n")
    text = header + table
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    return 0 if all(math.isfinite(v) for r in rows for v in r.si_sdr.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
