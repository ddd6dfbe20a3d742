"""The A/B/C player heard through a real PulseAudio null sink (see ``tests/gui/sound.py``).

Positions are found in the recording by correlation, never from timings: the null sink's clock
is uneven, and the recording starts at an arbitrary moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from celae_gui.playback.player import Player
from core.constants import SAMPLE_RATE
from tests.gui.sound import NullSink, Recording, sound_harness  # noqa: F401

SR = SAMPLE_RATE
LOUD = 1e-3  # a recorded sample above this is sound
FADE = round(0.010 * SR)  # the player's default 10 ms crossfade


def chirp(seconds: float) -> np.ndarray:
    """A rising chirp (100 -> 400 Hz) riding on a DC offset, so it is never near zero.

    Every window of it is unique (correlation finds where it came from), its largest
    sample-to-sample step is small (a click stands out), and a hard cut to its negation
    jumps by at least 0.2.
    """
    t = np.arange(round(seconds * SR)) / SR
    phase = 2 * np.pi * (100 * t + 150 * t**2 / seconds)
    return (0.3 + 0.2 * np.sin(phase)).astype(np.float32)


def max_step(x: np.ndarray) -> float:
    return float(np.max(np.abs(np.diff(x.astype(np.float64)))))


def sound_span(rec: np.ndarray) -> tuple[int, int]:
    """First and one-past-last index of the recorded sound."""
    loud = np.flatnonzero(np.abs(rec) > LOUD)
    assert loud.size, "nothing was heard"
    return int(loud[0]), int(loud[-1]) + 1


def locate(rec: np.ndarray, start: int, ref: np.ndarray, width: int = round(0.2 * SR)) -> int:
    """Offset k with ``rec[start + i] == ref[start + k + i]`` over a window, found by correlation.

    The window must be a plain copy of ``ref``: the residual is asserted to be tiny.
    """
    seg = np.diff(rec[start:start + width].astype(np.float64))
    dref = np.diff(ref.astype(np.float64))
    n = 1 << int(np.ceil(np.log2(len(dref) + len(seg))))
    corr = np.fft.irfft(np.conj(np.fft.rfft(seg, n)) * np.fft.rfft(dref, n), n)
    pos = int(np.argmax(corr[:len(dref) - len(seg) + 1]))
    residual = np.max(np.abs(rec[start:start + width] - ref[pos:pos + width]))
    assert residual < LOUD, f"the window at {start} is not a copy of the source ({residual=})"
    return pos - start


def wait_until(cond: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.fixture
def player(sound_harness: NullSink) -> Iterator[Player]:  # noqa: F811
    # A roomy latency: the machine is shared, and an underrun would be heard as a gap.
    p = Player(latency=0.2)
    assert p.status.available, p.status.reason
    yield p
    p.close()


def recorded(sink: NullSink, action: Callable[[], None]) -> np.ndarray:
    rec: Recording
    with sink.record() as rec:
        action()
        return rec.wait_for_silence_after_sound()



@pytest.mark.sound
def test_plays_source_a_from_the_chosen_position_to_its_end(sound_harness, player):  # noqa: F811
    a = chirp(2.0)
    player.set_sources({"A": a, "B": -a})
    player.seek(1.2)

    def act() -> None:
        player.play()
        assert player.is_playing
        wait_until(lambda: not player.is_playing, "the end of the source")

    rec = recorded(sound_harness, act)
    on, off = sound_span(rec)
    k = locate(rec, on + FADE, a)
    # It starts where we seeked to (give or take where the fade-in crosses the threshold) ...
    assert abs(on + k - round(1.2 * SR)) <= 5
    # ... plays every sample of A from there, with no gap, and ends with A.
    np.testing.assert_allclose(rec[on + FADE:off], a[on + FADE + k:off + k], atol=LOUD)
    assert off + k == len(a)
    assert player.position == 0.0


@pytest.mark.sound
def test_switching_to_b_keeps_the_position_and_does_not_click(sound_harness, player):  # noqa: F811
    a = chirp(3.0)
    b = -a  # same signal, opposite polarity: a hard cut would jump by 0.2 or more
    player.set_sources({"A": a, "B": b})
    player.seek(0.5)

    def act() -> None:
        player.play()
        wait_until(lambda: player.position >= 1.0, "position 1.0 s")
        player.select("B")
        assert player.active_source == "B"
        wait_until(lambda: player.position >= 1.5, "position 1.5 s")
        player.pause()

    rec = recorded(sound_harness, act)
    on, off = sound_span(rec)
    width = round(0.2 * SR)
    k_a = locate(rec, on + FADE, a, width)
    k_b = locate(rec, off - FADE - width, b, width)
    assert abs(on + k_a - round(0.5 * SR)) <= 5
    # B went on from where A was: one stream position throughout, no jump.
    assert k_a == k_b
    # Every sample is A or B at that position, except the short crossfade between them.
    idx = np.arange(on + FADE, off - FADE)
    is_a = np.abs(rec[idx] - a[idx + k_a]) < LOUD
    is_b = np.abs(rec[idx] - b[idx + k_a]) < LOUD
    assert is_a[0] and is_b[-1]
    assert np.count_nonzero(~(is_a | is_b)) <= FADE
    assert max_step(rec[on - 1:off + 1]) <= max_step(a) + 0.02


@pytest.mark.sound
def test_seeking_while_playing_jumps_there_smoothly(sound_harness, player):  # noqa: F811
    a = chirp(3.0)
    player.set_sources({"A": a})
    player.seek(0.2)

    def act() -> None:
        player.play()
        wait_until(lambda: player.position >= 0.6, "position 0.6 s")
        player.seek(2.0)
        wait_until(lambda: player.position >= 2.3, "position 2.3 s")
        player.pause()

    rec = recorded(sound_harness, act)
    on, off = sound_span(rec)
    width = round(0.2 * SR)
    k1 = locate(rec, on + FADE, a, width)
    k2 = locate(rec, off - FADE - width, a, width)
    # The crossfade starts where the recording stops following the first position ...
    idx = np.arange(on + FADE, off)
    jump = int(idx[np.argmax(np.abs(rec[idx] - a[idx + k1]) > LOUD)])
    # ... and the new voice there is A at exactly 2.0 s.
    assert abs(jump + k2 - round(2.0 * SR)) <= 5
    assert k2 > k1
    assert max_step(rec[on - 1:off + 1]) <= max_step(a) + 0.02


@pytest.mark.sound
def test_pause_then_play_resumes_where_it_paused(sound_harness, player):  # noqa: F811
    a = chirp(2.0)
    player.set_sources({"A": a})
    player.seek(0.3)
    paused_at: list[float] = []

    def act_first() -> None:
        player.play()
        wait_until(lambda: player.position >= 0.7, "position 0.7 s")
        player.pause()
        assert not player.is_playing
        paused_at.append(player.position)

    first = recorded(sound_harness, act_first)
    assert player.position == paused_at[0]

    def act_second() -> None:
        player.toggle()
        wait_until(lambda: player.position >= paused_at[0] + 0.3, "0.3 s more")
        player.toggle()

    second = recorded(sound_harness, act_second)
    p = round(paused_at[0] * SR)
    on1, off1 = sound_span(first)
    k1 = locate(first, on1 + FADE, a)
    # The pause fades out over the crossfade, starting at the pause position.
    assert abs(off1 + k1 - (p + FADE)) <= 5
    on2, _ = sound_span(second)
    k2 = locate(second, on2 + FADE, a)
    assert abs(on2 + k2 - p) <= 5
    assert max_step(first) <= max_step(a) + 0.02
    assert max_step(second) <= max_step(a) + 0.02


@pytest.mark.sound
def test_loop_goes_on_from_the_beginning(sound_harness, player):  # noqa: F811
    a = chirp(1.0)
    player.set_sources({"A": a})
    player.loop = True
    player.seek(0.7)

    def act() -> None:
        player.play()
        wait_until(lambda: 0.3 <= player.position < 0.7, "the loop back to the start")
        assert player.is_playing
        player.pause()

    rec = recorded(sound_harness, act)
    on, off = sound_span(rec)
    width = round(0.1 * SR)
    k1 = locate(rec, on + FADE, a, width)
    k2 = locate(rec, off - FADE - width, a, width)
    # Seamless: the second pass is the first one moved back by exactly one source length.
    assert k1 - k2 == len(a)


@pytest.mark.sound
def test_switching_to_a_shorter_source_at_its_end_stops_quietly(sound_harness, player):  # noqa: F811
    a = chirp(2.0)
    player.set_sources({"A": a, "C": 0.5 * a[:SR]})

    def act() -> None:
        player.seek(1.5)
        player.play()
        wait_until(lambda: player.position >= 1.8, "position 1.8 s")
        player.select("C")
        wait_until(lambda: not player.is_playing, "the end of the shorter source")

    rec = recorded(sound_harness, act)
    on, off = sound_span(rec)
    k = locate(rec, on + FADE, a, round(0.15 * SR))
    assert abs(on + k - round(1.5 * SR)) <= 5
    # A fades out (no click) where C has already ended.
    assert max_step(rec[on - 1:off + 1]) <= max_step(a) + 0.02
    assert player.position == 0.0


def test_selection_and_seeking_clamp_to_the_source_length():
    """Plain state, no stream: runs with or without a sound device."""
    player = Player()
    a = chirp(2.0)
    player.set_sources({"A": a, "C": a[:SR]})
    assert player.sources == ("A", "C")
    assert player.duration() == pytest.approx(2.0)
    player.seek(1.5)
    assert player.position == pytest.approx(1.5)
    player.select("C")
    assert player.active_source == "C"
    assert player.position == pytest.approx(1.0)
    player.seek(-3.0)
    assert player.position == 0.0
    player.seek(99.0)
    assert player.position == pytest.approx(1.0)
    player.set_source("C", None)
    assert player.sources == ("A",)
    assert player.position == 0.0
    with pytest.raises(ValueError, match="mono"):
        player.set_source("B", np.zeros((2, 100), np.float32))
    with pytest.raises(ValueError, match="unknown source"):
        player.select("D")
    player.close()
