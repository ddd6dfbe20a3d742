"""A process killed while exporting never leaves a half-written file under the final name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from core.atomic import TEMP_PREFIX, atomic_write_text
from core.audio.writer import save_audio

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from core.audio.writer import save_audio
    # Several minutes of noise: long enough that the kill lands while the file is written.
    x = np.random.default_rng(0).uniform(-0.5, 0.5, 22050 * 60 * 8).astype(np.float32)
    print("ready", flush=True)
    save_audio(sys.argv[1], x)
""")


def _kill_during_write(target: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE,
                            text=True, cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        temps = list(target.parent.glob(TEMP_PREFIX + target.name + "*"))
        if temps and temps[0].stat().st_size > 0:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_killed_first_export_leaves_no_file(tmp_path):
    target = tmp_path / "export.flac"
    _kill_during_write(target)
    assert not target.exists()


def test_killed_export_keeps_the_previous_file_and_the_next_save_cleans_up(tmp_path):
    target = tmp_path / "export.wav"
    old = np.linspace(-0.5, 0.5, 2205, dtype=np.float32)
    save_audio(target, old)
    before = target.read_bytes()
    for _ in range(3):
        _kill_during_write(target)
        assert target.read_bytes() == before
        back, _ = sf.read(target, dtype="float32")
        assert np.allclose(back, old, atol=1e-4)
    assert list(tmp_path.glob(TEMP_PREFIX + "*")), "the kill should have left a temp file"
    save_audio(target, old * 0.5)
    assert not list(tmp_path.glob(TEMP_PREFIX + "*"))
    assert os.listdir(tmp_path) == ["export.wav"]


def test_atomic_text_replaces_whole_content(tmp_path):
    path = tmp_path / "config.json"
    atomic_write_text(path, "{\"a\": 1}")
    atomic_write_text(path, "{\"b\": 2}")
    assert path.read_text() == "{\"b\": 2}"
    assert os.listdir(tmp_path) == ["config.json"]


def test_exports_get_ordinary_permissions_not_private_temp_ones(tmp_path):
    path = tmp_path / "song.wav"
    save_audio(path, np.zeros(100, np.float32))
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask_now()
    os.chmod(path, 0o640)
    save_audio(path, np.ones(100, np.float32) * 0.1)
    assert path.stat().st_mode & 0o777 == 0o640


def _umask_now() -> int:
    old = os.umask(0)
    os.umask(old)
    return old
