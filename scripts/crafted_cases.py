"""Hostile and unlucky inputs to ``celae``, built in a temp folder: a table of what a user sees.

Usage: ``python scripts/crafted_cases.py [--markdown]``. Each case builds its files (an input
named as its own output, a ``config.json`` linked to ``/dev/zero``, a FIFO named
``model.safetensors``, a training folder with a symlink loop, a second run on a locked
``--out``...), runs the real command line in this process and prints the input, the exit code
and the first line the user reads. Nothing outside the temp folder is touched; it is deleted
at the end. A case that runs past ``CASE_SECONDS`` is reported as a hang.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CASE_SECONDS = 300
SR = 22_050
TRAIN = ["--arch", "CELAutoencoder3", "--epochs", "1", "--batch-size", "4", "--device", "cpu",
         "-q"]


class _Hang(Exception):
    pass


def _tone(path: Path, seconds: float, freq: float = 220.0) -> Path:
    t = np.arange(max(1, int(seconds * SR))) / SR
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), SR)
    return path


def _run(argv: list[str]) -> tuple[int, str]:
    from core.cli.main import main

    err, out = io.StringIO(), io.StringIO()

    def alarm(_sig, _frame):
        raise _Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(CASE_SECONDS)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main([*argv, "-q"] if "-q" not in argv else argv)
    except _Hang:
        return -1, f"hang: still running after {CASE_SECONDS} s"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    said = [ln for ln in lines if ln.startswith("celae:")] or lines
    text = "  /  ".join(said[:3]) if said else out.getvalue().strip().splitlines()[-1]
    return code, text


def _model(tmp: Path, name: str, **config) -> Path:
    import torch

    from core.models import build_model
    from core.models.io import save_model

    torch.manual_seed(0)
    folder = tmp / name
    save_model(build_model("CELAutoencoderSiLU", clip_samples=4096), folder)
    if config:
        cfg = json.loads((folder / "config.json").read_text())
        cfg["config"].update(config)
        (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def _dataset(tmp: Path, name: str) -> Path:
    root = tmp / name
    for g, f in (("rock", 220.0), ("jazz", 330.0)):
        for i in range(2):
            _tone(root / g / f"{g}.{i:05d}.wav", 5.2, f * (1 + i / 10))
    return root


def cases(tmp: Path) -> list[tuple[str, Callable[[], tuple[int, str]]]]:
    good = _model(tmp, "good")
    song = _tone(tmp / "x.wav", 1.0)
    other = _tone(tmp / "y.wav", 1.0, 330.0)
    os.link(song, tmp / "x-hardlink.wav")

    def model_case(name: str, setup: Callable[[Path], None]) -> Callable[[], tuple[int, str]]:
        def run():
            folder = _model(tmp, name)
            setup(folder)
            return _run(["reconstruct", str(song), "--model", str(folder),
                         "--out", str(tmp / f"{name}.wav")])
        return run

    def dev_zero(folder: Path):
        (folder / "config.json").unlink()
        (folder / "config.json").symlink_to("/dev/zero")

    def fifo(folder: Path):
        (folder / "model.safetensors").unlink()
        os.mkfifo(folder / "model.safetensors")

    def config(**values):
        def setup(folder: Path):
            cfg = json.loads((folder / "config.json").read_text())
            cfg["config"].update(values)
            (folder / "config.json").write_text(json.dumps(cfg))
        return setup

    def nested(folder: Path):
        (folder / "config.json").write_text("[" * 100_000 + "]" * 100_000)

    def train_with_bad_files():
        data = _dataset(tmp, "data-bad")
        (data / "rock" / "notes.wav").write_text("words, not audio")
        (data / "jazz" / "empty.flac").write_bytes(b"")
        (data / "jazz" / "loop.wav").symlink_to("loop.wav")
        return _run(["train", str(data), *TRAIN, "--out", str(tmp / "m-bad")])

    def train_locked():
        data = _dataset(tmp, "data-lock")
        out = tmp / "m-locked"
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sys\nfrom core.training.run_lock import run_lock\n"
             f"with run_lock({str(out)!r}):\n    print('held', flush=True)\n"
             "    sys.stdin.read()\n"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            holder.stdout.readline()
            return _run(["train", str(data), *TRAIN, "--out", str(out)])
        finally:
            holder.communicate("", timeout=60)

    def train_resume_damaged():
        data = _dataset(tmp, "data-ckpt")
        out = tmp / "m-ckpt"
        _run(["train", str(data), *TRAIN, "--out", str(out)])
        state = out / "checkpoint" / "state.json"
        doc = json.loads(state.read_text())
        doc["state"]["epoch"] = "x"
        state.write_text(json.dumps(doc))
        return _run(["train", str(data), *TRAIN, "--epochs", "2", "--resume", "--out", str(out)])

    def damaged_mp3():
        t = np.arange(10 * SR) / SR
        path = tmp / "middle.mp3"
        sf.write(path, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SR,
                 format="MP3")
        raw = bytearray(path.read_bytes())
        mid = len(raw) // 2
        raw[mid:mid + 4000] = np.random.default_rng(0).integers(0, 256, 4000, np.uint8).tobytes()
        path.write_bytes(bytes(raw))
        return _run(["reconstruct", str(path), "--model", str(good),
                     "--out", str(tmp / "mp3.wav")])

    def latin1_name():
        name = os.path.join(os.fsencode(tmp), b"caf\xe9.wav")
        os.rename(os.fsencode(_tone(tmp / "plain.wav", 1.0)), name)
        return _run(["reconstruct", os.fsdecode(name), "--model", str(good),
                     "--out", str(tmp / "latin1-out.wav")])

    def fifo_input():
        os.mkfifo(tmp / "pipe.wav")
        return _run(["reconstruct", str(tmp / "pipe.wav"), "--model", str(good),
                     "--out", str(tmp / "pipe-out.wav")])

    blocker = tmp / "a-file"
    blocker.write_text("")
    return [
        ("reconstruct x.wav --out x.wav", lambda: _run(
            ["reconstruct", str(song), "--model", str(good), "--out", str(song)])),
        ("reconstruct x.wav --out (hard link to x.wav)", lambda: _run(
            ["reconstruct", str(song), "--model", str(good), "--out",
             str(tmp / "x-hardlink.wav")])),
        ("edit x.wav --out x.wav", lambda: _run(
            ["edit", str(song), "--model", str(good), "--out", str(song)])),
        ("edit x.wav --mix y.wav --out y.wav", lambda: _run(
            ["edit", str(song), "--mix", str(other), "--model", str(good), "--out",
             str(other)])),
        ("model: config.json -> /dev/zero", model_case("devzero", dev_zero)),
        ("model: model.safetensors is a FIFO", model_case("fifo", fifo)),
        ("model: channels [100000, 16]", model_case("wide", config(channels=[100_000, 16]))),
        ("model: kernel_size 1000001", model_case("kernel", config(kernel_size=1_000_001))),
        ("model: clip_samples 1", model_case("clip1", config(clip_samples=1))),
        ("model: channels [256, 256], kernel 1025 (weights say otherwise)",
         model_case("bounded", config(channels=[256, 256], kernel_size=1025))),
        ("model: config.json nested 100 000 deep", model_case("nested", nested)),
        ("train: 4 good songs + text, empty, symlink-loop files", train_with_bad_files),
        ("train --out below a regular file", lambda: _run(
            ["train", str(_dataset(tmp, "data-ro")), *TRAIN, "--out", str(blocker / "m")])),
        ("train --resume, no checkpoint", lambda: _run(
            ["train", str(_dataset(tmp, "data-resume")), *TRAIN, "--resume", "--out",
             str(tmp / "m-resume")])),
        ("train: second run on a locked --out", train_locked),
        ("train --resume: state.json epoch \"x\"", train_resume_damaged),
        ("reconstruct a WAV named caf\\xe9.wav (Latin-1)", latin1_name),
        ("reconstruct an MP3 with 4 kB garbage mid-file", damaged_mp3),
        ("reconstruct a FIFO named pipe.wav", fifo_input),
        ("reconstruct a 1-sample WAV", lambda: _run(
            ["reconstruct", str(_tone(tmp / "one.wav", 1 / SR)), "--model", str(good),
             "--out", str(tmp / "one-out.wav")])),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="celae-crafted-") as folder:
        tmp = Path(folder)
        os.environ["CELAE_CACHE_DIR"] = str(tmp / "cache")
        os.environ["CELAE_LOG_DIR"] = str(tmp / "logs")
        rows = []
        for label, run in cases(tmp):
            code, message = run()
            rows.append((label, code, message))
            if not args.markdown:
                print(f"{code:>4}  {label:<60}  {message}", flush=True)
    if args.markdown:
        print("| input | exit | message |\n| --- | --- | --- |")
        for label, code, message in rows:
            print(f"| {label} | {code} | {message.replace('|', '/')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
