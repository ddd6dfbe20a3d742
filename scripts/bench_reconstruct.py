"""`celae reconstruct` file to file: wall time with its breakdown, and peak memory against length.

- ``speed``: a 7-minute 44.1 kHz stereo MP3 (synthesised) through each bundled model; start-up
  included (a fresh process per run, best of ``--runs``), with the command's own breakdown
  (imports = wall time minus the command's measured total).
- ``memory``: 5-minute, 30-minute and 2-hour 48 kHz stereo WAVs (written in a temporary folder,
  deleted after); peak RSS of each run (``ru_maxrss`` of the child).

Prints Markdown tables; ``--json FILE`` also writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))



def bundled_models() -> list[str]:
    """Every bundled model, the default (``resources/models/DEFAULT``) first."""
    folder = ROOT / "resources" / "models"
    default = (folder / "DEFAULT").read_text().strip()
    names = sorted(p.name for p in folder.iterdir() if (p / "config.json").is_file())
    return [default] + [n for n in names if n != default]
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child would report this
# (large) benchmark process's peak instead of its own.
_CHILD = ("import sys; from core.cli.main import main; rc = main(sys.argv[1:]); "
          "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
          "sys.stderr.write('RSS_MB %.1f\\n' % (int(hwm.split()[1]) / 1024)); sys.exit(rc)")


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run_cli(*argv: str) -> tuple[float, dict, float]:
    """(wall seconds, --json output, peak RSS MB) of one `celae` process."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *argv, "--json", "-q"],
                          capture_output=True, text=True, env=_env(), cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"celae {' '.join(argv)} failed:\n{proc.stderr}")
    rss = float(next(line.split()[1] for line in proc.stderr.splitlines()
                     if line.startswith("RSS_MB")))
    return wall, json.loads(proc.stdout), rss


def make_mp3(path: Path, seconds: float = 441.0) -> None:
    import soundfile as sf
    import soxr

    from core.data.demo import synthesize_song

    genres = ("rock", "jazz", "disco", "blues", "pop", "metal", "classical")
    part = seconds / len(genres)
    mono = np.concatenate([synthesize_song(g, part, seed=1, index=0) for g in genres])
    up = soxr.resample(mono, 22_050, 44_100)
    sf.write(path, np.stack([up, np.roll(up, 300) * 0.9], axis=1), 44_100, format="MP3")


def make_wav(path: Path, seconds: float, sr: int = 48_000) -> None:
    import soundfile as sf

    from core.data.demo import synthesize_song

    base = synthesize_song("rock", 20.0, seed=2, index=0)
    import soxr

    chunk = soxr.resample(base, 22_050, sr).astype(np.float32) * 0.8
    stereo = np.stack([chunk, chunk[::-1]], axis=1)
    with sf.SoundFile(path, "w", samplerate=sr, channels=2, subtype="PCM_16") as f:
        left = int(seconds * sr)
        while left > 0:
            f.write(stereo[:left])
            left -= len(stereo)


def bench_speed(work: Path, runs: int, models: tuple[str, ...]) -> list[dict]:
    mp3 = work / "song-7min.mp3"
    if not mp3.exists():
        make_mp3(mp3)
    rows = []
    for model in models:
        run_cli("reconstruct", str(mp3), "--model", model, "--out", str(work / "r.wav"),
                "--duration", "1")  # the first use exports the model's graph: not timed
        best = None
        walls = []
        for _ in range(runs):
            wall, data, rss = run_cli("reconstruct", str(mp3), "--model", model, "--out",
                                      str(work / "r.wav"))
            walls.append(wall)
            if best is None or wall < best[0]:
                best = (wall, data, rss)
        wall, data, rss = best
        t = data["timings"]
        rows.append({"model": model, "engine": data["engine"], "audio_s": data["seconds"],
                     "wall_s": round(wall, 3), "x_real_time": round(data["seconds"] / wall, 1),
                     "imports_s": round(wall - t["total"], 3), **{f"{k}_s": t[k] for k in (
                         "model_load", "decode", "model", "figures", "write")},
                     "peak_pass_s": t.get("peak_pass", 0.0),
                     "rss_mb": rss, "runs": [round(w, 3) for w in walls],
                     "si_sdr": data.get("si_sdr")})
    return rows


def bench_memory(work: Path, lengths: tuple[float, ...], model: str | None) -> list[dict]:
    rows = []
    for seconds in lengths:
        wav = work / f"long-{int(seconds)}s.wav"
        make_wav(wav, seconds)
        argv = ["reconstruct", str(wav), "--out", str(work / "long-out.wav")]
        if model:
            argv += ["--model", model]
        wall, data, rss = run_cli(*argv)
        rows.append({"minutes": seconds / 60, "rss_mb": rss, "wall_s": round(wall, 1),
                     "x_real_time": round(data["seconds"] / wall, 1),
                     "file_mb": round(wav.stat().st_size / 1e6)})
        wav.unlink()
        (work / "long-out.wav").unlink()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["speed", "memory"], default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=None,
                        help="model names (default: every bundled model, the default first)")
    parser.add_argument("--minutes", type=float, nargs="+", default=[5, 30, 120])
    parser.add_argument("--json", default=None, metavar="FILE")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="celae-bench-recon-"))
    out: dict = {"load_average": os.getloadavg()[0], "cores": os.cpu_count()}
    try:
        if args.only in (None, "speed"):
            out["speed"] = bench_speed(work, args.runs, args.models or bundled_models())
            print("\n| model | engine | audio s | wall s | x real time | imports | load | "
                  "peak pass | decode (thread) | model | figures | write | peak RSS MB |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for r in out["speed"]:
                print(f"| {r['model']} | {r['engine']} | {r['audio_s']:.0f} | {r['wall_s']:.2f} "
                      f"| {r['x_real_time']} | {r['imports_s']:.2f} | {r['model_load_s']:.2f} | "
                      f"{r['peak_pass_s']:.2f} | "
                      f"{r['decode_s']:.2f} | {r['model_s']:.2f} | {r['figures_s']:.2f} | "
                      f"{r['write_s']:.2f} | {r['rss_mb']:.0f} |")
        if args.only in (None, "memory"):
            out["memory"] = bench_memory(work, tuple(m * 60 for m in args.minutes), None)
            print("\n| 48 kHz stereo WAV | file MB | peak RSS MB | wall s | x real time |")
            print("|---|---|---|---|---|")
            for r in out["memory"]:
                print(f"| {r['minutes']:g} min | {r['file_mb']} | {r['rss_mb']:.0f} | "
                      f"{r['wall_s']} | {r['x_real_time']} |")
            rss = [r["rss_mb"] for r in out["memory"]]
            spread = (max(rss) - min(rss)) / min(rss)
            print(f"\nspread {100 * spread:.1f} % (target <= 20 %), max {max(rss):.0f} MB "
                  f"(target < 1536 MB)")
            out["memory_spread_pct"] = round(100 * spread, 1)
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
