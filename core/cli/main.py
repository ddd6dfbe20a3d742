"""The ``celae`` command line: argument parsing and dispatch.

Each sub-command is a thin function in :mod:`core.cli.commands` over the same core functions the
app uses. Exit codes: 0 success, 1 a one-line error (bad file, bad model, training failure),
2 a usage error (argparse's own), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from core import __version__
from core.errors import CelaeError
from core.logs import setup_logging

# What --max-clips means everywhere (core.data.limit); kept here so parsing imports no numpy.
MAX_CLIPS_HELP = ("use at most this many clips in all: whole songs, spread over the genres, in "
                  "the train/valid proportions")
REPORT_ARCHS = ("CELAutoencoderLeakyReLU", "CELAutoencoderSiLU", "CELAutoencoder2",
                "CELAutoencoder3")


def _common() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout (progress stays on stderr)")
    parent.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    return parent


def _model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", "-m", default=None, metavar="M",
                   help="model folder or a name from `celae models` (default: the bundled model)")


def _visqol_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--visqol", action="store_true",
                   help="also compute ViSQOL v3 (audio mode, 48 kHz; about 1 s of CPU per "
                        "second of audio, so a long song is scored on three 5 s clips)")


def build_parser() -> argparse.ArgumentParser:
    """The full ``celae`` argument parser (also used to render the README's command list)."""
    common = _common()
    parser = argparse.ArgumentParser(
        prog="celae", description="Train, hear and explore convolutional autoencoders of music.")
    parser.add_argument("--version", action="version", version=f"celae {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("demo-data", parents=[common],
                       help="write a GTZAN-layout dataset of synthesised music")
    p.add_argument("out", metavar="OUT")
    p.add_argument("--songs-per-genre", type=int, default=10)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", dest="fmt", default="wav", choices=["wav", "flac", "mp3", "ogg"])

    p = sub.add_parser("train", parents=[common], help="train an autoencoder on a folder of audio")
    p.add_argument("data", metavar="DATA", help="dataset folder (GTZAN layout or any audio)")
    p.add_argument("--arch", default="CELAutoencoderSiLU",
                   help="architecture name (see `celae models --archs`)")
    p.add_argument("--ratio", type=float, default=None, help="latent ratio (input / latent)")
    p.add_argument("--activation", default=None)
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs to train (default 10; with --minutes, as many as fit)")
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-time budget: stop after this many minutes with the best model "
                        "saved (the learning rate then decays linearly over the budget)")
    p.add_argument("--valid-fraction", type=float, default=0.2,
                   help="share of the songs held out for validation (default 0.2)")
    p.add_argument("--valid-clips", type=int, default=16,
                   help="validate on this many validation clips, a fixed seeded subset "
                        "(default 16; 0 = the whole validation split)")
    p.add_argument("--grad-clip", type=float, default=None,
                   help="clip the gradient norm to this value (scripts/bench_rd.py uses 1)")
    p.add_argument("--ema", type=float, default=None, metavar="DECAY",
                   help="validate and save an exponential moving average of the weights with "
                        "this decay per step (e.g. 0.999, about the last 1000 steps)")
    p.add_argument("--lr-schedule", default="auto", choices=["auto", "plateau", "linear"],
                   help="plateau: lower on a validation plateau; linear: decay to 10 %% over "
                        "the run; auto (default): linear with --minutes, else plateau")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's own; 1 per run when two train "
                        "at once on two cores)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--max-clips", type=int, default=None, help=MAX_CLIPS_HELP)
    p.add_argument("--patience", type=int, default=None, help="early-stopping patience (epochs)")
    p.add_argument("--loss", default="auto",
                   help="mse (the report's), spectral, spectral_wave, spectral_snr, "
                        "spectral_snr2, spectral_snr2_lite, or auto: the architecture's own "
                        "(default)")
    p.add_argument("--crop", type=int, default=None, metavar="SAMPLES",
                   help="train on random windows of this many samples (cheaper epochs)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--out", required=True, metavar="MODEL_DIR")

    p = sub.add_parser("reconstruct", parents=[common],
                       help="encode and decode a song, write the result, print quality figures")
    p.add_argument("audio", metavar="AUDIO")
    _model_arg(p)
    p.add_argument("--out", required=True, metavar="OUT.wav")
    p.add_argument("--offset", type=float, default=0.0, help="start, in seconds")
    p.add_argument("--duration", type=float, default=None, help="length, in seconds (default all)")
    p.add_argument("--figures", default="auto", choices=["auto", "all", "basic", "none"],
                   help="quality figures: all (SNR, SI-SDR, log-mel L1, MR-STFT), basic (SNR, "
                        "SI-SDR), none; auto: all up to 60 s of audio, basic beyond")
    p.add_argument("--no-normalize", dest="normalize", action="store_false",
                   help="skip peak normalisation (as `celae encode` and the app do it), which "
                        "needs one extra decoding pass to find the peak")
    p.add_argument("--engine", default="auto", choices=["auto", "onnx", "torch"],
                   help="run the model with onnxruntime (auto: when installed) or torch")
    p.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1),
                   help="compute threads for the model (default: the cores, at most 4; the "
                        "decoding runs beside them)")
    _visqol_arg(p)

    p = sub.add_parser("encode", parents=[common], help="write a song's latent as a .celat file")
    p.add_argument("audio", metavar="AUDIO")
    _model_arg(p)
    p.add_argument("--out", required=True, metavar="Z.celat")
    p.add_argument("--bits", type=int, choices=(32, 16, 8), default=32,
                   help="bits per latent value: 32 (float32), 16 (float16) or 8 (mu-law codes "
                        "with a per-channel scale); default 32")

    p = sub.add_parser("decode", parents=[common],
                       help="decode a .celat latent (or an older .npy + .json) back to audio")
    p.add_argument("latent", metavar="Z.celat")
    p.add_argument("--model", "-m", default=None, metavar="M",
                   help="model folder or name (default: the model named in the latent file)")
    p.add_argument("--out", required=True, metavar="OUT.wav")

    p = sub.add_parser("edit", parents=[common], help="edit a song's latent and decode it")
    p.add_argument("audio", metavar="AUDIO")
    _model_arg(p)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--noise", type=float, default=0.0, help="Gaussian noise sigma")
    p.add_argument("--noise-seed", type=int, default=0)
    p.add_argument("--smooth", type=int, default=1, help="moving-average window (frames)")
    p.add_argument("--mix", metavar="AUDIO2", default=None,
                   help="interpolate toward this song's latent")
    p.add_argument("--mix-t", type=float, default=0.5)
    p.add_argument("--out", required=True, metavar="OUT.wav")

    p = sub.add_parser("evaluate", parents=[common],
                       help="quality figures of a model over a dataset's validation split")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data", metavar="DATA")
    p.add_argument("--max-clips", type=int, default=None, help=MAX_CLIPS_HELP)
    p.add_argument("--seed", type=int, default=0)
    _visqol_arg(p)

    p = sub.add_parser("models", parents=[common], help="list bundled and user models")
    p.add_argument("--archs", action="store_true", help="list architecture names instead")

    _add_analysis(sub, common)
    _add_export(sub, common)
    return parser


def _add_export(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("export", parents=[common],
                       help="write a model's encoder and decoder as ONNX or TorchScript, "
                            "checked against torch")
    p.add_argument("model", metavar="MODEL", help="model folder or a name from `celae models`")
    p.add_argument("--format", dest="fmt", default="onnx", choices=["onnx", "torchscript"])
    p.add_argument("--out", required=True, metavar="DIR")


def _add_analysis(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("classify", help="genre classifier on the frozen encoder's latent")
    csub = p.add_subparsers(dest="classify_command", metavar="ACTION", required=True)
    c = csub.add_parser("train", parents=[common], help="train a classifier")
    c.add_argument("data", metavar="DATA")
    _model_arg(c)
    c.add_argument("--out", required=True, metavar="CLF")
    c.add_argument("--epochs", type=int, default=30)
    c.add_argument("--head", default=None, help="classifier head (default: the pooled head)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--device", default="auto")
    c.add_argument("--max-clips", type=int, default=None, help=MAX_CLIPS_HELP)
    c.add_argument("--no-baselines", action="store_true",
                   help="skip the mel-CNN and MFCC baselines (they do not depend on the model: "
                        "the same data and seed give the same split and the same figures)")
    c.add_argument("--clips-per-song", type=int, default=None, metavar="N",
                   help="at most N clips of each song, evenly spread (long soundtracks)")
    c.add_argument("--trained-on", default=None, metavar="LABEL",
                   help="what the genre bars say it learnt from (default: the folder's name)")
    c.add_argument("--members", type=int, default=1, metavar="N",
                   help="average N heads fitted from seeds SEED.. (steadier than one; the MFCC "
                        "baseline is averaged alike)")
    c = csub.add_parser("eval", parents=[common], help="evaluate a classifier on a dataset")
    c.add_argument("clf", metavar="CLF")
    c.add_argument("data", metavar="DATA")
    c.add_argument("--device", default="auto")
    c = csub.add_parser("predict", parents=[common], help="genre probabilities of a song")
    c.add_argument("clf", metavar="CLF")
    c.add_argument("audio", metavar="AUDIO")
    c.add_argument("--device", default="auto")

    p = sub.add_parser("cluster", parents=[common],
                       help="PCA + KMeans sweep of a dataset's latents")
    p.add_argument("data", metavar="DATA")
    _model_arg(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-clips", type=int, default=None, help=MAX_CLIPS_HELP)
    p.add_argument("--device", default="auto")

    p = sub.add_parser("report", parents=[common], help="write an HTML analysis report")
    p.add_argument("data", metavar="DATA")
    _model_arg(p)
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--clf", default=None, metavar="CLF",
                   help="a trained classifier to report on (default: train a probe on the fly)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-clips", type=int, default=None, help=MAX_CLIPS_HELP)
    p.add_argument("--device", default="auto")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``celae`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    from core.cli import commands as cli_commands

    parser = build_parser()
    args = parser.parse_args(argv)
    name = args.command if args.command != "classify" else f"classify-{args.classify_command}"
    handler = cli_commands.HANDLERS[name]
    log_path = setup_logging("cli")
    log = logging.getLogger("celae.cli")
    log.info("celae %s", " ".join(sys.argv[1:] if argv is None else argv))
    try:
        result = handler(args)
    except CelaeError as err:
        log.info("failed: %s", err)  # the terminal gets it just below, once
        print(f"celae: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        log.info("interrupted")
        print("celae: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: the traceback goes to the log, one line to the terminal
        logging.getLogger("celae").critical("uncaught exception", exc_info=True)
        print(f"celae: internal error: {type(err).__name__}: {err} (the traceback is in "
              f"{log_path}; please attach it to a bug report)", file=sys.stderr)
        return 1
    if result is None:
        return 0
    if getattr(args, "json", False):
        json.dump(result.as_json(), sys.stdout, indent=2, default=_json_default)
        sys.stdout.write("\n")
    else:
        print(result.text)
    return 0


def _json_default(obj):
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        raise TypeError(repr(obj)) from None
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)

