"""`make bench`: the figures quoted in the closing notes, measured on this machine.

Sections (all by default, or pick with ``--only``):

- ``models``: each report variant trained on the same demo data for the same epochs; valid MSE,
  SI-SDR, log-mel L1 beside the no-learning baseline at the same latent length; training clips/s
  and the share of epoch time spent waiting for data.
- ``song``: a 3-minute 44.1 kHz stereo MP3 reconstructed file in to file out with the bundled
  model; times real time.
- ``ingest``: 200 x 30 s MP3 files decoded into the clip cache, cold and warm.
- ``gui``: launch-to-window, slider-to-audio latency, event-loop stalls during training, pan frame
  time (``scripts/bench_gui.py``, offscreen).
- ``reconstruct``: ``celae reconstruct`` of a 7-minute 44.1 kHz stereo MP3 per bundled model with
  its breakdown, and peak memory for 5-minute, 30-minute and 2-hour 48 kHz stereo WAVs
  (``scripts/bench_reconstruct.py``).
- ``live``: whole-song edits on a 10-minute song, slider to heard and GUI stalls
  (``scripts/bench_live.py``).

Writes ``bench-out/bench.json`` and ``bench-out/bench.md`` and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPORT_ARCHS = ("CELAutoencoderLeakyReLU", "CELAutoencoderSiLU", "CELAutoencoder2",
                "CELAutoencoder3")


def machine() -> str:
    return f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def bench_models(work: Path, epochs: int, songs_per_genre: int) -> dict:
    from core.analysis.evaluate import evaluate_model
    from core.data import load_clips, scan_dataset, split_by_song
    from core.data.demo import write_demo_dataset
    from core.training.trainer import TrainConfig, train

    data = work / "demo-data"
    if not data.exists():
        write_demo_dataset(data, songs_per_genre=songs_per_genre, seconds=30.0, seed=0)
    clips = load_clips(scan_dataset(data))
    split = split_by_song(clips, valid_fraction=0.2, seed=0)
    rows = []
    for arch in REPORT_ARCHS:
        out = work / "models" / arch
        t0 = time.perf_counter()
        result = train(TrainConfig(arch=arch, epochs=epochs, batch_size=16, lr=1e-3, seed=0,
                                   device="cpu", out_dir=str(out), patience=None),
                       clips, split=split)
        train_s = time.perf_counter() - t0
        report = evaluate_model(out, data, seed=0)
        hist = result.history
        rows.append({
            "arch": arch, "latent": list(report.latent_shape), "epochs": len(hist),
            "train_seconds": round(train_s, 1),
            "clips_per_s": round(float(np.mean([h["clips_per_s"] for h in hist])), 1),
            "data_wait_pct": round(100 * float(np.mean([h["data_wait_fraction"]
                                                         for h in hist])), 2),
            "model": report.model, "baseline": report.baseline,
            "valid_clips": report.clips, "split": report.split,
        })
        print(f"  {arch}: valid MSE {report.model['mse']:.5f} (baseline "
              f"{report.baseline['mse']:.5f}), SI-SDR {report.model['si_sdr']:.2f} dB "
              f"(baseline {report.baseline['si_sdr']:.2f} dB)", flush=True)
    return {"dataset": f"demo data, {songs_per_genre} songs x 10 genres x 30 s",
            "train_clips": int(len(split.train)), "valid_clips": int(len(split.valid)),
            "rows": rows}


def bench_song(work: Path) -> dict:
    import soundfile as sf
    import soxr

    from core.audio.io import load_audio
    from core.audio.writer import save_audio
    from core.data.demo import synthesize_song
    from core.models.inference import reconstruct_song
    from core.models.io import load_model

    mp3 = work / "song-3min.mp3"
    if not mp3.exists():
        mono = np.concatenate([synthesize_song(g, 60.0, seed=1, index=0)
                               for g in ("rock", "jazz", "disco")])
        up = soxr.resample(mono, 22_050, 44_100)
        stereo = np.stack([up, np.roll(up, 300) * 0.9], axis=1)
        sf.write(mp3, stereo, 44_100, format="MP3")
    loaded = load_model(None)
    out = work / "song-3min-recon.wav"
    reconstruct_song(loaded.model, load_audio(mp3, duration=10.0))  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        audio = load_audio(mp3)
        recon = reconstruct_song(loaded.model, audio)
        save_audio(out, recon)
        times.append(time.perf_counter() - t0)
    seconds = len(audio) / 22_050
    best = min(times)
    return {"model": loaded.name, "arch": loaded.arch, "audio_seconds": round(seconds, 1),
            "wall_seconds": round(best, 3), "x_real_time": round(seconds / best, 1),
            "runs": [round(t, 3) for t in times]}


def bench_ingest(work: Path, n_files: int) -> dict:
    from core.data import load_clips, scan_dataset
    from core.data.demo import write_demo_dataset

    data = work / "ingest-mp3"
    if not data.exists():
        write_demo_dataset(data, songs_per_genre=n_files // 10, seconds=30.0, seed=3, fmt="mp3")
    cache = Path(tempfile.mkdtemp(prefix="celae-bench-cache-"))
    os.environ["CELAE_CACHE_DIR"] = str(cache)
    index = scan_dataset(data)
    t0 = time.perf_counter()
    clips = load_clips(index)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = load_clips(scan_dataset(data))
    warm = time.perf_counter() - t0
    assert len(again) == len(clips)
    return {"files": len(index.songs), "clips": len(clips), "cold_seconds": round(cold, 2),
            "warm_seconds": round(warm, 3), "workers": os.cpu_count()}


def bench_gui() -> dict:
    script = ROOT / "scripts" / "bench_gui.py"
    if not script.exists():
        return {"skipped": "scripts/bench_gui.py is missing"}
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, str(script), "--json"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=900)
    if proc.returncode != 0:
        return {"failed": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_script(script: str, *argv: str) -> dict:
    """Run ``scripts/<script>`` and return the JSON it writes (its tables go to the log)."""
    out = Path(tempfile.mkdtemp(prefix="celae-bench-")) / "result.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if script == "bench_live.py":
        proc = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *argv, "--json"],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600)
        print(proc.stdout, proc.stderr[-2000:] if proc.returncode else "", flush=True)
        if proc.returncode != 0:
            return {"failed": proc.stderr[-2000:]}
        return json.loads(proc.stdout.strip().splitlines()[-1])
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *argv, "--json",
                           str(out)], text=True, env=env, cwd=ROOT, timeout=3600)
    if proc.returncode != 0:
        return {"failed": f"{script} exited with {proc.returncode}"}
    return json.loads(out.read_text())


def markdown(results: dict) -> str:
    lines = [f"Machine: {results['machine']}", ""]
    m = results.get("models")
    if m:
        lines += [f"### Report models ({m['dataset']}; {m['train_clips']} train / "
                  f"{m['valid_clips']} valid clips, split by song)", "",
                  "| model | latent | epochs | valid MSE | baseline MSE | SI-SDR dB | "
                  "baseline SI-SDR | log-mel L1 | baseline log-mel L1 | clips/s | data wait |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in m["rows"]:
            a, b = r["model"], r["baseline"]
            lines.append(f"| {r['arch']} | {r['latent'][0]} x {r['latent'][1]} | {r['epochs']} | "
                         f"{a['mse']:.5f} | {b['mse']:.5f} | {a['si_sdr']:.2f} | "
                         f"{b['si_sdr']:.2f} | {a['log_mel_l1']:.3f} | {b['log_mel_l1']:.3f} | "
                         f"{r['clips_per_s']} | {r['data_wait_pct']} % |")
        lines.append("")
    s = results.get("song")
    if s:
        lines += [f"### 3-minute MP3, file in to file out ({s['arch']} `{s['model']}`)", "",
                  f"{s['audio_seconds']} s of audio in {s['wall_seconds']} s: "
                  f"**{s['x_real_time']}x real time** (best of {len(s['runs'])})", ""]
    i = results.get("ingest")
    if i:
        lines += ["### Ingest", "", f"{i['files']} x 30 s MP3 -> {i['clips']} clips: cold "
                  f"{i['cold_seconds']} s, warm (cached) {i['warm_seconds']} s", ""]
    g = results.get("gui")
    if g:
        lines += ["### App", "", "```", json.dumps(g, indent=2), "```", ""]
    for name, title in (("reconstruct", "celae reconstruct (streaming)"),
                        ("live", "Whole-song edits from the play head")):
        if results.get(name):
            lines += [f"### {title}", "", "```", json.dumps(results[name], indent=2), "```", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=["models", "song", "ingest", "gui",
                                                      "reconstruct", "live"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--songs-per-genre", type=int, default=10)
    parser.add_argument("--ingest-files", type=int, default=200)
    parser.add_argument("--work", default=str(ROOT / "bench-out" / "work"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": machine()}
    sections = {"models": lambda: bench_models(work, args.epochs, args.songs_per_genre),
                "song": lambda: bench_song(work),
                "ingest": lambda: bench_ingest(work, args.ingest_files),
                "gui": bench_gui,
                "reconstruct": lambda: bench_script("bench_reconstruct.py"),
                "live": lambda: bench_script("bench_live.py")}
    for name in args.only:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        results[name] = sections[name]()
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    out = ROOT / "bench-out"
    (out / "bench.json").write_text(json.dumps(results, indent=2))
    md = markdown(results)
    (out / "bench.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
