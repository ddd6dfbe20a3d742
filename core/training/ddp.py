"""Command-line entry point of the trainer, for one process or a ``torchrun`` job.

    python -m core.training DATA --out MODEL_DIR [--epochs 10] [--resume] ...
    torchrun --nproc-per-node 2 -m core.training DATA --out MODEL_DIR ...

Under ``torchrun`` every rank runs :func:`core.training.trainer.train` (which joins the process
group,
shards the data and lets rank 0 alone write files); only rank 0 prints. Epoch lines and the
final JSON summary go to stdout, errors to stderr as one line with exit status 1.

``celae train`` can run under ``torchrun`` the same way, since ``train`` does the distributed
work itself; :func:`train_from_cli_args` is the piece a CLI can share.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from core.errors import CelaeError
from core.progress import Cancelled


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the trainer's options (``DATA``, ``--out`` and the :class:`TrainConfig` fields)."""
    parser.add_argument("data", metavar="DATA", help="dataset folder")
    parser.add_argument("--out", required=True, metavar="MODEL_DIR")
    parser.add_argument("--arch", default="CELAutoencoderSiLU")
    parser.add_argument("--model", default="{}", metavar="JSON",
                        help='architecture overrides, e.g. \'{"latent_ratio": 4}\'')
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=16, help="clips per batch per process")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--valid-fraction", type=float, default=0.2)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--loss", default="mse")
    parser.add_argument("--crop", type=int, default=None)
    parser.add_argument("--max-clips", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")


def config_from_args(args: argparse.Namespace) -> Any:
    """The :class:`core.training.trainer.TrainConfig` the parsed options describe."""
    from core.errors import TrainingError
    from core.training.trainer import TrainConfig

    try:
        overrides = json.loads(args.model)
    except ValueError as exc:
        raise TrainingError(f"--model is not JSON ({exc})") from None
    return TrainConfig(arch=args.arch, model=overrides, epochs=args.epochs,
                       batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                       device=args.device, valid_fraction=args.valid_fraction,
                       patience=args.patience, loss=args.loss, crop=args.crop,
                       max_clips=args.max_clips, out_dir=args.out, threads=args.threads)


def train_from_cli_args(args: argparse.Namespace) -> dict[str, Any]:
    """Train as the parsed options say; print epoch lines on rank 0; return the summary."""
    from core.training.trainer import train

    rank0 = int(os.environ.get("RANK", "0")) == 0

    def on_epoch(rec: Any) -> None:
        print(f"epoch {rec.epoch}: train {rec.train_loss:.5f}  valid {rec.valid_loss:.5f}  "
              f"SI-SDR {rec.valid_si_sdr:.2f} dB  {rec.clips_per_s:.1f} clips/s  "
              f"data wait {100 * rec.data_wait_fraction:.1f}%", flush=True)

    result = train(config_from_args(args), args.data, on_epoch=on_epoch if rank0 else None,
                   resume=args.resume)
    return result.as_dict()


def main(argv: list[str] | None = None) -> int:
    """Run the trainer from the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m core.training",
                                     description="Train an autoencoder (torchrun-aware).")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        summary = train_from_cli_args(args)
    except (CelaeError, Cancelled) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
