"""Load a model folder in the background (importing torch takes seconds at launch)."""

from __future__ import annotations

from pathlib import Path

from celae_gui.workers.base import BaseWorker


class ModelLoadWorker(BaseWorker):
    """``core.model_io.load_model(name_or_path)``; ``result`` carries the ``LoadedModel``."""

    def __init__(self, name_or_path: str | Path | None):
        super().__init__()
        self._name = name_or_path

    def work(self):
        from core.model_io import load_model

        self.on_progress(0.0, "Loading model")
        return load_model(self._name)
