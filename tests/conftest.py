"""Test-wide settings: offscreen Qt, and every project folder (cache, user models, logs) under a
temporary directory so no test reads or writes a user's files."""

from __future__ import annotations

import logging
import os
import sys
import tempfile

import pytest

# Set before anything imports Qt: with no display and no platform, Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_TEST_HOME = tempfile.mkdtemp(prefix="celae-tests-")
os.environ["CELAE_CACHE_DIR"] = os.path.join(_TEST_HOME, "cache")
os.environ["CELAE_USER_MODELS_DIR"] = os.path.join(_TEST_HOME, "models")
os.environ["CELAE_LOG_DIR"] = os.path.join(_TEST_HOME, "logs")
# Qt settings of the app under test go to a throw-away organisation, not the user's.
os.environ["CELAE_SETTINGS_ORG"] = "celae-tests"
# One compute thread per process: on 2 cores shared with subprocesses (DDP, the app), two
# spinning torch threads slow small steps down many times over.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"


@pytest.fixture(autouse=True)
def _restore_logging():
    """Undo the log handlers and crash hook a command run in-process (``celae`` sets up its
    log on every call) leaves behind, so each test sees a process as a user starts it."""
    root = logging.getLogger()
    handlers, level, hook = list(root.handlers), root.level, sys.excepthook
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    sys.excepthook = hook
