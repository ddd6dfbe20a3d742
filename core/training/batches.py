"""Training batches from an in-memory clip set, prepared ahead on a background thread.

Clips are held as int16; turning a batch into ``float32`` (and cropping it) is cheap but not free
at 110 250 samples a clip, so a thread prepares the next batches while the model trains on the
current one. :class:`BatchStream` measures how long the training loop waited for data, which is
the figure that tells whether the pipeline starves the model.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from core.data.clip_cache import INT16_SCALE


def make_batch(clipset: Any, indices: np.ndarray, offsets: np.ndarray | None,
               crop: int | None) -> np.ndarray:
    """Float audio of the clips ``indices``, each cropped to ``crop`` samples at ``offsets``.

    Returns
    -------
    np.ndarray[B, T] or np.ndarray[B, crop]
        ``float32`` in [-1, 1].
    """
    if crop is None:
        return clipset.float_batch(indices)
    clips = clipset.clips
    rows = np.stack([clips[i, o:o + crop] for i, o in zip(indices, offsets, strict=True)])
    return rows.astype(np.float32) * np.float32(1.0 / INT16_SCALE)


class BatchStream:
    """Iterate ``Tensor[B, 1, T]`` batches on ``device``, optionally prepared ahead by a thread.

    Parameters
    ----------
    clipset : ClipSet
        Holds ``clips`` (int16 ``[N, T]``) and ``float_batch(indices)``.
    batches : list of np.ndarray
        Clip indices of each batch, in order.
    offsets : list of np.ndarray, optional
        Crop start of each clip of each batch (with ``crop``).
    crop : int, optional
        Crop length in samples; ``None`` keeps whole clips.
    device : torch.device
        Where the batches go (pinned memory first when it is a GPU).
    prefetch : int
        Batches prepared ahead; 0 prepares each batch in the loop's own thread.

    Attributes
    ----------
    wait_seconds : float
        Time the consumer spent waiting for batches so far.
    """

    def __init__(self, clipset: Any, batches: list[np.ndarray], *,
                 offsets: list[np.ndarray] | None = None, crop: int | None = None,
                 device: torch.device, prefetch: int = 2):
        self._clipset = clipset
        self._batches = batches
        self._offsets = offsets
        self._crop = crop
        self._device = device
        self._prefetch = prefetch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.wait_seconds = 0.0

    def __len__(self) -> int:
        return len(self._batches)

    def _prepare(self, b: int) -> torch.Tensor:
        offsets = self._offsets[b] if self._offsets is not None else None
        x = torch.from_numpy(make_batch(self._clipset, self._batches[b], offsets, self._crop))
        x = x.unsqueeze(1)
        if self._device.type == "cuda":
            x = x.pin_memory()
        return x

    def __iter__(self) -> Iterator[torch.Tensor]:
        if self._prefetch <= 0:
            for b in range(len(self._batches)):
                start = time.perf_counter()
                x = self._prepare(b).to(self._device, non_blocking=True)
                self.wait_seconds += time.perf_counter() - start
                yield x
            return
        q: queue.Queue = queue.Queue(maxsize=self._prefetch)
        self._thread = threading.Thread(target=self._produce, args=(q,), daemon=True,
                                        name="celae-batches")
        self._thread.start()
        try:
            for _ in range(len(self._batches)):
                start = time.perf_counter()
                item = q.get()
                if isinstance(item, BaseException):
                    raise item
                x = item.to(self._device, non_blocking=True)
                self.wait_seconds += time.perf_counter() - start
                yield x
        finally:
            self.close()

    def _produce(self, q: queue.Queue) -> None:
        try:
            for b in range(len(self._batches)):
                if not self._put(q, self._prepare(b)):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(q, exc)

    def _put(self, q: queue.Queue, item: Any) -> bool:
        # A bounded wait, so a consumer that stopped early never leaves this thread blocked.
        while not self._stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        """Stop the producer thread and wait for it (safe to call twice)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
