"""Train an autoencoder in the background with the core trainer (optionally on a demo dataset)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal

from celae_gui.workers.base import BaseWorker


@dataclass(frozen=True)
class DemoDatasetSpec:
    """Generate a synthetic GTZAN-layout dataset into ``folder`` before training."""

    folder: Path
    songs_per_genre: int = 3
    seconds: float = 15.0


class TrainWorker(BaseWorker):
    """``core.training.train(config, data, ...)``; ``epoch_done`` carries each ``EpochRecord``.

    ``data`` is a dataset folder or a :class:`DemoDatasetSpec`. The result is the
    ``TrainResult``; cancelling raises ``Cancelled`` inside the trainer within one batch, and
    the checkpoint of the last finished epoch stays for :attr:`resume`.
    """

    epoch_done = Signal(object)

    def __init__(self, config, data: Path | DemoDatasetSpec, *, resume: bool = False):
        super().__init__(progress_rate=4.0)
        self._config = config
        self._data = data
        self._resume = resume

    def work(self):
        from core.training import train

        data = self._data
        if isinstance(data, DemoDatasetSpec):
            from core.demo_data import write_demo_dataset

            write_demo_dataset(data.folder, songs_per_genre=data.songs_per_genre,
                               seconds=data.seconds, on_progress=self._demo_progress,
                               should_stop=self.should_stop)
            data = data.folder
        return train(self._config, Path(data), on_progress=self.on_progress,
                     should_stop=self.should_stop, on_epoch=self.epoch_done.emit,
                     resume=self._resume)

    def _demo_progress(self, fraction: float, message: str) -> None:
        self.on_progress(0.0, f"{message} ({fraction:.0%} of the demo dataset)")
