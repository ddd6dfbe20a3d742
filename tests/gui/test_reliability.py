"""Bad input, hostile files and missing sound hardware, met by the real app.

- 100 dropped files, half of them bad: the window keeps answering (its event loop is timed with a
  10 ms QTimer during the drop) and every bad file is listed with its reason.
- A ``.pt``/``.ckpt`` pickle whose unpickling would run a command, dropped on the window or
  chosen as the model, is refused with a clear message and the command never runs.
- ``celae-workbench --selftest`` with no PortAudio library, and with PortAudio but no output
  device: the app still loads, reconstructs and edits, playback is off and says why.
"""

from __future__ import annotations

import gc
import os
import pickle
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QTimer

from celae_gui import export
from celae_gui.playback.player import NO_DEVICE_REASON, NO_PORTAUDIO_REASON
from core.constants import SAMPLE_RATE
from tests.gui.sound import hidden_portaudio_env, no_output_device_env, run_python
from tests.gui.test_workbench import drop_files

REPO = Path(__file__).resolve().parents[2]
DROP_STALL_LIMIT_MS = 250.0
"""The target is 100 ms; the suite runs on loaded 2-core machines, so the assertion is looser
(the real figure is printed with ``-s``)."""


class _Payload:
    """Unpickling this runs ``touch MARKER``: what a hostile checkpoint would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def write_hostile_pickles(folder: Path, marker: Path) -> list[Path]:
    """A raw pickle named ``.pt`` and a ``torch.save`` zip named ``.ckpt``, both armed."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "weights.pt"
    raw.write_bytes(pickle.dumps({"state_dict": _Payload(marker)}))
    zipped = folder / "model.ckpt"
    torch.save({"state_dict": _Payload(marker)}, zipped)
    return [raw, zipped]


def write_drop_corpus(folder: Path, n_good: int = 50) -> tuple[list[Path], list[Path]]:
    """``n_good`` short WAVs and as many bad files of several kinds."""
    folder.mkdir(parents=True, exist_ok=True)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE))
    good, bad = [], []
    for i in range(n_good):
        path = folder / f"good_{i:03d}.wav"
        sf.write(path, tone.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
        good.append(path)
    whole = good[0].read_bytes()
    makers = [
        lambda p: p.write_bytes(b""),                        # empty
        lambda p: p.write_text("not audio at all\n" * 20),    # text named as audio
        lambda p: p.write_bytes(whole[:30]),                 # cut inside the header
        lambda p: p.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00"),  # a tag, no frames
        lambda p: p.write_bytes(bytes(range(256)) * 8),      # noise bytes
    ]
    suffixes = (".wav", ".mp3", ".wav", ".mp3", ".flac")
    for i in range(n_good):
        path = folder / f"bad_{i:03d}{suffixes[i % len(makers)]}"
        makers[i % len(makers)](path)
        bad.append(path)
    return good, bad


def test_dropping_100_files_half_bad_keeps_the_window_responsive_and_lists_every_reason(
        qtbot, window, tmp_path):
    good, bad = write_drop_corpus(tmp_path / "drop")
    state = window.state
    dropped = {p.name for p in good + bad}

    def all_checked() -> bool:
        done = {e.name for e in state.library if e.status != "pending"}
        return dropped <= done

    # Collect what earlier tests left behind first: a full collection of the whole suite's heap
    # can take hundreds of ms, a pause the app alone does not have (16 ms when run alone).
    gc.collect()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    ticks.append(time.perf_counter())
    files = good + bad
    files.sort(key=lambda p: p.name[-7:])  # good and bad interleaved, as a real folder mixes
    drop_files(window, files)
    qtbot.waitUntil(all_checked, timeout=60_000)
    timer.stop()
    ticks.append(time.perf_counter())

    worst_ms = float(np.max(np.diff(ticks)) * 1000)
    print(f"\nworst event-loop stall while 100 files were checked: {worst_ms:.1f} ms "
          f"({len(ticks)} ticks)")
    assert worst_ms <= DROP_STALL_LIMIT_MS

    entries = {e.name: e for e in state.library}
    for path in good:
        assert entries[path.name].status == "ok", entries[path.name].reason
    for path in bad:
        entry = entries[path.name]
        assert entry.status == "error"
        assert entry.reason.startswith(f"{path.name}: ") and len(entry.reason) > len(path.name) + 8
        item = window.library_panel.item_for(entry.path)
        assert item is not None and item.toolTip() == entry.reason


def test_a_hostile_pickle_dropped_or_chosen_as_model_is_refused_and_never_runs(
        qtbot, window, tmp_path):
    marker = tmp_path / "payload-ran"
    pickles = write_hostile_pickles(tmp_path / "hostile", marker)
    # The payload is live: unpickling it (here, on purpose) runs its command.
    probe = tmp_path / "payload-is-armed"
    pickle.loads(pickle.dumps(_Payload(probe)))  # noqa: S301
    assert probe.exists()
    state = window.state
    errors: list[str] = []

    def on_message(level: str, text: str) -> None:
        if level == "error":
            errors.append(text)

    state.message.connect(on_message)

    drop_files(window, pickles)
    qtbot.waitUntil(lambda: all((e := state.entry(p)) is not None and e.status == "error"
                                for p in pickles), timeout=30_000)
    for path in pickles:
        reason = state.entry(path).reason
        assert reason.startswith(f"{path.name}: ") and "never opened" in reason

    good_model = state.model.path
    for path in pickles:
        with qtbot.waitSignal(window.controller.model_load_done, timeout=60_000) as blocker:
            window.controller.load_model(path)
        assert blocker.args == [False]
        assert any(path.name in text and "pickle" in text for text in errors), errors
        # The refused file does not unload the model the user was working with.
        assert state.model is not None and state.model.path == good_model
        assert window.model_selector.combo.currentData() == str(good_model)
    assert not marker.exists(), "the pickle's payload ran"

    with qtbot.waitSignal(window.controller.model_load_done, timeout=60_000) as blocker:
        window.controller.load_model(good_model)
    assert blocker.args == [True]
    qtbot.waitUntil(lambda: state.audio("edited") is not None, timeout=60_000)
    state.message.disconnect(on_message)


def _selftest(env: dict[str, str]) -> subprocess.Popen:
    env = dict(env, QT_QPA_PLATFORM="offscreen", CELAE_SETTINGS_ORG="celae-tests-reliability")
    return subprocess.Popen([sys.executable, "-m", "celae_gui.app", "--selftest"], env=env,
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_app_runs_without_portaudio_or_an_output_device_and_says_why(
        gui_resources, tmp_path):
    no_portaudio = hidden_portaudio_env(tmp_path / "hidden")
    no_device = no_output_device_env(tmp_path / "nodevice")
    devices = run_python("import sounddevice as sd; print(len(sd.query_devices()))", no_device)
    cases = {"no PortAudio": (no_portaudio, NO_PORTAUDIO_REASON)}
    if devices.returncode == 0 and devices.stdout.strip() == "0":
        cases["no output device"] = (no_device, NO_DEVICE_REASON)
    # Both apps at once: each spends most of its time importing and loading.
    procs = {name: _selftest(env) for name, (env, _reason) in cases.items()}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, f"{name}: {err}"
        line = out.strip().splitlines()[-1]
        # Everything else works: a song was loaded, reconstructed and edited...
        assert line.startswith("selftest ok:") and "edit applied" in line, f"{name}: {line}"
        # ...and the transport says playback is off, why, and offers no Play button.
        reason = cases[name][1]
        assert "playback off (play button disabled;" in line, f"{name}: {line}"
        assert reason in line, f"{name}: {line}"
        assert "Traceback" not in err, f"{name}: {err}"
    if "no output device" not in cases:
        pytest.skip("this machine's sound devices are visible despite the empty configuration; "
                    "only the no-PortAudio case ran")


# ---------------------------------------------------------------- an output never replaces an input

def test_exporting_over_an_open_song_is_refused_and_the_song_is_untouched(
        qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from tests.gui.conftest import write_song

    song = write_song(tmp_path / "mine" / "keep.wav", 1.0, 330.0)
    before = song.read_bytes()
    state = window.state
    drop_files(window, [song])
    qtbot.waitUntil(lambda: (e := state.entry(song)) is not None and e.status != "pending",
                    timeout=30_000)
    # The save dialog is the platform's own modal window; the user's choice is what it returns.
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(song), export.AUDIO_FILTER)))
    window.export_action.trigger()
    assert "would replace the input" in window.error_label.text()
    assert "keep.wav" in window.error_label.text()
    assert song.read_bytes() == before


# ---------------------------------------------------------------- the right words

def test_a_fifo_and_a_symlink_loop_dropped_are_named_for_what_they_are(qtbot, window, tmp_path):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.flac"
    loop.symlink_to(loop.name)
    state = window.state
    drop_files(window, [fifo, loop])
    qtbot.waitUntil(lambda: all((e := state.entry(p)) is not None and e.status == "error"
                                for p in (fifo, loop)), timeout=30_000)
    assert state.entry(fifo).reason == "pipe.wav: is a FIFO (named pipe), not a regular file"
    assert state.entry(loop).reason == ("loop.flac: symlink loop (the link points back at "
                                        "itself)")


def test_an_mp3_damaged_in_the_middle_is_marked_with_how_far_it_decodes(qtbot, window, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor
    from PySide6.QtTest import QTest

    from celae_gui import theme
    from tests.core.test_reliability_audio import write_damaged_mp3

    # Twenty seconds, so a whole 5 s window lies before the damage at about 0:10.
    good, bad = write_damaged_mp3(tmp_path, seconds=20)
    state, panel = window.state, window.library_panel
    before = state.current_path
    drop_files(window, [good, bad])
    # Its first half second decodes: the quick check passes it, the whole-file check does not.
    qtbot.waitUntil(lambda: (e := state.entry(bad)) is not None and e.status == "damaged",
                    timeout=30_000)
    item = panel.item_for(bad)
    assert re.fullmatch(r"middle\.mp3   ⚠ decodes only the first 0:(0[89]|1[01]) of 0:20 "
                        r"\(truncated or damaged: header promises 441000 frames, only \d+ "
                        r"could be decoded.*\)", item.text()), item.text()
    assert item.toolTip() == state.entry(bad).reason
    assert item.toolTip().startswith("middle.mp3: decodes only the first 0:")
    assert item.foreground().color() == QColor(theme.WARNING)
    assert "middle.mp3: decodes only the first" in window.error_label.toolTip()
    assert state.entry(good).status == "ok"
    assert panel.item_for(good).text().startswith("good.mp3   0:2")

    # Its first part is still there to hear: a click selects it and reconstructs a window,
    # and no window past the damage is offered.
    rect = panel.list.visualItemRect(item)
    QTest.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: state.current_path == bad and state.source("recon") is not None,
                    timeout=60_000)
    assert panel.last_offset() == pytest.approx(state.entry(bad).duration - 5.0)
    assert panel.last_offset() < 7.0
    # The next test's window has its song and edit back.
    state.set_current_song(before)
    qtbot.waitUntil(lambda: state.source("edited") is not None, timeout=60_000)
    state.remove_entries([good, bad])


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def shared_folder():
    """A temp folder every user can traverse (pytest's own is private to root) and a home in
    it that every user can write."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="celae-nobody-"))
    try:
        folder.chmod(0o755)
        home = folder / "home"
        home.mkdir()
        home.chmod(0o777)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as_nobody(args: list[str], home: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1",
           "QT_QPA_PLATFORM": "offscreen", "CELAE_SETTINGS_ORG": "celae-tests-nobody",
           "CELAE_CACHE_DIR": str(home / "cache"), "CELAE_LOG_DIR": str(home / "logs"),
           "CELAE_USER_MODELS_DIR": str(home / "models"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([*NOBODY, sys.executable, *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_files_and_folders_this_user_cannot_read_say_permission_denied(shared_folder):
    import json

    from tests.gui.conftest import write_song

    if os.geteuid() != 0:
        pytest.skip("needs root, to run the app as another user")
    home = shared_folder / "home"
    preflight = _as_nobody(["-c", "import PySide6.QtWidgets, numpy, soundfile, core, celae_gui"],
                           home, 60)
    if preflight.returncode != 0:
        pytest.skip(f"user nobody cannot run this checkout's Python "
                    f"({preflight.stderr.strip().splitlines()[-1:]})")
    songs = shared_folder / "songs"
    good = write_song(songs / "fine.wav", 0.5, 330.0)
    locked = write_song(songs / "locked.wav", 0.5, 220.0)
    locked.chmod(0o000)
    hidden = write_song(shared_folder / "private" / "inside.wav", 0.5, 220.0)
    closed = write_song(shared_folder / "closed" / "song.wav", 0.5, 220.0).parent
    for folder in (songs, hidden.parent.parent):
        folder.chmod(0o755)
    hidden.parent.chmod(0o700)
    closed.chmod(0o700)

    done = _as_nobody([str(REPO / "tests" / "gui" / "nobody_library.py"),
                       *map(str, (good, locked, hidden, closed))], home, 120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    items = report["items"]
    assert items["fine.wav"]["status"] == "ok"
    assert items["locked.wav"] == {"text": "locked.wav   ⚠ permission denied",
                                   "tooltip": "locked.wav: permission denied", "status": "error"}
    assert items["inside.wav"] == {"text": "inside.wav   ⚠ permission denied",
                                   "tooltip": "inside.wav: permission denied", "status": "error"}
    # A folder that cannot be listed is named, not "No audio files found there".
    assert items["closed"] == {
        "text": "closed   ⚠ permission denied (the folder cannot be listed)",
        "tooltip": "closed: permission denied (the folder cannot be listed)", "status": "error"}
    assert not any("No audio files" in m for m in report["messages"]), report["messages"]
    assert report["load_audio"]["locked.wav"] == "locked.wav: permission denied"
    assert report["load_audio"]["inside.wav"] == "inside.wav: permission denied"
    for text in [*map(str, items.values()), *report["load_audio"].values()]:
        assert "no such file" not in text.lower() and "not found" not in text
        assert "damaged" not in text and "not an audio file" not in text


def test_a_corrupt_latent_pca_is_not_shown_as_a_missing_one(qtbot, qapp, tmp_path):
    from core.latent.pca import PCA_FILE, fit_latent_pca, save_latent_pca
    from core.models.io import load_model
    from tests.gui.conftest import write_song
    from tests.gui.test_genre_panel import close_window, open_window, save_tiny_model

    model = save_tiny_model(tmp_path / "tiny-pca-bad", seed=2)
    clips = np.random.default_rng(0).standard_normal((8, 4096)).astype(np.float32) * 0.1
    save_latent_pca(fit_latent_pca(load_model(model).model, clips), model)
    pca = model / PCA_FILE
    pca.write_bytes(pca.read_bytes()[:40])
    win = open_window(model, [write_song(tmp_path / "s.wav", 1.0, 220.0)])
    try:
        qtbot.waitUntil(lambda: "cannot be read" in win.pc_panel.placeholder.text(),
                        timeout=30_000)
        text = win.pc_panel.placeholder.text()
        assert "no latent PCA yet" not in text and "tiny-pca-bad" in text
    finally:
        close_window(win)


def test_screenshot_of_only_unreadable_songs_fails_at_once_with_the_reason(tmp_path, gui_resources):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    # Well under the check's own 180 s timeout: the old behaviour fails here by timing out.
    done = subprocess.run([sys.executable, "-m", "celae_gui.app", "--screenshot",
                           str(tmp_path / "shot.png"), str(bad)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "screenshot FAILED: none of the 1 songs could be read (bad.wav: " in done.stderr
    assert not (tmp_path / "shot.png").exists()


# ---------------------------------------------------------------- nothing skipped is silent

def test_the_train_dialog_lists_the_files_it_skipped_with_their_reasons(qtbot, window, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from tests.gui.conftest import write_song
    from tests.gui.test_end_to_end import menu_action

    data = tmp_path / "data"
    for i in range(5):
        genre = ("blues", "jazz")[i % 2]
        write_song(data / genre / f"{genre}.{i:05d}.wav", 5.5, 200.0 + 60 * i, seed=i)
    empty = data / "blues" / "empty.wav"
    empty.write_bytes(b"")
    notes = data / "jazz" / "notes.wav"
    notes.write_text("not audio at all, only a few words\n" * 20)

    menu_action(window, "Train &model…").trigger()
    dialog = window.training_dialog
    assert dialog.isVisible()
    if dialog.generate_demo.isChecked():
        QTest.mouseClick(dialog.generate_demo, Qt.MouseButton.LeftButton)
    dialog.dataset.clear()
    QTest.keyClicks(dialog.dataset, str(data))
    dialog.arch.setCurrentText("CELAutoencoder3")
    for spin, text in ((dialog.epochs, "1"), (dialog.batch_size, "2")):
        spin.lineEdit().selectAll()
        QTest.keyClicks(spin.lineEdit(), text)
    dialog.device.setCurrentText("cpu")
    dialog.model_name.clear()
    QTest.keyClicks(dialog.model_name, "gui-skipped")
    assert not dialog.skipped_button.isVisible()
    with qtbot.waitSignal(dialog.model_trained, timeout=240_000):
        QTest.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=30_000)
    assert dialog.last_result.epochs_run == 1, dialog.last_error

    # The run says how many files it left out, and a click shows which and why.
    assert dialog.message.text().startswith("Done: ")
    assert dialog.message.text().endswith("saved as gui-skipped (2 skipped input files)")
    button = dialog.skipped_button
    assert button.isVisible()
    assert button.text() == "⚠ 2 input files were skipped, not trained on (show which and why)"
    assert not dialog.skipped_list.isVisible()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert dialog.skipped_list.isVisible()
    assert button.text().endswith("(hide which and why)")
    items = {dialog.skipped_list.item(i).text(): dialog.skipped_list.item(i).toolTip()
             for i in range(dialog.skipped_list.count())}
    assert items.pop("empty.wav: empty file (0 bytes)") == str(empty)
    assert items == {"notes.wav: not an audio file (looks like text)": str(notes)}
    assert "empty.wav: empty file (0 bytes)" in button.toolTip()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not dialog.skipped_list.isVisible()
    dialog.close()
