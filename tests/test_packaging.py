"""The bundle's lists and the desktop entry, checked against the code they serve.

An exclusion in ``packaging/bundle_config.py`` that the code needs would only show when a user
runs the bundle; these tests catch it at ``make test`` time. The desktop entry must open every
audio format the app reads when a user double-clicks a file.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.constants import AUDIO_EXTENSIONS

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SOURCE_DIRS = (ROOT / "core", ROOT / "celae_gui")

# freedesktop shared-mime-info types of each suffix the app reads (aliases are listed too, since
# file managers differ in which one they report).
MIME_TYPES = {
    ".wav": ("audio/x-wav", "audio/wav", "audio/vnd.wave"),
    ".mp3": ("audio/mpeg",),
    ".flac": ("audio/flac", "audio/x-flac"),
    ".ogg": ("audio/ogg", "audio/x-vorbis+ogg"),
    ".oga": ("audio/ogg",),
    ".opus": ("audio/opus", "audio/x-opus+ogg"),
    ".aif": ("audio/aiff", "audio/x-aiff"),
    ".aiff": ("audio/aiff", "audio/x-aiff"),
}


def _bundle_config():
    spec = importlib.util.spec_from_file_location("bundle_config", PACKAGING / "bundle_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CFG = _bundle_config()


def _python_files() -> list[Path]:
    files = [p for d in SOURCE_DIRS for p in d.rglob("*.py")]
    return files + [PACKAGING / name for name in CFG.ENTRY_SCRIPTS.values()]


def _imported_names(path: Path) -> set[str]:
    """Absolute module names a file imports, at any depth (lazy imports in functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # `from PySide6 import QtSvg` imports the module PySide6.QtSvg.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    return names


def _excluded(name: str) -> str | None:
    for excluded in CFG.EXCLUDES:
        if name == excluded or name.startswith(excluded + "."):
            return excluded
    return None


def test_the_code_imports_nothing_the_bundle_excludes():
    offenders = {}
    all_names: set[str] = set()
    for path in _python_files():
        names = _imported_names(path)
        all_names |= names
        for name in names:
            if _excluded(name):
                offenders.setdefault(str(path.relative_to(ROOT)), []).append(name)
    # The walk must see the imports that matter, or the check above proves nothing.
    assert {"torch", "torchaudio", "soundfile", "PySide6.QtWidgets", "pyqtgraph"} <= all_names
    assert offenders == {}, f"excluded from the bundle but imported: {offenders}"


@pytest.mark.slow
def test_the_app_works_when_the_excluded_modules_are_missing(tmp_path):
    # Third-party packages import more than our code names (pyqtgraph loads QtSvg and QtTest,
    # torch.optim loads torch._dynamo and sympy, which try triton). Run the code for real with
    # the excluded modules made unimportable, as they are in the bundle: import every module,
    # train a step, reconstruct. An optional import that torch guards is fine; a needed one fails.
    script = f"""
import importlib, importlib.abc, pkgutil, sys
EXCLUDES = {CFG.EXCLUDES!r}
blocked = set()
class Hide(importlib.abc.MetaPathFinder):
    # Every finder answers "not here" for an excluded module, as in the bundle.
    def __init__(self, inner):
        self.inner = inner
    def __getattr__(self, attr):
        return getattr(self.inner, attr)
    def find_spec(self, name, path, target=None):
        if any(name == e or name.startswith(e + ".") for e in EXCLUDES):
            blocked.add(name)
            return None
        return self.inner.find_spec(name, path, target)
sys.meta_path[:] = [Hide(finder) for finder in sys.meta_path]
import numpy as np, torch
import core, celae_gui
for pkg in (core, celae_gui):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if not info.name.endswith(".__main__"):  # entry points run when imported
            importlib.import_module(info.name)
from core.models import inference
from core.models.registry import build_model
model = build_model("CELAutoencoderSiLU")
x = torch.randn(2, 1, 4096)
torch.nn.functional.l1_loss(model(x), x).backward()
torch.optim.Adam(model.parameters(), lr=1e-3).step()
out = inference.reconstruct(model.eval(), np.zeros((1, 4096), np.float32))
assert out.shape == (1, 4096)
assert "PySide6.QtWidgets" in sys.modules and "torchaudio" in sys.modules
print("blocked:", sorted(blocked))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "blocked:" in out.stdout


def test_hidden_imports_name_modules_that_exist():
    missing = [name for name in CFG.HIDDEN_IMPORTS if importlib.util.find_spec(name) is None]
    assert missing == []


def test_entry_scripts_call_freeze_support_before_anything_else():
    # Without it a worker process of the frozen app would start a second app instead.
    for name, script in CFG.ENTRY_SCRIPTS.items():
        tree = ast.parse((PACKAGING / script).read_text(encoding="utf-8"))
        main_block = next(n for n in tree.body if isinstance(n, ast.If)
                          and "__main__" in ast.unparse(n.test))
        first = ast.unparse(main_block.body[0])
        assert first == "multiprocessing.freeze_support()", f"{name}: first call is {first}"


def _desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def test_desktop_entry_opens_every_audio_format_the_app_reads():
    entry = _desktop_entry(PACKAGING / "celae-workbench.desktop")
    assert entry["Type"] == "Application"
    assert entry["Name"] and entry["Icon"] == "celae-workbench"
    assert entry["Terminal"] == "false"
    # %F: the file manager passes every selected file as a path; the app opens them all.
    assert entry["Exec"].split()[-1] == "%F"
    assert entry["MimeType"].endswith(";") and entry["Categories"].endswith(";")
    mime_types = entry["MimeType"].rstrip(";").split(";")
    assert all(m.startswith("audio/") for m in mime_types)
    assert set(AUDIO_EXTENSIONS) <= set(MIME_TYPES), "a new audio suffix needs its MIME types"
    unopened = {ext: types for ext in AUDIO_EXTENSIONS
                for types in [MIME_TYPES[ext]] if not set(types) <= set(mime_types)}
    assert unopened == {}


def test_install_desktop_puts_the_entry_and_icons_in_the_users_menu(tmp_path):
    data = tmp_path / "share"
    env = dict(os.environ, XDG_DATA_HOME=str(data), HOME=str(tmp_path))
    out = subprocess.run([str(PACKAGING / "install_desktop.sh")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    installed = data / "applications" / "celae-workbench.desktop"
    entry = _desktop_entry(installed)
    program = Path(entry["TryExec"])
    assert program.name == "celae-workbench" and os.access(program, os.X_OK)
    assert entry["Exec"] in (f"{program} %F", f'"{program}" %F')
    for size in (16, 32, 48, 64, 128, 256):
        assert (data / f"icons/hicolor/{size}x{size}/apps/celae-workbench.png").stat().st_size
    assert (data / "icons/hicolor/scalable/apps/celae-workbench.svg").is_file()
    validator = shutil.which("desktop-file-validate")
    if validator:
        check = subprocess.run([validator, str(installed)], capture_output=True, text=True)
        assert check.returncode == 0 and "error" not in check.stdout, check.stdout

    out = subprocess.run([str(PACKAGING / "install_desktop.sh"), "--uninstall"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not installed.exists()
