"""Benchmark of the latent-exploration path of the app (offscreen): a principal-direction slider
change until the edited audio is ready for the player, for a 5 s clip.

Usage: python scripts/bench_explore.py [--iterations N] [--with-classifier] [--json].
Uses the bundled default model when there is one, else an untrained CELAutoencoderSiLU with the
demo model's size; the song is a demo song or a synthesised 6 s tone. The latent PCA is the
model's stored one, else fitted in memory on the song's clips (nothing is written beside the
model). When the model has a genre classifier it is loaded too, so the timed pass includes the
live genre probabilities; ``--with-classifier`` first trains a quick one (2 epochs, synthetic
demo songs, under a temp folder) when the model has none.

Prints the median and 90th percentile of: the whole GUI round trip (slider value -> the player
holds the new audio), the same through the scale slider for reference, and the parts measured
directly (edit + decode, display spectrum and quick quality figures, genre probabilities). The
target is a median of <= 50 ms. The machine's load average is printed too: compare runs made
under similar load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TMP = Path(tempfile.mkdtemp(prefix="celae-bench-explore-"))
os.environ.setdefault("CELAE_SETTINGS_ORG", "celae-bench")
os.environ.setdefault("CELAE_USER_MODELS_DIR", str(TMP / "user-models"))
os.environ.setdefault("CELAE_CACHE_DIR", str(TMP / "cache"))

import numpy as np  # noqa: E402

TARGET_MS = 50.0


def model_folder() -> tuple[str, bool]:
    """The bundled default model (and True), else an untrained stand-in of its size."""
    from core.errors import ModelLoadError
    from core.models.io import resolve_model, save_model

    try:
        return str(resolve_model(None)), True
    except ModelLoadError:
        from core.models import build_model

        model = build_model("CELAutoencoderSiLU", channels=(4, 8), kernel_size=5)
        return str(save_model(model, TMP / "models" / "bench-silu-small")), False


def song() -> Path:
    """A demo song, else a synthesised 6 s tone."""
    from core.constants import AUDIO_EXTENSIONS, SAMPLE_RATE
    from core.paths import demo_songs_dir

    demo = demo_songs_dir()
    found = sorted(p for p in demo.glob("*") if p.suffix.lower() in AUDIO_EXTENSIONS) \
        if demo.is_dir() else []
    if found:
        return found[0]
    import soundfile as sf

    t = np.arange(6 * SAMPLE_RATE) / SAMPLE_RATE
    x = 0.5 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    path = TMP / "tone.wav"
    sf.write(path, x.astype(np.float32), SAMPLE_RATE)
    return path


def quick_classifier(folder: str) -> None:
    """Train a 2-epoch classifier on synthetic songs into the model's default classifier
    folder, unless it has a classifier already.

    It runs in a child process: torch work on this process's main thread would fix its OpenMP
    team at the training's thread count, and the app picks a smaller one for its own work.
    """
    from celae_gui.workers.classify_worker import find_classifier

    if find_classifier(Path(folder)) is not None:
        return
    code = ("import sys; from pathlib import Path; "
            "from core.analysis import run_classify_train; "
            "from core.data.demo import write_demo_dataset; "
            "data = Path(sys.argv[2]); "
            "write_demo_dataset(data, songs_per_genre=3, seconds=10.0); "
            "run_classify_train(data, sys.argv[1], None, epochs=2, device='cpu', baselines=())")
    subprocess.run([sys.executable, "-c", code, folder, str(TMP / "demo-dataset")],
                   check=True, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))


def wait(signal, predicate=lambda *a: True, timeout_ms: int = 60_000) -> bool:
    """Run an event loop until ``signal`` fires with arguments satisfying ``predicate``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    hit = []

    def on_signal(*args):
        if predicate(*args):
            hit.append(True)
            loop.quit()

    signal.connect(on_signal)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(on_signal)
    return bool(hit)


def stats(values: list[float]) -> dict:
    return {"median_ms": round(statistics.median(values), 2),
            "p90_ms": round(float(np.percentile(values, 90)), 2), "n": len(values)}


def timed(fn, iterations: int) -> list[float]:
    out = []
    for i in range(iterations):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    parser.add_argument("--with-classifier", action="store_true",
                        help="train a quick genre classifier first if the model has none")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from celae_gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    folder, bundled = model_folder()
    path = song()
    if args.with_classifier:
        quick_classifier(folder)
    window = MainWindow()
    window.show()
    window.start([path], folder)
    if not wait(window.state.source_changed, lambda kind: kind == "edited", 120_000):
        print("the window never reconstructed the song", file=sys.stderr)
        return 1
    state = window.state
    if state.latent_pca is None:  # a stored PCA arrives from the panel's loader
        wait(state.pca_changed, lambda pca: pca is not None, timeout_ms=3_000)
    if state.latent_pca is None:
        from core.audio.io import load_audio, split_clips
        from core.latent.pca import fit_latent_pca

        clips = split_clips(load_audio(path), state.model.model.clip_samples)
        state.set_latent_pca(fit_latent_pca(state.model.model, clips))
        wait(state.source_changed, lambda kind: kind == "edited", 10_000)
    if args.with_classifier and state.classifier is None:
        wait(state.classifier_changed, lambda clf: clf is not None, timeout_ms=30_000)
    z = state.latents.z
    print(f"model {Path(folder).name} ({'bundled' if bundled else 'untrained stand-in'}), "
          f"song {path.name}, latent {tuple(z.shape)}, clip {len(state.audio('original'))} "
          f"samples, classifier: {'yes' if state.classifier is not None else 'no'}, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)

    # The whole GUI round trip: slider value -> edited audio handed to the player.
    round_trip = []
    for i in range(args.iterations):
        value = (-1.5 + 3.0 * (i % 7) / 6) or 0.25
        start = time.perf_counter()
        window.pc_panel.set_value(i % 3, value)
        if not wait(window.playback.sources_updated, lambda kind: kind == "edited", 10_000):
            print("no edit result within 10 s", file=sys.stderr)
            return 1
        round_trip.append((time.perf_counter() - start) * 1000)
        window.pc_panel.set_value(i % 3, 0.0)
        wait(window.playback.sources_updated, lambda kind: kind == "edited", 10_000)

    # The same round trip through the scale slider, for reference (no principal directions).
    scale_trip = []
    for i in range(args.iterations):
        start = time.perf_counter()
        window.edit_panel.set_value("scale", 0.5 + (i % 7) / 7)
        wait(window.playback.sources_updated, lambda kind: kind == "edited", 10_000)
        scale_trip.append((time.perf_counter() - start) * 1000)
    state.reset_edits()
    wait(window.playback.sources_updated, lambda kind: kind == "edited", 10_000)

    # Its parts, directly on this thread.
    from celae_gui.views.figures import source_data
    from core.latent.edits import EditParams, apply_edits
    from core.latent.pca import directions
    from core.models.inference import decode

    pca, model, original = state.latent_pca, state.model.model, state.audio("original")
    dirs = directions(pca, z.shape[-2:], 3)
    params = [EditParams(pc_offsets=(0.0, 1.0 + 0.01 * i, -0.5)) for i in range(args.iterations)]
    decoded = {}

    def edit_decode(i):
        decoded[i] = decode(model, apply_edits(z, params[i], directions=dirs),
                            length=len(original))[0]

    parts = {"edit + decode": timed(edit_decode, args.iterations),
             "spectrum + quick quality": timed(
                 lambda i: source_data(decoded[i], original, live=True), args.iterations)}
    if state.classifier is not None:
        from core.genre.probe import predict_proba_from_latent

        net = state.classifier.classifier
        parts["genre probabilities"] = timed(
            lambda i: predict_proba_from_latent(net, apply_edits(z, params[i], directions=dirs)),
            args.iterations)
    figures = {"pc_slider_to_audio_ready": stats(round_trip),
               "scale_slider_to_audio_ready": stats(scale_trip),
               **{k: stats(v) for k, v in parts.items()}}
    for name, f in figures.items():
        print(f"{name:<28} median {f['median_ms']:7.2f} ms   p90 {f['p90_ms']:7.2f} ms")
    ok = figures["pc_slider_to_audio_ready"]["median_ms"] <= TARGET_MS
    print(f"target: median <= {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}")
    window.close()
    app.processEvents()
    if args.json:
        print(json.dumps({"model": Path(folder).name, "bundled": bundled,
                          "load": os.getloadavg()[0], **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
