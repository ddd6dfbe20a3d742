"""The architecture part of the Train dialog: one field per hyper-parameter of the chosen preset.

The fields come from the preset's config dataclass (``core.models.registry.preset(name)``), so
every registered architecture (the report's CELAutoencoder family and the CELCodec family alike)
shows exactly the settings it has, starting at the preset's values, and the form only sends the
ones the user changed. A string field with ``choices`` metadata becomes a combo box; numbers
spin boxes; flags check boxes; tuples of widths a comma-separated line.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

HIDDEN_FIELDS = ("clip_samples", "sample_rate")
"""Set from the training data, never by hand."""


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _field_kind(config_cls: type, f: dataclasses.Field) -> str:
    hints = typing.get_type_hints(config_cls)
    hint = hints.get(f.name, str)
    text = str(hint)
    if hint is bool:
        return "bool"
    if hint is int:
        return "int"
    if hint is float:
        return "float"
    if "tuple" in text:
        return "tuple"
    return "str"


class ArchForm(QGroupBox):
    """Fields of one architecture's config; :meth:`overrides` is what the user changed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Architecture settings", parent)
        self.arch = ""
        self.layout_ = QFormLayout(self)
        self.fields: dict[str, QWidget] = {}
        self._kinds: dict[str, str] = {}
        self._defaults: dict[str, Any] = {}

    def set_arch(self, name: str) -> None:
        """Show the fields of architecture ``name`` at its preset values."""
        from core.models.registry import make_config

        config = make_config(name)
        self.arch = name
        self.setTitle(f"{name} settings (preset values)")
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.fields.clear()
        self._kinds.clear()
        self._defaults.clear()
        for f in dataclasses.fields(config):
            if f.name in HIDDEN_FIELDS:
                continue
            kind = _field_kind(type(config), f)
            value = getattr(config, f.name)
            widget = self._make_widget(kind, f, value)
            self.fields[f.name] = widget
            self._kinds[f.name] = kind
            self._defaults[f.name] = value
            self.layout_.addRow(_label(f.name), widget)

    @staticmethod
    def _make_widget(kind: str, f: dataclasses.Field, value: Any) -> QWidget:
        choices = f.metadata.get("choices")
        if kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
        elif kind == "int":
            w = QSpinBox()
            w.setRange(0, 1_000_000)
            w.setValue(int(value))
        elif kind == "float":
            w = QDoubleSpinBox()
            w.setDecimals(2)
            w.setRange(1.01, 1024.0)
            w.setValue(float(value))
        elif kind == "tuple":
            w = QLineEdit(", ".join(str(v) for v in value))
            w.setToolTip("Comma-separated whole numbers")
        elif choices:
            w = QComboBox()
            w.addItems([str(c) for c in choices])
            w.setCurrentText(str(value))
        else:
            w = QLineEdit(str(value))
        return w

    def value(self, name: str) -> Any:
        """The value field ``name`` shows, in the config's type.

        Raises
        ------
        ValueError
            A tuple field that is not a list of whole numbers.
        """
        w, kind = self.fields[name], self._kinds[name]
        if kind == "bool":
            return w.isChecked()
        if kind == "int":
            return int(w.value())
        if kind == "float":
            return float(w.value())
        if kind == "tuple":
            try:
                return tuple(int(p) for p in w.text().replace(" ", "").split(",") if p)
            except ValueError:
                raise ValueError(f"{_label(name)}: expected comma-separated whole numbers, "
                                 f"not {w.text()!r}") from None
        return w.currentText() if isinstance(w, QComboBox) else w.text()

    def overrides(self) -> dict[str, Any]:
        """The fields whose value differs from the preset's (JSON-ready: tuples as lists)."""
        out = {}
        for name in self.fields:
            value = self.value(name)
            if value != self._defaults[name]:
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def set_enabled(self, enabled: bool) -> None:
        """Lock or unlock every field (a run is going on)."""
        for w in self.fields.values():
            w.setEnabled(enabled)
