"""Train an autoencoder in the background with the core trainer (optionally on a demo dataset).

The worker thread supervises a child process (:mod:`celae_gui.workers.train_process`) that runs
the trainer, and turns the child's pipe messages into the worker's signals. A thread alone kept
the GIL busy enough to freeze the window for half a second at a time; a process cannot.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from PySide6.QtCore import Signal

from celae_gui.workers.base import BaseWorker
from celae_gui.workers.train_process import DemoDatasetSpec, run_training
from core.errors import TrainingError
from core.progress import Cancelled

__all__ = ["DemoDatasetSpec", "TrainWorker"]

POLL_S = 0.05
"""How often the supervising thread looks at the pipe and the cancel flag."""
EXIT_GRACE_S = 30.0
"""How long a child that reported its outcome (or was cancelled) may take to exit."""


class TrainWorker(BaseWorker):
    """``core.training.trainer.train(config, data, ...)``; ``epoch_done`` carries each
       ``EpochRecord``.

    ``data`` is a dataset folder or a :class:`DemoDatasetSpec`. The result is the
    ``TrainResult`` (with ``model`` None: the trained model is the folder ``out_dir``);
    cancelling stops the trainer within one batch, and the checkpoint of the last finished
    epoch stays for :attr:`resume`.
    """

    epoch_done = Signal(object)

    def __init__(self, config, data: Path | DemoDatasetSpec, *, resume: bool = False):
        super().__init__(progress_rate=4.0)
        self._config = config
        self._data = data
        self._resume = resume

    def work(self):
        # spawn, not fork: forking a process that runs Qt and torch threads can deadlock.
        ctx = multiprocessing.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        stop = ctx.Event()
        process = ctx.Process(target=run_training, name="celae-train",
                              args=(send, stop, self._config, self._data, self._resume))
        process.start()
        send.close()
        outcome: tuple = ()
        try:
            outcome = self._supervise(process, receive, stop)
        finally:
            if self.should_stop():
                stop.set()
            process.join(EXIT_GRACE_S)
            if process.is_alive():  # wedged in a native call: it must not outlive the app
                process.kill()
                process.join()
            receive.close()
        kind = outcome[0] if outcome else ""
        if kind == "result":
            return outcome[1]
        if kind == "failed":
            raise TrainingError(outcome[1])
        if kind == "cancelled" or self.should_stop():
            raise Cancelled
        raise TrainingError(f"the training process stopped unexpectedly "
                            f"(exit code {process.exitcode})")

    def _supervise(self, process, receive, stop) -> tuple:
        """Forward the child's messages until its outcome arrives or it dies."""
        while True:
            if self.should_stop():
                stop.set()
            try:
                ready = receive.poll(POLL_S)
                message = receive.recv() if ready else None
            except (EOFError, OSError):
                return ()
            if message is None:
                if not process.is_alive() and not receive.poll():
                    return ()
                continue
            kind = message[0]
            if kind == "progress":
                self.on_progress(message[1], message[2])
            elif kind == "epoch":
                self.epoch_done.emit(message[1])
            else:
                return message
