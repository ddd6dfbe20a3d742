"""``celae reconstruct``: one streaming pass, file in to file out, in bounded memory.

Blocks are decoded (:func:`core.audio.io.iter_blocks`) on a reader thread, cut into the
windows of :func:`core.models.inference.reconstruct_song` and run through the model
(:func:`core.models.streaming.stream_song`); finished output goes straight to the output file
(:func:`core.audio.writer.open_writer`) and into the running quality figures
(:class:`core.audio.stream_metrics.RunningQuality`). Memory holds a few windows and blocks
whatever the song's length. The model runs through onnxruntime when it is installed
(:mod:`core.models.onnx_engine`, no torch import once a model's graph is cached), else torch.

The input is peak-normalised, as ``celae encode`` and the app do, so ``encode`` then ``decode``
gives the same file; finding the peak costs one decoding pass before the streaming one, which
``--no-normalize`` skips. That pass keeps what it decoded for songs up to
:data:`KEEP_DECODED_SECONDS` (a bounded 53 MB at most), so they are decoded once, and runs while
the model loads. The spectral figures (log-mel L1, MR-STFT) cost about as much as
the default model, so ``--figures auto`` computes them for songs up to
:data:`SPECTRAL_AUTO_SECONDS` only; ``--figures all`` always, ``basic`` gives SNR and SI-SDR
(free), ``none`` nothing.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from core.atomic import ensure_not_input
from core.constants import SAMPLE_RATE
from core.errors import CelaeError

SPECTRAL_AUTO_SECONDS = 60.0
"""Longest song whose spectral figures ``--figures auto`` computes."""

BLOCK_SECONDS = 10.0
_QUEUE_BLOCKS = 3
KEEP_DECODED_SECONDS = 600.0
"""Longest song whose peak pass keeps its decoded blocks for the model (float32 at 22 050 Hz:
53 MB), instead of decoding the file a second time."""


@dataclass
class Timings:
    """Seconds spent per stage (decode is the reader thread's own time, overlapped with the
    model's; model is the time the writing thread waits for the model, which with onnxruntime
    computes the next windows while this thread writes and scores the last)."""

    model_load: float = 0.0
    decode: float = 0.0
    model: float = 0.0
    figures: float = 0.0
    write: float = 0.0
    total: float = 0.0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: round(v, 4) for k, v in self.__dict__.items() if k != "extra"} | self.extra


def _reader(path: str, offset: float, duration: float | None, scale: float,
            timings: Timings) -> Iterator[np.ndarray]:
    """Blocks decoded on a thread, ``_QUEUE_BLOCKS`` ahead of the model (both release the
    GIL in their C code, so on two cores decoding costs the model nothing)."""
    from core.audio.io import iter_blocks

    q: queue.Queue = queue.Queue(maxsize=_QUEUE_BLOCKS)
    done = object()
    stop = threading.Event()

    def run() -> None:
        t0 = time.thread_time()
        try:
            for block in iter_blocks(path, BLOCK_SECONDS, offset=offset, duration=duration):
                if scale != 1.0:
                    block *= np.float32(scale)
                while not stop.is_set():
                    try:
                        q.put(block, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as err:  # handed to the consumer, raised there
            q.put(err)
        finally:
            timings.decode = time.thread_time() - t0

    thread = threading.Thread(target=run, name="celae-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _peak(path: str, offset: float, duration: float | None,
          keep_samples: int = 0, threads: int = 1) -> tuple[float, list[np.ndarray] | None]:
    """The peak of the window, and its decoded blocks when they total at most
    ``keep_samples`` (else None: the caller decodes again); the halves of a long file decode
    on two threads when ``threads`` > 1 (:func:`core.audio.io.iter_blocks`)."""
    from core.audio.io import iter_blocks

    peak, kept, total = 0.0, [], 0
    for block in iter_blocks(path, BLOCK_SECONDS, offset=offset, duration=duration,
                             threads=threads):
        peak = max(peak, float(block.max()), -float(block.min()))
        total += len(block)
        if kept is not None and total <= keep_samples:
            kept.append(block)
        else:
            kept = None
    return peak, kept


def _scaled(blocks: list[np.ndarray], scale: float) -> Iterator[np.ndarray]:
    """The kept blocks, scaled in place, each let go once handed on."""
    while blocks:
        block = blocks.pop(0)
        if scale != 1.0:
            block *= np.float32(scale)
        yield block


class _Timed:
    """A window function whose calls (and, for an asynchronous one, the waits for its output)
    add to ``timings.model``: the time the writing thread waits for the model."""

    def __init__(self, fn, timings: Timings):
        self.fn, self.timings = fn, timings
        if hasattr(fn, "submit"):
            self.submit = self._submit

    def __call__(self, first: int, windows: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        out = self.fn(first, windows)
        self.timings.model += time.perf_counter() - t0
        return out

    def _submit(self, first: int, windows: np.ndarray):
        t0 = time.perf_counter()
        result = self.fn.submit(first, windows)
        self.timings.model += time.perf_counter() - t0

        def wait() -> np.ndarray:
            t1 = time.perf_counter()
            out = result()
            self.timings.model += time.perf_counter() - t1
            return out

        return wait


def _model(args, timings: Timings):
    """``(window_fn, clip, sample_rate, name, engine)`` for ``--model`` and ``--engine``."""
    t0 = time.perf_counter()
    engine = getattr(args, "engine", "auto")
    threads = max(1, int(getattr(args, "threads", 1) or 1))
    if engine in ("auto", "onnx"):
        from core.models import onnx_engine

        if onnx_engine.available():
            m = onnx_engine.load_onnx(args.model, threads=threads)
            timings.model_load = time.perf_counter() - t0
            timings.extra["onnx_exported"] = m.exported
            return m, m.clip_samples, m.sample_rate, str(m.path), "onnx"
        if engine == "onnx":
            raise CelaeError("--engine onnx: onnxruntime is not installed")
    import torch

    from core.models.io import load_model
    from core.models.streaming import torch_window_fn

    torch.set_num_threads(threads)
    loaded = load_model(args.model)
    timings.model_load = time.perf_counter() - t0
    m = loaded.model
    return torch_window_fn(m), m.clip_samples, m.sample_rate, str(loaded.path), "torch"


def _spectral(args, path: str) -> bool:
    choice = getattr(args, "figures", "auto")
    if choice != "auto":
        return choice == "all"
    from core.audio.io import probe

    info = probe(path)
    seconds = info.duration - args.offset
    if args.duration is not None:
        seconds = min(seconds, args.duration)
    return seconds <= SPECTRAL_AUTO_SECONDS


def reconstruct_file(args) -> tuple[dict, Timings]:
    """Run ``celae reconstruct`` for parsed ``args``; return its JSON data and timings."""
    from core.audio.stream_metrics import RunningQuality
    from core.audio.writer import open_writer
    from core.models.streaming import stream_song

    start = time.perf_counter()
    timings = Timings()
    ensure_not_input(args.out, args.audio)
    # The model loads (file hashing and onnxruntime's set-up, mostly outside the GIL) while
    # this thread finds the peak.
    loaded: dict = {}

    def load() -> None:
        try:
            loaded["model"] = _model(args, timings)
        except BaseException as err:  # raised on this thread below
            loaded["error"] = err

    loader = threading.Thread(target=load, name="celae-model-load", daemon=True)
    loader.start()
    scale, kept = 1.0, None
    try:
        if getattr(args, "normalize", True):
            t0 = time.perf_counter()
            peak, kept = _peak(args.audio, args.offset, args.duration,
                               round(KEEP_DECODED_SECONDS * SAMPLE_RATE),
                               max(1, int(getattr(args, "threads", 1) or 1)))
            scale = 1.0 / peak if peak > 0 else 1.0
            timings.extra["peak_pass"] = round(time.perf_counter() - t0, 4)
    finally:
        loader.join()
    if "error" in loaded:
        raise loaded["error"]
    fn, clip, sample_rate, model_path, engine = loaded["model"]
    figures = getattr(args, "figures", "auto")
    spectral = figures != "none" and _spectral(args, args.audio)
    quality = RunningQuality(sample_rate, spectral=spectral) if figures != "none" else None

    timed_fn = _Timed(fn, timings)
    samples = 0
    with open_writer(args.out, sample_rate) as writer:
        blocks = (_scaled(kept, scale) if kept is not None
                  else _reader(args.audio, args.offset, args.duration, scale, timings))
        for ref, est in stream_song(blocks, clip, timed_fn, batch_size=4):
            t0 = time.perf_counter()
            writer.write(est)
            t1 = time.perf_counter()
            if quality is not None:
                quality.add(ref, est)
            timings.write += t1 - t0
            timings.figures += time.perf_counter() - t1
            samples += len(est)
        t0 = time.perf_counter()
        q = quality.result().as_dict() if quality is not None else {}
        timings.figures += time.perf_counter() - t0
        t0 = time.perf_counter()
    timings.write += time.perf_counter() - t0  # the flush, fsync and rename
    timings.total = time.perf_counter() - start
    seconds = samples / sample_rate
    data = {"input": str(args.audio), "output": str(args.out), "model": model_path,
            "engine": engine, "seconds": seconds, "normalized": scale != 1.0,
            "spectral_figures": spectral, **q}
    return data, timings
