"""Launching ``celae-workbench``: the window comes up before torch loads, the run is logged,
and the self-check (load, reconstruct, edit) passes in a fresh process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_or_dump(cmd: list[str], env: dict[str, str], timeout: float
                ) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; if it outlives ``timeout``, fail with every thread's stack in it.

    The self-test has its own 180 s timer, so a run past 240 s has its event loop blocked in
    native code. SIGABRT makes the child's faulthandler (``PYTHONFAULTHANDLER``) print all its
    threads before it dies: the failure then says where it was stuck.
    """
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd[1:])} still running after {timeout:.0f} s; its output:\n"
                    f"{out}\nits threads when stopped:\n{err}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_launch_shows_the_window_before_torch_logs_and_passes_the_selftest(
        gui_resources, tmp_path):
    logs = tmp_path / "logs"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CELAE_REPORT_STARTUP="1",
               CELAE_LOG_DIR=str(logs), CELAE_SETTINGS_ORG="celae-tests-launch",
               PYTHONPATH=str(REPO), PYTHONFAULTHANDLER="1")
    done = run_or_dump([sys.executable, "-m", "celae_gui.app", "--selftest"], env, 240)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    shown = next(line for line in lines if line.startswith("window shown after"))
    # torch, sklearn and scipy take seconds to import: on the GUI thread they delay the window
    # (the 2.5 s launch target); they belong in the workers that need them.
    assert shown.endswith("(heavy modules imported before it: none)"), shown
    assert lines[-1].startswith("selftest ok:"), done.stdout
    assert "demo_" in lines[-1] and "edit applied" in lines[-1]

    log_file = logs / "app.log"
    assert log_file.is_file(), f"no log under {logs}: {list(logs.glob('*'))}"
    text = log_file.read_text(encoding="utf-8")
    assert "app started" in text
