"""ONNX Runtime against eager torch: encode and decode of a 5 s clip and of a 7-minute song.

For every bundled model (or the ``--models`` given) it exports the ONNX graphs in memory
(``core.export``, the same graphs ``celae export`` writes), then times, with 1 and 2 threads
(``torch.set_num_threads`` / ONNX Runtime's intra-op threads):

- ``clip``: one 5 s clip (the model's clip) encoded, then its latent decoded; the median of
  ``--repeats`` runs after one warm-up run;
- ``song``: a synthesised 7-minute song encoded and decoded the way the app and ``celae
  reconstruct`` run a song (clip windows with 10 % overlap, batches of 16); the median of
  ``--song-repeats`` runs after a warm-up run.

Within each repeat the two backends run one after the other, so on a shared machine both see
the same load.

It also prints the largest difference between the two backends' decoded song, to show the
parity bound holds on long input. Prints a markdown table (and writes it to ``--out``).

Example::

    python scripts/bench_export.py --threads 1 2 --song-minutes 7
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.export.onnx import onnx_graphs, onnx_runners  # noqa: E402
from core.export.parity import probe_signal  # noqa: E402
from core.models.inference import song_windows  # noqa: E402
from core.models.io import list_models, load_model  # noqa: E402

BATCH = 16


def _interleaved(fns: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each callable, the backends alternating within every repeat so that
    both see the same load on a shared machine."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _batches(windows: np.ndarray):
    for i in range(0, len(windows), BATCH):
        yield windows[i:i + BATCH][:, None]


def bench_model(name: str, threads: int, song: np.ndarray, repeats: int,
                song_repeats: int) -> list[dict]:
    loaded = load_model(name)
    model = loaded.model.eval()
    T = model.clip_samples
    torch.set_num_threads(threads)
    ort_encode, ort_decode = onnx_runners(*onnx_graphs(model, name), threads=threads)

    def torch_encode(x):
        with torch.inference_mode():
            return model.encode(torch.from_numpy(x)).numpy()

    def torch_decode(z, length):
        with torch.inference_mode():
            return model.decode(torch.from_numpy(z), length=length).numpy()

    clip = probe_signal(T, model.sample_rate)
    z_clip = torch_encode(clip)
    windows, _hop = song_windows(song, T)
    backends = {"torch": (torch_encode, torch_decode),
                "onnxruntime": (ort_encode, ort_decode)}
    enc_clip = _interleaved({k: (lambda e=e: e(clip)) for k, (e, _d) in backends.items()},
                            repeats)
    dec_clip = _interleaved({k: (lambda d=d: d(z_clip, T)) for k, (_e, d) in backends.items()},
                            repeats)
    song_z: dict[str, list] = {}
    outs: dict[str, np.ndarray] = {}

    def encode_song(key):
        song_z[key] = [backends[key][0](b) for b in _batches(windows)]

    def decode_song(key):
        outs[key] = np.concatenate([backends[key][1](z, T) for z in song_z[key]])

    enc_song = _interleaved({k: (lambda k=k: encode_song(k)) for k in backends}, song_repeats)
    dec_song = _interleaved({k: (lambda k=k: decode_song(k)) for k in backends}, song_repeats)
    rows = [{"model": name, "threads": threads, "backend": k,
             "encode_clip_ms": 1000 * enc_clip[k], "decode_clip_ms": 1000 * dec_clip[k],
             "encode_song_s": enc_song[k], "decode_song_s": dec_song[k]} for k in backends]
    diff = float(np.abs(outs["torch"] - outs["onnxruntime"]).max())
    for row in rows:
        row["song_max_abs_diff"] = diff
    return rows


def table(rows: list[dict], song_minutes: float) -> str:
    head = ("| model | threads | backend | encode 5 s (ms) | decode 5 s (ms) | "
            f"encode {song_minutes:g} min (s) | decode {song_minutes:g} min (s) | "
            "song max abs diff |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        lines.append(f"| {r['model']} | {r['threads']} | {r['backend']} | "
                     f"{r['encode_clip_ms']:.1f} | {r['decode_clip_ms']:.1f} | "
                     f"{r['encode_song_s']:.2f} | {r['decode_song_s']:.2f} | "
                     f"{r['song_max_abs_diff']:.1e} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None,
                        help="model names or folders (default: every bundled model)")
    parser.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--song-minutes", type=float, default=7.0)
    parser.add_argument("--repeats", type=int, default=9, help="timed runs of the clip")
    parser.add_argument("--song-repeats", type=int, default=1, help="timed runs of the song")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    names = args.models or [e.name for e in list_models() if e.source == "bundled"]
    first = load_model(names[0]).model
    song_samples = round(args.song_minutes * 60 * first.sample_rate)
    # A long music-like signal: the probe clip's notes, re-drawn every 5 s.
    clips = [probe_signal(first.clip_samples, first.sample_rate, seed=s)[0, 0]
             for s in range(song_samples // first.clip_samples + 1)]
    song = np.concatenate(clips)[:song_samples]
    rows = []
    for name in names:
        for threads in args.threads:
            rows.extend(bench_model(name, threads, song, args.repeats, args.song_repeats))
            print(f"done {name}, {threads} thread(s)", file=sys.stderr, flush=True)
    text = table(rows, args.song_minutes)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
