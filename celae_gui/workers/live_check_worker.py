"""Time the current model live at a block size, before the user starts Live input.

``core.models.live.measure_live`` runs a few blocks of noise through the model (the first call
per model also measures its receptive field): a fraction of a second to a few seconds, so it
runs off the GUI thread.
"""

from __future__ import annotations

from celae_gui.workers.base import BaseWorker


class LiveCheckWorker(BaseWorker):
    """``result`` carries a ``core.models.live.LiveReport``."""

    def __init__(self, model, block: int, sample_rate: int):
        super().__init__()
        self._model = model
        self._block = int(block)
        self._sample_rate = int(sample_rate)

    def work(self):
        from core.errors import CelaeError
        from core.models.live import measure_live

        try:
            return measure_live(self._model, self._block, self._sample_rate, blocks=12)
        except ValueError as err:  # a block off the model's grid, a clip-only model
            raise CelaeError(str(err)) from err
