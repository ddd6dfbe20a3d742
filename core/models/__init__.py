"""Autoencoder models: the interface, the registry, the families, model folders on disk
(:mod:`core.models.io`), inference (:mod:`core.models.inference`: encode, decode, whole-song
windows) and the training losses each architecture names (:mod:`core.models.losses`).

Importing this package imports every family module listed in ``FAMILIES`` (each registers its
presets), so a new family is a module here that calls :func:`core.models.registry.register`
plus its name in that tuple.
"""

from __future__ import annotations

import importlib

from core.models.base import Autoencoder
from core.models.registry import (
    architectures,
    build_from_config,
    build_model,
    config_from_dict,
    config_to_dict,
    make_config,
    register,
)

FAMILIES = ("cel", "codec")

for _family in FAMILIES:
    importlib.import_module(f"{__name__}.{_family}")

__all__ = [
    "Autoencoder",
    "architectures",
    "build_from_config",
    "build_model",
    "config_from_dict",
    "config_to_dict",
    "make_config",
    "register",
]
