"""How much an 8-bit or 16-bit latent costs: SI-SDR of the decoded demo songs per bit depth.

    python scripts/bench_quantize.py [--models celae-silu-demo celcodec4-demo]

For each bundled model and demo song: SI-SDR against the original of the decoded float32,
float16 and 8-bit latents (core.latent.quantize: a linear grid per channel), and of 8-bit
mu-law codes over the same per-channel range, the alternative the format chose against.
"""

from __future__ import annotations

import argparse

import numpy as np

from core.audio.io import load_audio
from core.audio.metrics import si_sdr
from core.latent.quantize import roundtrip
from core.models.inference import decode_song, encode_song
from core.models.io import list_models, load_model
from core.paths import demo_songs_dir


def mulaw8(z: np.ndarray, mu: float = 255.0) -> np.ndarray:
    lo = z.min(axis=(0, 2), keepdims=True)
    hi = z.max(axis=(0, 2), keepdims=True)
    mid, half = (hi + lo) / 2, np.maximum((hi - lo) / 2, 1e-12)
    u = (z - mid) / half
    v = np.round((np.sign(u) * np.log1p(mu * np.abs(u)) / np.log1p(mu) + 1) * 127.5) / 127.5 - 1
    return (mid + half * np.sign(v) * np.expm1(np.abs(v) * np.log1p(mu)) / mu).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None)
    args = parser.parse_args()
    names = args.models or [m.name for m in list_models() if m.source == "bundled"]
    songs = sorted(demo_songs_dir().glob("*.mp3"))
    print("| model | song | 32 bits | 16 bits | 8 bits (linear) | 8 bits mu-law |")
    print("|---|---|---|---|---|---|")
    for name in names:
        model = load_model(name).model
        drops = []
        for path in songs:
            audio = load_audio(path)
            song = encode_song(model, audio)
            row = []
            for z in (song.z, roundtrip(song.z, 16), roundtrip(song.z, 8), mulaw8(song.z)):
                row.append(si_sdr(audio, decode_song(model, song.with_z(z))))
            drops.append([row[0] - r for r in row])
            print(f"| {name} | {path.stem} | " + " | ".join(f"{r:.2f}" for r in row) + " |")
        d = np.mean(drops, axis=0)
        print(f"| {name} | mean loss vs 32 bits, dB | - | {d[1]:.3f} | {d[2]:.3f} | {d[3]:.3f} |")


if __name__ == "__main__":
    main()
