"""The training child process: runs ``core.training.trainer.train`` and reports over a pipe.

Training runs in its own process, not a thread of the app: the trainer's Python (the first
optimizer imports ``torch._dynamo`` and sympy, seconds of GIL-holding imports) stalled the
window's event loop for 450-800 ms, and its torch threads competed with the GUI's. This module
imports no Qt, so the spawned child starts with torch and core only.

Messages from the child are tuples: ``("progress", fraction, message)``, ``("epoch",
EpochRecord)``, then exactly one of ``("result", TrainResult)`` (its ``model`` is None: the model
is in ``out_dir``), ``("cancelled",)`` or ``("failed", message)``. The parent cancels by setting
a ``multiprocessing.Event``; the trainer checks it between batches.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoDatasetSpec:
    """Generate a synthetic GTZAN-layout dataset into ``folder`` before training."""

    folder: Path
    songs_per_genre: int = 3
    seconds: float = 15.0


def run_training(conn: Any, stop: Any, config: Any, data: Path | DemoDatasetSpec,
                 resume: bool) -> None:
    """Child-process entry point (module level so ``spawn`` can pickle it).

    Parameters
    ----------
    conn : multiprocessing.connection.Connection
        Write end of the pipe to the parent.
    stop : multiprocessing.Event
        Set by the parent to cancel; checked between batches.
    config : core.training.trainer.TrainConfig
        The run's settings.
    data : Path or DemoDatasetSpec
        Dataset folder, or a demo dataset to write first.
    resume : bool
        Continue from the checkpoint in ``config.out_dir``.
    """
    parent = os.getppid()

    def should_stop() -> bool:
        # An orphaned trainer (the app was killed) stops at the next batch too.
        return stop.is_set() or os.getppid() != parent

    def send(*message: Any) -> None:
        conn.send(message)

    try:
        from core.errors import CelaeError
        from core.progress import Cancelled
        from core.training.trainer import train

        try:
            if isinstance(data, DemoDatasetSpec):
                from core.data.demo import write_demo_dataset

                write_demo_dataset(
                    data.folder, songs_per_genre=data.songs_per_genre, seconds=data.seconds,
                    on_progress=lambda f, m: send(
                        "progress", 0.0, f"{m} ({f:.0%} of the demo dataset)"),
                    should_stop=should_stop)
                data = data.folder
            result = train(config, Path(data), on_progress=_phased(send),
                           should_stop=should_stop, on_epoch=lambda r: send("epoch", r),
                           resume=resume)
            send("result", dataclasses.replace(result, model=None))
        except Cancelled:
            send("cancelled")
        except CelaeError as err:
            send("failed", str(err))
        except Exception as err:  # a bug must reach the dialog, not vanish with the process
            log.error("training process crashed:\n%s", traceback.format_exc())
            send("failed", f"{type(err).__name__}: {err}")
    except (BrokenPipeError, EOFError, OSError):
        pass  # the parent is gone: nobody to report to
    finally:
        conn.close()


DATA_SHARE = 0.1
"""Share of the progress bar given to decoding the songs, before the first batch."""
TRAINING_MESSAGES = ("epoch ", "resumed ")


def _phased(send):
    """``on_progress`` for ``train``: the trainer reports decoding 0-1 and then training 0-1;
    the bar shows decoding in its first tenth so it never sits full while songs decode."""
    training = False

    def report(fraction: float, message: str) -> None:
        nonlocal training
        training = training or message.startswith(TRAINING_MESSAGES)
        if training:
            send("progress", DATA_SHARE + (1.0 - DATA_SHARE) * fraction, message)
        else:
            send("progress", DATA_SHARE * fraction, f"Preparing the data: {message}")

    return report
