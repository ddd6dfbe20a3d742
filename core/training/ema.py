"""An exponential moving average of a model's weights, validated and saved in their place.

Adam's last steps scatter the weights around the optimum; their running average sits closer to
it. With ``TrainConfig.ema`` set, the trainer updates :class:`WeightAverage` after every
optimiser step, validates the averaged weights and keeps them as the best model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


class WeightAverage:
    """``avg <- d * avg + (1 - d) * weights`` after each step, ``d = min(decay, (1+n)/(10+n))``.

    The warm-up form of ``d`` keeps the first steps' random weights from lingering in the
    average. Buffers that are not floating point (counters) are copied, not averaged.

    Parameters
    ----------
    model : nn.Module
        The model being trained; the average starts from its current weights.
    decay : float
        The long-run decay, in (0, 1); 0.999 averages over about the last 1000 steps.
    """

    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be between 0 and 1, got {decay}")
        self.decay = decay
        self.steps = 0
        self._model = model
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        live = model.state_dict()
        self._floats = [k for k, v in live.items() if v.is_floating_point()]
        self._others = [k for k, v in live.items() if not v.is_floating_point()]

    @torch.no_grad()
    def update(self) -> None:
        """Fold the model's current weights into the average (after an optimiser step)."""
        self.steps += 1
        d = min(self.decay, (1.0 + self.steps) / (10.0 + self.steps))
        live = self._model.state_dict()
        torch._foreach_lerp_([self.state[k] for k in self._floats],
                             [live[k].detach() for k in self._floats], 1.0 - d)
        for k in self._others:
            self.state[k].copy_(live[k])

    @contextlib.contextmanager
    def swapped_in(self) -> Iterator[None]:
        """The model holds the averaged weights inside the block, its own after it."""
        own = {k: v.detach().clone() for k, v in self._model.state_dict().items()}
        self._model.load_state_dict(self.state)
        try:
            yield
        finally:
            self._model.load_state_dict(own)

    def state_dict(self) -> dict:
        """For a checkpoint: the averaged tensors and the step count."""
        return {"steps": self.steps, "weights": self.state}

    def load_state_dict(self, saved: dict) -> None:
        """Restore :meth:`state_dict` output (the model's keys and shapes must match)."""
        weights = saved["weights"]
        if set(weights) != set(self.state):
            raise ValueError("the averaged weights do not fit the model")
        for k, v in weights.items():
            self.state[k].copy_(v)
        self.steps = int(saved["steps"])
