"""Training losses by name, so a new loss (a spectral one, a composite) plugs into the trainer.

A loss is registered as a factory: ``factory()`` returns a callable
``loss(estimate, reference) -> Tensor[]`` on ``Tensor[B, 1, T]`` pairs. The trainer builds it once
per run from ``TrainConfig.loss``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor

LossFn = Callable[[Tensor, Tensor], Tensor]
LossFactory = Callable[[], LossFn]

_LOSSES: dict[str, LossFactory] = {}
# Modules that register losses when imported; loaded on first lookup so a config naming one of
# their losses works without its caller importing the module first.
_PLUGINS = ("core.models.spectral_loss",)
_plugins_loaded = False


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for name in _PLUGINS:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def register_loss(name: str, factory: LossFactory) -> None:
    """Make a loss available to :class:`core.training.trainer.TrainConfig` as ``loss=name``.

    Parameters
    ----------
    name : str
        Name used in configs (stored in the model's training summary).
    factory : callable
        ``factory()`` returns ``loss(estimate, reference) -> Tensor[]`` where both arguments
        are ``Tensor[B, 1, T]``; the result must be a differentiable scalar averaged over the
        batch (the trainer weighs batches by their size).

    Raises
    ------
    ValueError
        If ``name`` is already taken by another factory.
    """
    old = _LOSSES.get(name)
    if old is not None and old is not factory:
        raise ValueError(f"loss {name!r} is already registered")
    _LOSSES[name] = factory


def losses() -> list[str]:
    """Names of every registered loss."""
    _load_plugins()
    return list(_LOSSES)


def make_loss(name: str) -> LossFn:
    """Build the loss registered as ``name``.

    Raises
    ------
    ValueError
        If no loss has that name (the message lists the known ones).
    """
    _load_plugins()
    try:
        factory = _LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r} (known: {', '.join(_LOSSES)})") from None
    return factory()


def _mse() -> LossFn:
    return F.mse_loss


def _l1() -> LossFn:
    return F.l1_loss


register_loss("mse", _mse)
register_loss("l1", _l1)
