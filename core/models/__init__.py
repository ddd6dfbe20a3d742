"""Autoencoder models: the interface, the registry, the families, model folders on disk
(:mod:`core.models.io`), inference (:mod:`core.models.inference`: encode, decode, whole-song
windows), block-by-block rendering (:mod:`core.models.streaming`) and the training losses each
architecture names (:mod:`core.models.losses`).

The names below are imported on first use, not with the package: ``core.models.streaming`` and
the ONNX runtime path (:mod:`core.models.onnx_engine`) must stay importable without torch, which
costs 1.6 s of a command's start-up. The registry imports every family module listed in
``FAMILIES`` on its first lookup (each registers its presets), so a new family is a module here
that calls :func:`core.models.registry.register` plus its name in that tuple.
"""

from __future__ import annotations

import importlib
from typing import Any

FAMILIES = ("cel", "codec")

_LAZY = {
    "Autoencoder": "core.models.base",
    "architectures": "core.models.registry",
    "build_from_config": "core.models.registry",
    "build_model": "core.models.registry",
    "config_from_dict": "core.models.registry",
    "config_to_dict": "core.models.registry",
    "make_config": "core.models.registry",
    "register": "core.models.registry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = list(_LAZY)
