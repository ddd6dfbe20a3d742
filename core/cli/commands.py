"""The ``celae`` sub-commands: each takes the parsed arguments and returns a :class:`Result`.

Heavy imports (torch, sklearn) happen inside the commands so that ``celae --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.atomic import ensure_not_input
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
    text = (f"wrote {args.out}: {_figures(shown)}" if shown["snr"] is not None
            else f"wrote {args.out}")
    if getattr(args, "visqol", False):
        text += _visqol_of_output(args, data)
    return Result(text, data)



def _visqol_of_output(args, data: dict) -> str:
    """Add the output's ViSQOL against the input to ``data``; return the words to print.

    Read back from the two files, so it does not depend on how the output was rendered.
    """
    from core.audio.visqol import files_visqol

    bar = _bar(args, "ViSQOL ")
    figure = files_visqol(args.audio, args.out, ref_offset=args.offset, on_progress=bar)
    bar.close()
    data.update(figure.as_dict())
    if figure.score is None:
        return f", ViSQOL {figure.scope}"
    return f", ViSQOL {figure.score:.2f} ({figure.scope})"


def _sr(loaded) -> int:
    from core.constants import SAMPLE_RATE

    return int(loaded.meta.get("sample_rate", SAMPLE_RATE))


def _save_checked(out: str, audio: np.ndarray) -> None:
    from core.audio.writer import save_audio

    save_audio(out, audio)


def _model_ref(loaded):
    from core.latent.file import ModelRef

    return ModelRef(loaded.name, loaded.arch, loaded.weights_sha256)


def cmd_encode(args) -> Result:
    from core.audio.io import load_audio
    from core.latent.file import LatentFile, save_latent
    from core.latent.quantize import kbps
    from core.models.inference import encode_song

    loaded = _load(args)
    out = Path(args.out)
    audio = load_audio(args.audio)
    song = encode_song(loaded.model, audio)
    lf = LatentFile(z=song.z, length=song.length, window=song.clip_samples, hop=song.hop,
                    sample_rate=_sr(loaded), model=_model_ref(loaded),
                    source=os.path.basename(args.audio), bits=args.bits)
    save_latent(out, lf, bits=args.bits)
    size = out.stat().st_size
    rate = kbps(song.z[0].size * _sr(loaded) / song.clip_samples, args.bits)
    data = {"output": str(out), "source": lf.source, "model": loaded.name, "arch": loaded.arch,
            "bits": args.bits, "shape": list(song.z.shape), "window": song.clip_samples,
            "hop": song.hop, "length_samples": song.length, "bytes": size, "kbps": rate}
    return Result(f"wrote {out} (latent {tuple(song.z.shape)} at {args.bits} bits, "
                  f"{size} bytes, {rate:.1f} kbps)", data)


def _decode_model(args, lf):
    """The model to decode ``lf`` with: ``--model``, else the one the file names."""
    from core.errors import ModelLoadError
    from core.models.io import load_model

    name = args.model
    if name is None and lf.model.name:
        try:
            return load_model(lf.model.name)
        except ModelLoadError:
            raise FileError(args.latent, f"was written by model {lf.model.name!r}, which is not "
                                         "installed here: pass --model") from None
    return load_model(name)


def cmd_decode(args) -> Result:
    from core.latent.file import load_latent, with_model_layout
    from core.models.inference import decode_latent

    lf = load_latent(args.latent)
    loaded = _decode_model(args, lf)
    lf = with_model_layout(lf, loaded.model.clip_samples)
    sha = str(loaded.meta.get("weights_sha256", ""))
    if lf.model.weights_sha256 and sha and sha != lf.model.weights_sha256:
        raise FileError(args.latent, f"was written by model {lf.model.name!r} with other "
                                     f"weights than {loaded.name!r} has (checksums differ): "
                                     "decode it with the model that wrote it")
    c, l = loaded.model.latent_shape(lf.window)
    if tuple(lf.z.shape[1:]) != (c, l):
        raise FileError(args.latent, f"latent frames {tuple(lf.z.shape[1:])} do not fit model "
                                     f"{loaded.name} (expects {(c, l)})")
    audio = decode_latent(loaded.model, lf.song_latent())
    _save_checked(args.out, audio)
    return Result(f"wrote {args.out} ({len(audio) / lf.sample_rate:.2f} s)",
                  {"output": str(args.out), "seconds": len(audio) / lf.sample_rate,
                   "length_samples": len(audio), "model": loaded.name, "bits": lf.bits})


def cmd_edit(args) -> Result:
    from core.audio.io import load_audio, split_clips
    from core.audio.metrics import quality
    from core.latent.edits import EditParams, apply_edits
    from core.models.inference import decode, encode

    ensure_not_input(args.out, args.audio, args.mix)
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


TIMED_EPOCHS = 100_000
"""Epoch cap of a ``--minutes`` run without ``--epochs``: the budget ends it long before."""


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
    timed = args.minutes is not None
    extra = {"patience": args.patience} if args.patience is not None else {}
    if timed and args.patience is None:
        extra["patience"] = None  # the budget ends the run; a noisy plateau should not
    epochs = args.epochs if args.epochs is not None else (TIMED_EPOCHS if timed else 10)
    config = TrainConfig(arch=args.arch, model=overrides, epochs=epochs,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         device=args.device, max_clips=args.max_clips, out_dir=args.out,
                         loss=args.loss, crop=args.crop, max_minutes=args.minutes,
                         valid_clips=args.valid_clips or None, grad_clip=args.grad_clip,
                         ema=args.ema,
                         valid_fraction=args.valid_fraction,
                         lr_schedule=args.lr_schedule, threads=args.threads, **extra)
    bar = _bar(args, "training ")

    def on_epoch(rec) -> None:
        if not args.quiet:
            bar.close()
            print(f"epoch {rec.epoch}: train {rec.train_loss:.5f}  valid {rec.valid_loss:.5f}  "
                  f"{rec.steps} steps, {rec.steps_per_s:.2f} steps/s  "
                  f"data wait {100 * rec.data_wait_fraction:.1f} %  "
                  f"validation {100 * rec.valid_fraction:.1f} % of {rec.seconds:.0f} s",
                  file=sys.stderr, flush=True)

    result = train(config, args.data, on_progress=bar, on_epoch=on_epoch, resume=args.resume)
    bar.close()
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports
        return None
    data = result.as_dict() if hasattr(result, "as_dict") else {}
    skipped = data.get("skipped") or []
    note = (f" ({len(skipped)} input files skipped; each is listed above with its reason)"
            if skipped else "")
    if data.get("warnings"):
        note += " (without its latent PCA: see the warning above)"
    return Result(f"saved model to {args.out}{note}", {"out": str(args.out), **data})


def cmd_evaluate(args) -> Result:
    from core.analysis.evaluate import evaluate_model

    bar = _bar(args, "evaluating ")
    report = evaluate_model(args.model, args.data, max_clips=args.max_clips, seed=args.seed,
                            visqol=args.visqol, on_progress=bar)
    bar.close()
    return Result(report.text(), report.as_dict())


def _default_model_path():
    """The folder ``--model`` falls back to, or None when no model is installed."""
    from core.errors import ModelLoadError
    from core.models.io import resolve_model

    try:
        return resolve_model(None)
    except ModelLoadError:
        return None


def cmd_models(args) -> Result:
    if args.archs:
        from core.models.registry import architectures

        names = architectures()
        return Result("\n".join(names), {"architectures": names})
    from core.latent.bitrate import entry_bitrate
    from core.models.io import list_models

    entries = list_models()
    rates = [entry_bitrate(e) for e in entries]
    default = _default_model_path()
    rows = []
    for e, rate in zip(entries, rates, strict=True):
        rows.append({"name": e.name, "source": e.source, "arch": e.arch, "path": str(e.path),
                     "default": e.path == default,
                     "latent_shape": list(e.latent_shape) if e.latent_shape else None,
                     **(rate.as_dict() if rate else {})})
    if not rows:
        return Result("no models found", {"models": []})
    width = max(len(r["name"]) for r in rows)
    text = "\n".join(f"{e.name:<{width}}  {'default' if r['default'] else e.source:<7}  "
                     f"{e.arch}  {rate.text() if rate else 'no latent shape'}  {e.path}"
                     for e, rate, r in zip(entries, rates, rows, strict=True))
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


def cmd_export(args) -> Result:
    from core.export import export_model

    bar = _bar(args, "exporting ")
    result = export_model(args.model, args.out, args.fmt, on_progress=bar)
    bar.close()
    p = result.parity
    text = (f"wrote {', '.join(f.name for f in result.files)} to {result.folder}: matches torch "
            f"(worst SI-SDR {p.worst_si_sdr_db:.1f} dB, max abs diff "
            f"{p.worst_max_abs_diff:.2g})")
    return Result(text, {"folder": str(result.folder), "format": result.format,
                         "model": result.model_name, "files": [str(f) for f in result.files],
                         "parity": p.as_dict()})


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
    "export": cmd_export,
}
