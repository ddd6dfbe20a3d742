"""Autoencoder architectures: the interface, the registry and the families.

Importing this package imports every family module in it (each registers its presets), so a new
family only has to be a module here that calls :func:`core.models.registry.register`.
"""

from __future__ import annotations

import importlib
import pkgutil

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

_NOT_FAMILIES = {"base", "registry"}

for _info in pkgutil.iter_modules(__path__):
    if _info.name not in _NOT_FAMILIES and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

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
