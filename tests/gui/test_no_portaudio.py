"""Without sound output the player says why and does nothing, and the process carries on.

Each case runs in a fresh interpreter whose environment really lacks the thing (PortAudio, an
output device): PortAudio reads its library and device list once per process.
"""

from __future__ import annotations

import json

import pytest

from celae_gui.playback.player import NO_DEVICE_REASON, NO_PORTAUDIO_REASON
from tests.gui.sound import hidden_portaudio_env, no_output_device_env, run_python

# Drives every public method of a Player and reports what a caller would see.
_EXERCISE_PLAYER = """
import json
import numpy as np
from celae_gui.playback.player import Player, playback_status

status = playback_status()
player = Player()
player.set_sources({"A": np.full(22050, 0.5, np.float32), "B": np.zeros(11025, np.float32)})
player.seek(0.75)
player.play()
after_play = player.is_playing
player.toggle()
player.select("B")
player.set_source("C", np.zeros(100, np.float32))
player.pause()
player.stop()
player.play()
player.close()
print(json.dumps({
    "available": status.available, "reason": status.reason,
    "probe": list(Player.probe()), "player_status": list(player.status),
    "playing_after_play": after_play, "playing_at_end": player.is_playing,
    "active": player.active_source, "position": player.position,
}))
"""


def _run(env: dict[str, str]) -> dict:
    done = run_python(_EXERCISE_PLAYER, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_hidden_environment_really_lacks_portaudio(tmp_path):
    done = run_python("import sounddevice", hidden_portaudio_env(tmp_path))
    assert done.returncode != 0
    assert "OSError: PortAudio library not found" in done.stderr


def test_without_portaudio_playback_is_unavailable_and_a_no_op(tmp_path):
    seen = _run(hidden_portaudio_env(tmp_path))
    assert seen["available"] is False
    assert seen["reason"] == NO_PORTAUDIO_REASON
    assert seen["probe"] == [False, NO_PORTAUDIO_REASON]
    assert seen["player_status"] == [False, NO_PORTAUDIO_REASON]
    assert seen["playing_after_play"] is False
    assert seen["playing_at_end"] is False
    # The transport state still follows the user's clicks, so the GUI stays consistent.
    assert seen["active"] == "B"
    assert seen["position"] == 0.0


def test_with_portaudio_but_no_output_device_playback_is_unavailable(tmp_path):
    env = no_output_device_env(tmp_path)
    check = run_python("import sounddevice as sd; print(len(sd.query_devices()))", env)
    assert check.returncode == 0, check.stderr
    if check.stdout.strip() != "0":
        pytest.skip("this machine's sound devices are visible despite the empty configuration")
    seen = _run(env)
    assert seen["available"] is False
    assert seen["reason"] == NO_DEVICE_REASON
    assert seen["player_status"] == [False, NO_DEVICE_REASON]
    assert seen["playing_after_play"] is False
    assert seen["playing_at_end"] is False
