"""Rendering a song through a model block by block, the way :func:`reconstruct_song` does it
whole.

A song of ``length`` samples is cut into the same overlapping clip windows as
:func:`core.models.inference.song_windows` (hop ``clip - fade``, the end zero-padded) and the
decoded windows are joined with the same linear crossfades as
:func:`core.models.inference.overlap_add`. Because both gains of a crossfade sum to 1, the output
before window ``i + 1``'s fade-in is final as soon as window ``i`` is decoded: the renderer emits
it then and keeps only the faded tail. So a streamed render equals the offline one (up to float
rounding and the batch a convolution ran in), memory holds a few windows whatever the song's
length, and a render can start at any window, which is what a play head moving or an edit
changing needs.

This module imports numpy only; the torch adapters (:func:`torch_window_fn`,
:func:`torch_decode_fn`) import torch when called, so the command line can run a model through
onnxruntime (:mod:`core.models.onnx_engine`) without paying for torch's import.
"""

from __future__ import annotations

import math
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from core.progress import Cancelled, StopFn, never_stop

DEFAULT_OVERLAP = 0.1
"""Fraction of a clip shared by neighbouring windows (as in :mod:`core.models.inference`)."""

WindowFn = Callable[[int, np.ndarray], np.ndarray]
"""``fn(first_index, windows[B, clip]) -> out[B, clip]``: windows ``first_index ..`` through a
model (the index lets per-window edits, such as seeded noise, tell the windows apart)."""


@dataclass(frozen=True)
class WindowPlan:
    """Where the windows of a song lie.

    Attributes
    ----------
    length : int
        Samples of the song (the output has as many).
    clip : int
        Window length in samples (the model's ``clip_samples``).
    hop : int
        Samples between window starts.
    """

    length: int
    clip: int
    hop: int

    @classmethod
    def for_song(cls, length: int, clip: int, overlap: float = DEFAULT_OVERLAP) -> WindowPlan:
        """The plan :func:`core.models.inference.song_windows` uses for a song of ``length``."""
        if length < 1 or clip < 1:
            raise ValueError(f"length and clip must be >= 1, got {length} and {clip}")
        if not 0 <= overlap < 0.5:
            raise ValueError(f"overlap must be a fraction in [0, 0.5), not {overlap}")
        return cls(int(length), int(clip), int(clip) - round(overlap * clip))

    @property
    def fade(self) -> int:
        """Samples shared by neighbouring windows (the crossfade length)."""
        return self.clip - self.hop

    @property
    def count(self) -> int:
        """Number of windows."""
        return max(1, math.ceil((self.length - self.fade) / self.hop))

    def first_window(self, position: int) -> int:
        """The window a render must start at to be exact from sample ``position`` on."""
        position = min(max(0, int(position)), self.length - 1)
        if position < self.hop + self.fade:
            return 0
        return min(self.count - 1, (position - self.fade) // self.hop)

    def emitted_start(self, first: int) -> int:
        """First sample that a render starting at window ``first`` emits."""
        return 0 if first == 0 else first * self.hop + self.fade

    def window(self, audio: np.ndarray, index: int, offset: int = 0) -> np.ndarray:
        """Window ``index`` cut from ``audio`` (which starts at song sample ``offset``),
        zero-padded past the song's end."""
        start = index * self.hop - offset
        out = np.zeros(self.clip, dtype=np.float32)
        piece = audio[max(0, start):start + self.clip]
        out[max(0, -start):max(0, -start) + len(piece)] = piece
        return out


@dataclass(frozen=True)
class Block:
    """Finished output samples ``audio`` of song samples ``[start, start + len(audio))``."""

    start: int
    audio: np.ndarray

    @property
    def stop(self) -> int:
        return self.start + len(self.audio)


class Crossfader:
    """Joins decoded windows, pushed in order from window ``first``, into finished blocks."""

    def __init__(self, plan: WindowPlan, first: int = 0):
        self.plan = plan
        self.next_index = int(first)
        self._first = int(first)
        fade = plan.fade
        self._ramp = ((np.arange(fade) + 0.5) / fade).astype(np.float32)
        self._tail: np.ndarray | None = None

    def push(self, decoded: np.ndarray) -> Block:
        """Add the next decoded window ``[clip]``; return the samples it finished."""
        plan, i = self.plan, self.next_index
        if i >= plan.count:
            raise ValueError(f"the song has only {plan.count} windows")
        y = np.asarray(decoded, dtype=np.float32)
        fade, last = plan.fade, i == plan.count - 1
        seg = y.copy()
        if fade:
            if i > 0:
                seg[:fade] *= self._ramp
                if self._tail is not None:
                    seg[:fade] += self._tail
            if not last:
                self._tail = seg[plan.hop:] * self._ramp[::-1]
        self.next_index = i + 1
        start = i * plan.hop
        keep_from = fade if i == self._first and i > 0 else 0
        stop = plan.length if last else start + plan.hop
        return Block(start + keep_from, seg[keep_from:stop - start])


def render_windows(plan: WindowPlan, window_at: Callable[[int], np.ndarray], fn: WindowFn, *,
                   first: int = 0, batch_size: int = 1,
                   should_stop: StopFn | None = None) -> Iterator[Block]:
    """Render windows ``first ..`` of ``plan`` in batches; yield finished blocks in order.

    Parameters
    ----------
    plan : WindowPlan
    window_at : callable
        ``window_at(i) -> np.ndarray[clip]``, the model input of window ``i``.
    fn : WindowFn
    first : int
        Window to start at (see :meth:`WindowPlan.first_window`).
    batch_size : int
        Windows per call of ``fn``.
    should_stop : callable, optional
        Checked before each batch; True raises :class:`core.progress.Cancelled`.
    """
    stop = should_stop or never_stop
    join = Crossfader(plan, first)
    for a in range(first, plan.count, max(1, batch_size)):
        if stop():
            raise Cancelled("rendering")
        b = min(plan.count, a + max(1, batch_size))
        out = fn(a, np.stack([window_at(i) for i in range(a, b)]))
        for y in out:
            yield join.push(y)


def stream_song(blocks: Iterable[np.ndarray], clip: int, fn: WindowFn, *,
                overlap: float = DEFAULT_OVERLAP, batch_size: int = 4,
                should_stop: StopFn | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Reconstruct a song that arrives block by block (a decoder's output), in one pass.

    The song's length need not be known in advance: a window is run once the input covers it,
    and the zero-padded windows of the end once the input is exhausted, which gives exactly the
    windows :func:`core.models.inference.song_windows` cuts from the whole song.

    Parameters
    ----------
    blocks : iterable of np.ndarray[B]
        The song, mono float32, in consecutive blocks of any lengths.
    clip : int
        Window length (the model's ``clip_samples``).
    fn : WindowFn
    overlap : float
    batch_size : int
        Windows per call of ``fn``.

    Yields
    ------
    (np.ndarray, np.ndarray)
        ``(input, output)``: finished output samples and the input samples at the same
        positions, so the caller can compare them (quality figures) without keeping the song.
    """
    stop = should_stop or never_stop
    start, ahead = _starter(fn)
    hop = clip - round(overlap * clip)
    if not 0 <= overlap < 0.5:
        raise ValueError(f"overlap must be a fraction in [0, 0.5), not {overlap}")
    buf = np.zeros(0, dtype=np.float32)
    buf_start = 0       # song sample of buf[0]
    received = 0        # song samples read so far
    next_window = 0
    join: Crossfader | None = None
    pending_in: list[np.ndarray] = []
    staged = WindowPlan(length=1 << 62, clip=clip, hop=hop)

    # Up to `ahead` batches are handed to the model before the oldest one's output is joined,
    # so an asynchronous model computes while this thread crossfades, writes and scores, also
    # across the arrival of input blocks (the windows are copies: `buf` may be cut meanwhile).
    pending: deque[tuple[int, Callable[[], np.ndarray]]] = deque()

    def run(plan: WindowPlan, upto: int, drain: bool) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        nonlocal next_window, join, buf, buf_start
        if join is None or join.plan is not plan:
            old = join
            join = Crossfader(plan, 0)
            if old is not None:
                join.next_index, join._tail = old.next_index, old._tail
        while True:
            while next_window < upto and len(pending) < ahead:
                if stop():
                    raise Cancelled("reconstructing")
                b = min(upto, next_window + batch_size)
                windows = np.stack([plan.window(buf, i, buf_start)
                                    for i in range(next_window, b)])
                pending.append((b, start(next_window, windows)))
                next_window = b
            if not pending or (next_window >= upto and not drain):
                return  # what is in flight waits for more input, or the end
            done, result = pending.popleft()
            for y in result():
                block = join.push(y)
                lo = block.start - buf_start
                yield buf[lo:lo + len(block.audio)].copy(), block.audio
            drop = done * hop - buf_start
            if drop > 0:
                buf, buf_start = buf[drop:], buf_start + drop

    for chunk in blocks:
        pending_in.append(np.asarray(chunk, dtype=np.float32))
        received += len(chunk)
        # Window i is surely not the last once the input runs past its end; the last window
        # emits up to the song's end instead of stopping at its hop, so it waits for the end.
        safe = (received - clip - 1) // hop + 1 if received > clip else 0
        if safe - next_window >= batch_size:
            buf = np.concatenate([buf, *pending_in])
            pending_in = []
            yield from run(staged, safe - (safe - next_window) % batch_size, drain=False)
    if received == 0:
        raise ValueError("the song holds no samples")
    buf = np.concatenate([buf, *pending_in])
    final = WindowPlan(length=received, clip=clip, hop=hop)
    yield from run(final, final.count, drain=True)


AHEAD_BATCHES = 3
"""Batches :func:`stream_song` hands an asynchronous model (one with ``submit``) at once."""


def _starter(fn: WindowFn) -> tuple[Callable[[int, np.ndarray], Callable[[], np.ndarray]], int]:
    """``(start, ahead)``: ``start(first, windows)`` begins a batch and returns what gives its
    output. A model with ``submit(first, windows) -> result()`` (the onnxruntime engine) runs
    on its own threads, ``AHEAD_BATCHES`` at once; a plain :data:`WindowFn` runs when its
    output is asked for, one batch at a time."""
    submit = getattr(fn, "submit", None)
    if submit is not None:
        return submit, AHEAD_BATCHES
    return (lambda first, windows: lambda: fn(first, windows)), 1


def torch_window_fn(model, edit: Callable[[int, np.ndarray], np.ndarray] | None = None
                    ) -> WindowFn:
    """A :data:`WindowFn` encoding and decoding windows with a torch model (in eval mode for
    the call, its mode restored after).

    Parameters
    ----------
    model : core.models.base.Autoencoder
    edit : callable, optional
        ``edit(first_index, z[B, C, L]) -> z'``, applied between encoder and decoder.
    """
    import torch

    def fn(first: int, windows: np.ndarray) -> np.ndarray:
        was = model.training
        model.eval()
        try:
            with torch.inference_mode():
                device = next(model.parameters()).device
                x = torch.from_numpy(np.ascontiguousarray(windows)).to(device).unsqueeze(1)
                if edit is None:
                    y = model(x)
                else:
                    z = model.encode(x).float().cpu().numpy()
                    z = torch.from_numpy(np.ascontiguousarray(edit(first, z))).to(device)
                    y = model.decode(z, length=windows.shape[-1])
                return y[:, 0].float().cpu().numpy()
        finally:
            model.train(was)
    return fn


def torch_decode_fn(model, clip: int, edit: Callable[[int, np.ndarray], np.ndarray] | None = None
                    ) -> WindowFn:
    """A :data:`WindowFn` over latents: ``fn(first, z[B, C, L]) -> audio[B, clip]``, decoding
    with a torch model after ``edit(first, z)`` when given."""
    import torch

    def fn(first: int, z: np.ndarray) -> np.ndarray:
        if edit is not None:
            z = edit(first, z)
        was = model.training
        model.eval()
        try:
            with torch.inference_mode():
                device = next(model.parameters()).device
                y = model.decode(torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
                                 .to(device), length=clip)
                return y[:, 0].float().cpu().numpy()
        finally:
            model.train(was)
    return fn


def torch_span_fn(model) -> Callable[[np.ndarray, int], np.ndarray]:
    """``decode(z[1, C, n], samples) -> audio[samples]`` with a torch model: the decoder that
    :func:`render_span` takes."""
    import torch

    def decode(z: np.ndarray, samples: int) -> np.ndarray:
        with torch.inference_mode():
            device = next(model.parameters()).device
            y = model.decode(torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
                             .to(device), length=samples)
            return y[0, 0].float().cpu().numpy()
    return decode


class LatentRenderer:
    """Renders a whole song's latent (one latent per window) through a decoder, from any
    position, block by block: what a slider move needs, starting at the play head.

    Parameters
    ----------
    plan : WindowPlan
        The song's windows (``len(z) == plan.count``).
    z : np.ndarray[N, C, L]
        Latents of the windows.
    decode : WindowFn
        ``decode(first, z[B, C, L]) -> audio[B, clip]`` (see :func:`torch_decode_fn`); edits
        go inside it.
    """

    def __init__(self, plan: WindowPlan, z: np.ndarray, decode: WindowFn):
        if len(z) != plan.count:
            raise ValueError(f"{len(z)} window latents for a song of {plan.count} windows")
        self.plan, self.z, self.decode = plan, z, decode

    def blocks(self, position: int = 0, *, batch_size: int = 1,
               should_stop: StopFn | None = None) -> Iterator[Block]:
        """Finished blocks from the window holding ``position`` to the song's end; the first
        block starts at or before ``position`` (at :meth:`WindowPlan.emitted_start`)."""
        first = self.plan.first_window(position)
        return render_windows(self.plan, lambda i: self.z[i], self.decode, first=first,
                              batch_size=batch_size, should_stop=should_stop)

    def render(self, *, batch_size: int = 8, should_stop: StopFn | None = None) -> np.ndarray:
        """The whole song ``[length]`` (what an export writes)."""
        out = np.empty(self.plan.length, dtype=np.float32)
        for block in self.blocks(0, batch_size=batch_size, should_stop=should_stop):
            out[block.start:block.stop] = block.audio
        return out


# -- a short span at once: what a slider move plays first ------------------------------------------

_decoder_radii: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def decoder_radius(model) -> int | None:
    """Latent steps either side of a step whose change reaches the decoder's output.

    Measured once per model object (one decode of a random latent, one with its middle step
    changed). None for a model that decodes whole clips only (``flexible_length`` False): its
    windows cannot be decoded in part.
    """
    if not getattr(model, "flexible_length", True):
        return None
    known = _decoder_radii.get(model)
    if known is not None:
        return known
    import torch

    steps, step = 256, float(model.latent_ratio)
    length = round(steps * step)
    gen = torch.Generator().manual_seed(0)
    z = 0.5 * torch.randn(1, model.latent_channels, steps, generator=gen)
    was = model.training
    model.eval()
    try:
        with torch.inference_mode():
            device = next(model.parameters()).device
            y0 = model.decode(z.to(device), length=length)[0, 0].float().cpu().numpy()
            z[..., steps // 2] += 1.0
            y1 = model.decode(z.to(device), length=length)[0, 0].float().cpu().numpy()
    finally:
        model.train(was)
    moved = np.flatnonzero(np.abs(y1 - y0) > 1e-7)
    if len(moved) == 0:
        radius = 1
    else:
        reach = max(steps // 2 * step - moved[0], moved[-1] - (steps // 2 + 1) * step, 0)
        radius = math.ceil(reach / step) + 1
    _decoder_radii[model] = radius
    return radius


def render_span(plan: WindowPlan, latent_at: Callable[[int], np.ndarray],
                decode: Callable[[np.ndarray, int], np.ndarray], radius: int, step: float,
                start: int, stop: int) -> np.ndarray:
    """Song samples ``[start, stop)`` of a render, decoding only the latent steps they need.

    Each window overlapping the span is decoded over the span's latent steps plus ``radius``
    steps either side (:func:`decoder_radius`), and the pieces are joined with the crossfade
    gains of :class:`Crossfader`; so the span equals the whole render's samples there (up to
    float rounding) at a small part of the cost of decoding whole windows.

    Parameters
    ----------
    plan : WindowPlan
    latent_at : callable
        ``latent_at(i) -> np.ndarray[C, L]``: window ``i``'s latent, edits applied.
    decode : callable
        ``decode(z[1, C, n], samples) -> audio[samples]``.
    radius : int
    step : float
        Input samples per latent step (``model.latent_ratio``).
    start, stop : int
        The span, in song samples.
    """
    start, stop = max(0, int(start)), min(plan.length, int(stop))
    out = np.zeros(max(0, stop - start), dtype=np.float32)
    if stop <= start:
        return out
    fade, hop = plan.fade, plan.hop
    ramp = ((np.arange(fade) + 0.5) / fade).astype(np.float32)
    first = max(0, (start - plan.clip) // hop)
    for i in range(first, plan.count):
        w0 = i * hop
        if w0 >= stop:
            break
        end = plan.length - w0 if i == plan.count - 1 else plan.clip
        a, b = max(start - w0, 0), min(stop - w0, end)
        if a >= b:
            continue
        z = latent_at(i)
        f0 = max(0, int(a // step) - radius)
        f1 = min(z.shape[-1], math.ceil(b / step) + radius)
        offset = round(f0 * step)
        y = decode(z[None, :, f0:f1], max(round(f1 * step), b) - offset)
        seg = y[a - offset:b - offset].astype(np.float32, copy=True)
        t = np.arange(a, b)
        if fade and i > 0:
            head = t < fade
            seg[head] *= ramp[t[head]]
        if fade and i < plan.count - 1:
            tail = t >= hop
            seg[tail] *= ramp[::-1][t[tail] - hop]
        out[w0 + a - start:w0 + b - start] += seg
    return out
