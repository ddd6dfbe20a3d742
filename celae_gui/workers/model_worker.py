"""Load a model folder in the background (importing torch takes seconds at launch)."""

from __future__ import annotations

import os
from pathlib import Path

from celae_gui.workers.base import BaseWorker

MAX_GUI_TORCH_THREADS = 4


def gui_torch_threads() -> int:
    """Intra-op torch threads for the app's own work (decoding, spectra, figures).

    Several workers run torch at once (edits, quality, reconstruction), each with its own
    OpenMP team; on a small machine the teams' spinning threads took the cores from each other
    and from the GUI (a 5 s log-mel took 130 ms with 2 threads on a busy 2-core box, 8 ms with
    1). So: half the cores, at least one, at most :data:`MAX_GUI_TORCH_THREADS`. Training runs
    in its own process with its own setting.
    """
    return max(1, min(MAX_GUI_TORCH_THREADS, (os.cpu_count() or 1) // 2))


class ModelLoadWorker(BaseWorker):
    """``core.models.io.load_model(name_or_path)``; ``result`` carries the ``LoadedModel``."""

    def __init__(self, name_or_path: str | Path | None):
        super().__init__()
        self._name = name_or_path

    def work(self):
        import torch

        from core.models.io import load_model

        # Threads that have not run torch yet pick this up on their first parallel op.
        if torch.get_num_threads() > gui_torch_threads():
            torch.set_num_threads(gui_torch_threads())
        self.on_progress(0.0, "Loading model")
        return load_model(self._name)
