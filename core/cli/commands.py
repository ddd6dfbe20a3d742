"""The ``celae`` sub-commands: each takes the parsed arguments and returns a :class:`Result`.

Heavy imports (torch, sklearn) happen inside the commands so that ``celae --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.cli.progress import ProgressBar
from core.errors import CelaeError, FileError


@dataclass
class Result:
    """What a command prints: ``text`` for people, ``data`` for ``--json``."""

    text: str
    data: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return self.data


def _bar(args: argparse.Namespace, label: str) -> ProgressBar:
    return ProgressBar(label, quiet=getattr(args, "quiet", False))


def _figures(q: dict) -> str:
    text = f"SNR {q['snr']:.2f} dB, SI-SDR {q['si_sdr']:.2f} dB"
    if q.get("log_mel_l1") is not None:
        text += f", log-mel L1 {q['log_mel_l1']:.3f}, MR-STFT {q['mr_stft']:.3f}"
    return text


def cmd_demo_data(args) -> Result:
    from core.data.demo import write_demo_dataset

    bar = _bar(args, "synthesising ")
    summary = write_demo_dataset(args.out, songs_per_genre=args.songs_per_genre,
                                 seconds=args.seconds, seed=args.seed, fmt=args.fmt,
                                 on_progress=bar)
    bar.close()
    data = summary.as_dict() if hasattr(summary, "as_dict") else {"out": str(args.out)}
    return Result(f"wrote a demo dataset to {args.out}", data)


def _load(args):
    from core.models.io import load_model

    return load_model(args.model)


def cmd_reconstruct(args) -> Result:
    import math

    from core.cli.reconstruct import reconstruct_file

    data, timings = reconstruct_file(args)
    for key in ("snr", "si_sdr", "log_mel_l1", "mr_stft"):
        if key in data and math.isnan(data[key]):
            data[key] = None  # not computed (--figures): JSON has no NaN
    data["timings"] = timings.as_dict()
    shown = {k: data.get(k) for k in ("snr", "si_sdr", "log_mel_l1", "mr_stft")}
    return Result(f"wrote {args.out}: {_figures(shown)}" if shown["snr"] is not None
                  else f"wrote {args.out}", data)


def _sr(loaded) -> int:
    from core.constants import SAMPLE_RATE

    return int(loaded.meta.get("sample_rate", SAMPLE_RATE))


def _save_checked(out: str, audio: np.ndarray) -> None:
    from core.audio.io import save_audio

    save_audio(out, audio)


def cmd_encode(args) -> Result:
    from core.atomic import atomic_path, atomic_write_text
    from core.audio.io import load_audio, split_clips
    from core.models.inference import encode

    loaded = _load(args)
    out = Path(args.out)
    if out.suffix.lower() != ".npy":
        raise FileError(out, "the latent is written as .npy: give a file name ending in .npy")
    audio = load_audio(args.audio)
    clip = loaded.model.config.clip_samples
    z = encode(loaded.model, split_clips(audio, clip))
    with atomic_path(out) as tmp:
        np.save(tmp, z.astype(np.float32), allow_pickle=False)
    meta = {"source": os.path.basename(args.audio), "model": str(loaded.path),
            "arch": loaded.arch, "sample_rate": _sr(loaded), "clip_samples": clip,
            "length_samples": int(len(audio)), "shape": list(z.shape)}
    atomic_write_text(out.with_suffix(".json"), json.dumps(meta, indent=2))
    return Result(f"wrote {out} (latent {tuple(z.shape)}) and {out.with_suffix('.json').name}",
                  {"output": str(out), **meta})


def _load_latent(path: str) -> tuple[np.ndarray, dict]:
    p = Path(path)
    if not p.is_file():
        raise FileError(p, "file not found")
    try:
        z = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FileError(p, f"not a latent .npy file ({exc})") from None
    if z.dtype.kind != "f" or z.ndim not in (2, 3):
        raise FileError(p, f"expected a float array [clips, channels, frames], got "
                           f"{z.dtype} {z.shape}")
    if z.ndim == 2:
        z = z[None]
    if not np.isfinite(z).all():
        raise FileError(p, "the latent holds NaN or infinite values")
    meta = {}
    side = p.with_suffix(".json")
    if side.is_file():
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise FileError(side, f"invalid JSON sidecar ({exc})") from None
    return z.astype(np.float32), meta


def cmd_decode(args) -> Result:
    from core.models.inference import decode

    loaded = _load(args)
    z, meta = _load_latent(args.latent)
    c, l = loaded.model.latent_shape()
    if tuple(z.shape[1:]) != (c, l):
        raise FileError(args.latent, f"latent frames {tuple(z.shape[1:])} do not fit model "
                                     f"{loaded.path.name} (expects {(c, l)})")
    audio = decode(loaded.model, z).reshape(-1)
    length = int(meta.get("length_samples", len(audio)))
    audio = audio[: min(length, len(audio))]
    _save_checked(args.out, audio)
    return Result(f"wrote {args.out} ({len(audio) / _sr(loaded):.2f} s)",
                  {"output": str(args.out), "seconds": len(audio) / _sr(loaded)})


def cmd_edit(args) -> Result:
    from core.audio.io import load_audio, split_clips
    from core.audio.metrics import quality
    from core.latent.edits import EditParams, apply_edits
    from core.models.inference import decode, encode

    loaded = _load(args)
    clip = loaded.model.config.clip_samples
    audio = load_audio(args.audio)
    clips = split_clips(audio, clip)
    z = encode(loaded.model, clips)
    other = None
    if args.mix:
        other_clips = split_clips(load_audio(args.mix), clip)
        reps = int(np.ceil(len(clips) / len(other_clips)))
        other = encode(loaded.model, np.concatenate([other_clips] * reps)[: len(clips)])
    params = EditParams(scale=args.scale, noise_sigma=args.noise, noise_seed=args.noise_seed,
                        smooth_window=args.smooth, mix_t=args.mix_t if args.mix else 0.0)
    edited = decode(loaded.model, apply_edits(z, params, other)).reshape(-1)[: len(audio)]
    _save_checked(args.out, edited)
    q = quality(audio, edited).as_dict()
    return Result(f"wrote {args.out}: edited vs original {_figures(q)}",
                  {"output": str(args.out), "edit": params.__dict__, **q})


def cmd_train(args) -> Result:
    from core.training.trainer import TrainConfig, train

    overrides = {}
    if args.ratio is not None:
        overrides["latent_ratio"] = args.ratio
    if args.activation is not None:
        overrides["activation"] = args.activation
    from core.models.registry import make_config

    try:  # a bad --arch/--ratio/--activation is a user mistake: one line, not a traceback
        make_config(args.arch, **overrides)
    except ValueError as exc:
        raise CelaeError(str(exc)) from None
    extra = {"patience": args.patience} if args.patience is not None else {}
    config = TrainConfig(arch=args.arch, model=overrides, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         device=args.device, max_clips=args.max_clips, out_dir=args.out,
                         loss=args.loss, crop=args.crop, **extra)
    bar = _bar(args, "training ")

    def on_epoch(rec) -> None:
        if not args.quiet:
            d = rec.as_dict() if hasattr(rec, "as_dict") else dict(rec)
            bar.close()
            print(f"epoch {d['epoch']}: train {d['train_loss']:.5f}  valid {d['valid_loss']:.5f}",
                  file=__import__("sys").stderr)

    result = train(config, args.data, on_progress=bar, on_epoch=on_epoch, resume=args.resume)
    bar.close()
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports
        return None
    data = result.as_dict() if hasattr(result, "as_dict") else {}
    return Result(f"saved model to {args.out}", {"out": str(args.out), **data})


def cmd_evaluate(args) -> Result:
    from core.analysis.evaluate import evaluate_model

    bar = _bar(args, "evaluating ")
    report = evaluate_model(args.model, args.data, max_clips=args.max_clips, seed=args.seed,
                            on_progress=bar)
    bar.close()
    return Result(report.text(), report.as_dict())


def cmd_models(args) -> Result:
    if args.archs:
        from core.models.registry import architectures

        names = architectures()
        return Result("\n".join(names), {"architectures": names})
    from core.models.io import list_models

    entries = list_models()
    rows = []
    for e in entries:
        rows.append({"name": e.name, "source": e.source, "arch": e.arch, "path": str(e.path),
                     "latent_shape": list(e.latent_shape) if e.latent_shape else None})
    if not rows:
        return Result("no models found", {"models": []})
    width = max(len(r["name"]) for r in rows)
    text = "\n".join(f"{r['name']:<{width}}  {r['source']:<7}  {r['arch']}  {r['path']}"
                     for r in rows)
    return Result(text, {"models": rows})


def _analysis(name: str):
    def run(args) -> Result:
        try:
            from core.cli import analysis as analysis_cli
        except ImportError as exc:  # pragma: no cover - the analysis module ships with core
            raise CelaeError(f"analysis commands are unavailable: {exc}") from None
        out = getattr(analysis_cli, name)(args)
        return Result(out.text() if callable(getattr(out, "text", None)) else str(out),
                      out.as_dict())
    return run


HANDLERS = {
    "demo-data": cmd_demo_data,
    "train": cmd_train,
    "reconstruct": cmd_reconstruct,
    "encode": cmd_encode,
    "decode": cmd_decode,
    "edit": cmd_edit,
    "evaluate": cmd_evaluate,
    "models": cmd_models,
    "classify-train": _analysis("classify_train"),
    "classify-eval": _analysis("classify_eval"),
    "classify-predict": _analysis("classify_predict"),
    "cluster": _analysis("cluster"),
    "report": _analysis("report"),
}
