"""Architectures by name.

A family module calls :func:`register` at import for each preset it offers; the first lookup
here imports every family module named in ``core.models.FAMILIES``, so
``build_model("CELAutoencoderSiLU")`` works after importing this module alone. A preset is a
family class, its config dataclass and default values.
"""

from __future__ import annotations

import dataclasses
import importlib
import threading
from dataclasses import dataclass
from typing import Any

from core.models.base import Autoencoder


@dataclass(frozen=True)
class Preset:
    """One registered architecture: family class, config class and the preset's defaults."""

    name: str
    family_cls: type[Autoencoder]
    config_cls: type
    defaults: dict[str, Any]


_REGISTRY: dict[str, Preset] = {}
_families_loaded = False
_FAMILIES_LOCK = threading.RLock()  # re-entered when a family's import asks for the registry


def _load_families() -> None:
    # The flag is set once every family is imported, under a lock: set first, a second thread
    # (the GUI's architecture form beside a worker's model load) saw an empty registry.
    global _families_loaded
    if _families_loaded:
        return
    with _FAMILIES_LOCK:
        if _families_loaded:
            return
        from core.models import FAMILIES

        for family in FAMILIES:
            importlib.import_module(f"core.models.{family}")
        _families_loaded = True


def register(name: str, family_cls: type[Autoencoder], config_cls: type,
             **preset_defaults: Any) -> None:
    """Register an architecture under ``name``.

    Parameters
    ----------
    name : str
        Registry name, stored as ``"arch"`` in model files.
    family_cls : type[Autoencoder]
        Model class; ``family_cls(config)`` builds it.
    config_cls : type
        Frozen dataclass of the family's hyper-parameters.
    **preset_defaults
        Config values this preset fixes (overridable in :func:`build_model`).

    Raises
    ------
    ValueError
        If ``name`` is taken by a different family or a default is not a config field.
    """
    _check_fields(name, config_cls, preset_defaults)
    old = _REGISTRY.get(name)
    if old is not None and (old.family_cls is not family_cls or old.defaults != preset_defaults):
        raise ValueError(f"architecture {name!r} is already registered by "
                         f"{old.family_cls.__module__}.{old.family_cls.__name__}")
    _REGISTRY[name] = Preset(name, family_cls, config_cls, dict(preset_defaults))


def architectures() -> list[str]:
    """Names of every registered architecture, in registration order."""
    _load_families()
    return list(_REGISTRY)


def preset(name: str) -> Preset:
    """The registered :class:`Preset` called ``name``.

    Raises
    ------
    ValueError
        If no architecture has that name (the message lists the known ones).
    """
    _load_families()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(_REGISTRY) or "none"
        raise ValueError(f"unknown architecture {name!r} (known: {known})") from None


def make_config(name: str, **overrides: Any) -> Any:
    """The config of preset ``name`` with ``overrides`` applied (validated by the dataclass)."""
    p = preset(name)
    _check_fields(name, p.config_cls, overrides)
    return p.config_cls(**{**p.defaults, **overrides})


def build_model(name: str, **overrides: Any) -> Autoencoder:
    """Build a freshly initialised model of architecture ``name``.

    Parameters
    ----------
    name : str
        A name from :func:`architectures`.
    **overrides
        Config fields to change from the preset (e.g. ``latent_ratio=3.5``,
        ``clip_samples=4096``).

    Returns
    -------
    Autoencoder
        The model, in training mode, with ``.arch == name``.

    Raises
    ------
    ValueError
        Unknown architecture, unknown field, or a value the config refuses.
    """
    return build_from_config(name, make_config(name, **overrides))


def build_from_config(name: str, config: Any) -> Autoencoder:
    """Build architecture ``name`` from a ready config instance."""
    p = preset(name)
    if not isinstance(config, p.config_cls):
        raise ValueError(f"{name}: expected a {p.config_cls.__name__}, got "
                         f"{type(config).__name__}")
    model = p.family_cls(config)
    model.arch = name
    return model


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def config_from_dict(name: str, data: dict[str, Any], *, saved: bool = False) -> Any:
    """Rebuild the config of architecture ``name`` from :func:`config_to_dict` output.

    Fields missing from ``data`` take the preset's (then the dataclass's) default, so files
    written before a field was added still load. With ``saved`` (a model file's config), a
    field whose metadata has ``"absent"`` takes that value instead: what the model did before
    the field existed, when a preset now defaults to something else. Without it (overrides of
    a new model) the preset's default holds.

    Raises
    ------
    ValueError
        Unknown architecture, unknown field, or a value the config refuses.
    """
    if not isinstance(data, dict):
        raise ValueError(f"{name}: config must be a JSON object, got {type(data).__name__}")
    p = preset(name)
    _check_fields(name, p.config_cls, data)
    types = {f.name: f.type for f in dataclasses.fields(p.config_cls)}
    values = {}
    for key, value in data.items():
        # JSON has no tuples: lists go back to the tuples the frozen configs use.
        is_tuple = isinstance(value, list) and "tuple" in str(types[key])
        values[key] = tuple(value) if is_tuple else value
    absent = {f.name: f.metadata["absent"] for f in dataclasses.fields(p.config_cls)
              if saved and "absent" in f.metadata and f.name not in data}
    return p.config_cls(**{**p.defaults, **absent, **values})


def _check_fields(name: str, config_cls: type, values: dict[str, Any]) -> None:
    fields = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ValueError(f"{name}: unknown config field(s) {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(fields))})")
