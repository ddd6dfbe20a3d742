"""The log file a user attaches to a bug report: where it goes, what it holds, how it rotates."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import logs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_root_logger(monkeypatch, tmp_path):
    """Point the log folder at tmp_path; ``tests/conftest.py``'s ``_restore_logging`` undoes
    setup_logging's handlers, level and hook afterwards."""
    monkeypatch.setenv("CELAE_LOG_DIR", str(tmp_path / "logs"))
    yield tmp_path / "logs"
    logging.captureWarnings(False)


def test_records_go_to_the_file_and_warnings_also_to_stderr(clean_root_logger, capsys):
    path = logs.setup_logging("app")
    assert path == clean_root_logger / "app.log"
    logging.getLogger("celae.test").info("model loaded")
    logging.getLogger("celae.test").warning("no sound device")
    text = path.read_text(encoding="utf-8")
    assert "app started" in text and "model loaded" in text and "no sound device" in text
    err = capsys.readouterr().err
    assert "no sound device" in err and "model loaded" not in err


def test_a_second_call_adds_no_handler_and_returns_the_same_file(clean_root_logger):
    first = logs.setup_logging("cli")
    count = len(logging.getLogger().handlers)
    assert logs.setup_logging("cli") == first
    assert logs.setup_logging("app") == first
    assert len(logging.getLogger().handlers) == count
    logging.getLogger("celae.test").info("once")
    assert first.read_text(encoding="utf-8").count("once") == 1


def test_the_file_rotates_at_one_megabyte_keeping_five(clean_root_logger):
    path = logs.setup_logging("app")
    line = "x" * 10_000
    for _ in range(800):  # 8 MB: more than the current file and five backups hold
        logging.getLogger("celae.test").info(line)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["app.log"] + [f"app.log.{i}" for i in range(1, logs.BACKUP_COUNT + 1)]
    assert all((path.parent / f).stat().st_size <= logs.MAX_BYTES + 20_000 for f in files)


def test_an_unknown_kind_is_refused(clean_root_logger):
    with pytest.raises(ValueError, match="kind"):
        logs.setup_logging("daemon")


def test_a_read_only_log_folder_falls_back_to_the_temp_folder(clean_root_logger, monkeypatch,
                                                             tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    monkeypatch.setenv("CELAE_LOG_DIR", str(blocker / "logs"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    path = logs.setup_logging("cli")
    assert path.parent.parent == tmp_path / "tmp"
    assert "log folder not writable" in path.read_text(encoding="utf-8")


def test_a_crash_leaves_its_traceback_in_the_log(tmp_path):
    env = dict(os.environ, CELAE_LOG_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    code = ("from core.logs import setup_logging; setup_logging('cli'); "
            "raise RuntimeError('decoder exploded')")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1
    text = (tmp_path / "cli.log").read_text(encoding="utf-8")
    assert "uncaught exception" in text and "RuntimeError: decoder exploded" in text
    assert "RuntimeError: decoder exploded" in out.stderr
