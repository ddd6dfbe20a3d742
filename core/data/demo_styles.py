"""The ten genre recipes of the synthesised demo music (used by :mod:`core.data.demo`).

Each recipe takes a :class:`core.data.synth.SongBuilder` seeded for one song and writes its drums,
bass, harmony and melody: its own tempo feel, rhythm pattern, instruments and progression.
"""

from __future__ import annotations

import numpy as np

from core.data import synth
from core.data.synth import SongBuilder

# --- Genre recipes ------------------------------------------------------------------------
# Chords are semitone offsets above their root; progressions are (root offset, chord) per bar.

MAJ, MIN, POWER = (0, 4, 7), (0, 3, 7), (0, 7, 12)
DOM7, MIN7, MAJ7 = (0, 4, 7, 10), (0, 3, 7, 10), (0, 4, 7, 11)
DOM9, MIN9, MAJ9 = (0, 4, 10, 14), (0, 3, 10, 14), (0, 4, 11, 14)
MAJOR, MINOR, DORIAN = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10), (0, 2, 3, 5, 7, 9, 10)
BLUES, MAJOR_PENT, MINOR_PENT = (0, 3, 5, 6, 7, 10), (0, 2, 4, 7, 9), (0, 3, 5, 7, 10)

Progression = list[tuple[int, tuple[int, ...]]]


def _pick(rng: np.random.Generator, options: list):
    return options[int(rng.integers(len(options)))]


def _chord(root: int, shape: tuple[int, ...]) -> list[int]:
    return [root + i for i in shape]


def _melody(s: SongBuilder, bus: str, voice, key: int, scale: tuple[int, ...], prog: Progression,
            rhythms: list[list[tuple[float, float]]], lo: int, hi: int, gain: float = 1.0,
            rest: float = 0.2, phrase_bars: int = 2, repeat: float = 0.5) -> None:
    """A random-walk melody in ``scale`` between MIDI ``lo`` and ``hi``, landing on chord tones
    on the beat, built from phrases of ``phrase_bars`` bars that repeat with chance ``repeat``
    (hooks make a style recognisable)."""
    pitches = [m for m in range(lo, hi + 1) if (m - key) % 12 in scale]
    idx = len(pitches) // 2
    phrase: list[tuple[int, float, float, int]] = []
    for start in range(0, s.bars, phrase_bars):
        if not phrase or s.rng.random() > repeat:
            phrase = []
            for b in range(phrase_bars):
                off, shape = prog[(start + b) % len(prog)]
                tones = {(key + off + i) % 12 for i in shape}
                for beat, dur in _pick(s.rng, rhythms):
                    if s.rng.random() < rest:
                        continue
                    idx = int(np.clip(idx + s.rng.choice([-2, -1, -1, 0, 1, 1, 2]), 0,
                                      len(pitches) - 1))
                    if float(beat).is_integer():
                        near = [j for j in range(len(pitches)) if pitches[j] % 12 in tones]
                        if near:
                            idx = min(near, key=lambda j: abs(j - idx))
                    phrase.append((b, beat, dur, pitches[idx]))
        for b, beat, dur, midi in phrase:
            s.note(bus, voice, midi, start + b, beat, dur, gain)


def _kit(s: SongBuilder, kick_pitch: float = 55.0, snare_tone: float = 190.0,
         snare_bright: float = 7000.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = s.rng
    return (synth.kick(s.sr, r, pitch=kick_pitch * r.uniform(0.9, 1.1)),
            synth.snare(s.sr, r, tone=snare_tone * r.uniform(0.9, 1.1), brightness=snare_bright),
            synth.hat(s.sr, r, tone=r.uniform(6000.0, 8500.0)))


def _g(s: SongBuilder, level: float) -> float:
    """A bus gain with per-song variation of the instrument mix."""
    return level * s.rng.uniform(0.75, 1.25)


def _blues(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(70, 100), swing=1 / 3)
    key = 40 + int(r.integers(0, 8))
    twelve = [0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]
    if r.random() < 0.5:
        twelve[1] = 5  # the "quick change" to IV in bar 2
    prog = [(o, DOM7) for o in twelve]
    kick, snare, hat = _kit(s)
    drums = s.bus("drums", _g(s, 0.6), high=9000.0)
    bass = s.bus("bass", _g(s, 0.8), high=2000.0)
    comp = s.bus("comp", _g(s, 0.5), low=120.0)
    lead = s.bus("lead", _g(s, 0.5), low=200.0)
    comp_voice = _pick(r, [synth.pluck, synth.epiano, synth.organ])
    for bar in range(s.bars):
        s.pattern(drums, kick, "X...x...", bar)
        s.pattern(drums, snare, "..X...X.", bar)
        s.pattern(drums, hat, "xoxoxoxo", bar, 0.5, keep=0.8)
        off, shape = prog[bar % 12]
        root = key + off
        for i, step in enumerate((0, 4, 7, 9, 10, 9, 7, 4)):
            s.note(bass, synth.bass, root + step, bar, i * 0.5, 0.45)
        for beat in (0.5, 1.5, 2.5, 3.5):
            for m in _chord(root + 12, shape):
                s.note(comp, comp_voice, m, bar, beat, 0.4, 0.5)
    _melody(s, lead, _pick(r, [synth.reed, synth.organ, synth.pluck]), key, BLUES, prog,
            [[(0, 1), (1.5, 0.5), (2, 1)], [(0, 0.5), (0.5, 0.5), (1, 1.5), (3, 1)],
             [(0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 2)]], key + 24, key + 38, rest=0.35)


def _classical(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(60, 92), beats_per_bar=int(r.choice([3, 4])), jitter=0.008)
    key = 48 + int(r.integers(0, 12))
    if r.random() < 0.5:
        scale, prog = MAJOR, _pick(r, [
            [(0, MAJ), (9, MIN), (5, MAJ), (7, MAJ)],
            [(0, MAJ), (7, MAJ), (9, MIN), (4, MIN), (5, MAJ), (0, MAJ), (5, MAJ), (7, MAJ)],
            [(0, MAJ), (5, MAJ), (2, MIN), (7, MAJ)]])
    else:
        scale, prog = MINOR, _pick(r, [
            [(0, MIN), (5, MIN), (7, MAJ), (0, MIN)],
            [(0, MIN), (8, MAJ), (3, MAJ), (7, MAJ)]])
    bpb = s.beats_per_bar
    strings = s.bus("strings", _g(s, 0.6), low=60.0, high=2800.0)
    cello = s.bus("cello", _g(s, 0.5), high=1500.0)
    solo = s.bus("solo", _g(s, 0.6), low=180.0, high=6000.0)
    harp = s.bus("harp", _g(s, 0.4) if r.random() < 0.5 else 0.0)
    timpani = synth.kick(s.sr, r, pitch=r.uniform(70, 95), length=1.0, punch=1.3)
    timp = s.bus("timpani", _g(s, 0.4) if r.random() < 0.35 else 0.0, high=1200.0)
    for bar in range(s.bars):
        off, shape = prog[bar % len(prog)]
        for m in _chord(key + off, shape):
            s.note(strings, synth.strings, m, bar, 0, bpb + 0.3, 0.6)
        s.note(cello, synth.strings, key + off - 12, bar, 0, bpb + 0.3)
        if bar % 4 == 0:
            s.hit(timp, timpani, bar, 0)
        if s.effects[harp][0]:
            tones = _chord(key + off + 12, shape)
            for i in range(bpb * 2):
                s.note(harp, synth.pluck, tones[i % len(tones)], bar, i * 0.5, 1.5, 0.5)
    _melody(s, solo, _pick(r, [synth.violin, synth.reed]), key, scale, prog,
            [[(0, 1), (1, 1), (2, 1)], [(0, 2), (2, 1)], [(0, 1.5), (1.5, 0.5), (2, 1)]],
            key + 12, key + 31, rest=0.1, phrase_bars=4, repeat=0.3)


def _country(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(100, 135))
    key = 43 + int(r.integers(0, 8))
    prog = [(o, MAJ) for o in _pick(r, [[0, 0, 5, 0, 7, 7, 0, 0], [0, 5, 7, 0], [0, 5, 0, 7]])]
    kick, snare, hat = _kit(s, snare_tone=240.0, snare_bright=5000.0)
    drums = s.bus("drums", _g(s, 0.5), high=9000.0)
    bass = s.bus("bass", _g(s, 0.8), high=1800.0)
    guitar = s.bus("guitar", _g(s, 0.7), low=90.0)
    fiddle = s.bus("fiddle", _g(s, 0.5) if r.random() < 0.7 else 0.0, low=200.0)
    train = r.random() < 0.4
    for bar in range(s.bars):
        s.pattern(drums, kick, "X...x...", bar)
        s.pattern(drums, snare, "oxoxoxox" if train else "..x...x.", bar, 0.8, keep=0.7)
        s.pattern(drums, hat, "x.x.x.x.", bar, 0.4)
        off, _ = prog[bar % len(prog)]
        root = key + off
        s.note(bass, synth.bass, root, bar, 0, 0.9)
        s.note(bass, synth.bass, root - 5, bar, 2, 0.9)
        strum = [root + 12, root + 19, root + 24, root + 28, root + 31, root + 36]
        for beat in (1, 1.5, 3, 3.5) if r.random() < 0.5 else (0, 1, 1.5, 2, 3, 3.5):
            up = beat % 1 == 0.5
            for i, m in enumerate(strum[::-1] if up else strum):
                s.note(guitar, synth.pluck, m, bar, beat + 0.012 * i, 0.9, 0.4)
    _melody(s, fiddle, synth.violin, key, MAJOR_PENT, prog,
            [[(i * 0.5, 0.5) for i in range(8)], [(0, 1), (1, 0.5), (1.5, 0.5), (2, 2)]],
            key + 24, key + 40, rest=0.15)


def _disco(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(112, 128), jitter=0.002)
    key = 40 + int(r.integers(0, 8))
    prog = _pick(r, [[(0, MIN7), (5, MIN7)], [(0, MIN7), (10, DOM7), (8, MAJ7), (7, MIN7)],
                     [(0, MIN7), (3, MAJ7)]])
    kick, clap, hat = _kit(s, kick_pitch=52.0, snare_tone=220.0)
    open_hat = synth.hat(s.sr, r, open_=True)
    drums = s.bus("drums", _g(s, 0.7), high=12000.0)
    bass = s.bus("bass", _g(s, 0.8), high=1200.0)
    pad = s.bus("pad", _g(s, 0.35), low=200.0, high=4000.0)
    stabs = s.bus("stabs", _g(s, 0.4), low=250.0)
    stab_grid = _pick(r, ["..x..x....x..x..", "x..x..x...x.x...", "..x...x...x...x."])
    for bar in range(s.bars):
        s.pattern(drums, kick, "X...X...X...X...", bar)
        s.pattern(drums, clap, "....X.......X...", bar, 0.8)
        s.pattern(drums, hat, "x.x.x.x.x.x.x.x.", bar, 0.35)
        s.pattern(drums, open_hat, "..X...X...X...X.", bar, 0.35)
        off, shape = prog[bar % len(prog)]
        root = key + off
        for i in range(8):
            s.note(bass, synth.saw_note, root + 12 * (i % 2), bar, i * 0.5, 0.4)
        for m in _chord(root + 24, shape):
            s.note(pad, synth.strings, m, bar, 0, 4.2, 0.5)
        for i, ch in enumerate(stab_grid):
            if ch == "x":
                for m in _chord(root + 24, shape):
                    s.note(stabs, synth.epiano, m, bar, i * 0.25, 0.3, 0.5)


def _hiphop(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(82, 98), swing=r.uniform(0.15, 0.3), swing_unit=0.5)
    key = 36 + int(r.integers(0, 8))
    prog = _pick(r, [[(0, MIN9), (8, MAJ7)], [(0, MIN7), (5, MIN7), (3, MAJ7), (10, DOM7)],
                     [(0, MIN9), (0, MIN9), (5, MIN9), (7, MIN7)]])
    kick, snare, hat = _kit(s, kick_pitch=48.0, snare_tone=180.0, snare_bright=6000.0)
    kick_grid = _pick(r, ["X.........X.x...", "X......X..X.....", "X.X.......X....."])
    drums = s.bus("drums", _g(s, 0.8), high=10000.0)
    sub = s.bus("sub", _g(s, 0.7), high=600.0)
    keys = s.bus("keys", _g(s, 0.4), low=150.0, high=2500.0)
    bells = s.bus("bells", _g(s, 0.3) if r.random() < 0.5 else 0.0, low=400.0)
    vinyl = s.bus("vinyl", _g(s, 0.05), low=2000.0)
    for bar in range(s.bars):
        s.pattern(drums, kick, kick_grid, bar)
        s.pattern(drums, snare, "....X.......X...", bar)
        s.pattern(drums, hat, "x.x.x.x.x.x.x.xo", bar, 0.35, keep=0.6)
        off, shape = prog[bar % len(prog)]
        for i, ch in enumerate(kick_grid):
            if ch != ".":
                s.note(sub, synth.sub808, key + off, bar, i * 0.25, 1.4)
        for m in _chord(key + off + 24, shape):
            s.note(keys, synth.epiano, m, bar, 0, 3.8, 0.5)
    crackle = s.buses[vinyl]
    pops = r.integers(0, s.n, int(25 * s.n / s.sr))
    crackle[pops] = r.uniform(-1.0, 1.0, len(pops))
    _melody(s, bells, synth.bell, key, MINOR_PENT, prog,
            [[(0, 1), (1.5, 0.5), (3, 1)], [(0.5, 0.5), (2, 1)]], key + 36, key + 50,
            rest=0.3, phrase_bars=2, repeat=0.8)


def _jazz(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(110, 180), jitter=0.006)
    key = 41 + int(r.integers(0, 8))
    prog = _pick(r, [[(2, MIN9), (7, DOM9), (0, MAJ9), (0, MAJ9)],
                     [(2, MIN7), (7, DOM7), (0, MAJ7), (9, DOM7)],
                     [(0, MAJ7), (9, MIN7), (2, MIN9), (7, DOM9)]])
    _, brush, foot = _kit(s, snare_tone=200.0, snare_bright=4000.0)
    ride = synth.cymbal(s.sr, r, length=0.9, ride=True)
    soft_kick = synth.kick(s.sr, r, pitch=60.0, length=0.25, punch=2.0)
    drums = s.bus("drums", _g(s, 0.45), high=11000.0)
    bass = s.bus("bass", _g(s, 0.9), high=1500.0)
    piano = s.bus("piano", _g(s, 0.5), low=150.0)
    sax = s.bus("sax", _g(s, 0.5) if r.random() < 0.6 else 0.0, low=180.0)
    for bar in range(s.bars):
        # Twelve triplet steps per bar: the swung "spang-a-lang" ride.
        s.pattern(drums, ride, "X..x.xX..x.x", bar, 0.8)
        s.pattern(drums, foot, "...x.....x..", bar, 0.4)
        s.pattern(drums, soft_kick, "o..o..o..o..", bar, 0.5)
        s.pattern(drums, brush, "..o..o..o..o", bar, 0.5, keep=0.3)
        off, shape = prog[bar % len(prog)]
        root = key + off
        nxt = key + prog[(bar + 1) % len(prog)][0]
        walk = [root, root + _pick(r, [3, 4, 7]) if shape[1] < 5 else root + shape[1],
                root + _pick(r, [7, 10, 12]), nxt + _pick(r, [-1, 1])]
        for beat, m in enumerate(walk):
            s.note(bass, synth.bass, m, bar, beat, 0.95)
        voicing = [root + 12 + i for i in shape[1:]]
        for beat in r.choice([0.0, 2 / 3, 5 / 3, 2.0, 8 / 3, 11 / 3], 2, replace=False):
            for m in voicing:
                s.note(piano, synth.epiano, m, bar, float(beat), 0.7, 0.5)
    _melody(s, sax, synth.reed, key, DORIAN, prog,
            [[(0, 2 / 3), (2 / 3, 1 / 3), (1, 2 / 3), (5 / 3, 1 / 3), (2, 1), (3, 1)],
             [(0, 1.5), (5 / 3, 1 / 3), (2, 2 / 3), (8 / 3, 4 / 3)]],
            key + 14, key + 33, rest=0.25, repeat=0.2)


def _metal(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(140, 200), jitter=0.002)
    key = 40 + int(r.integers(0, 4))
    prog = [(o, POWER) for o in _pick(r, [[0, 0, 1, 0], [0, 8, 10, 0], [0, 3, 5, 6],
                                          [0, 0, 8, 7]])]
    kick, snare, _ = _kit(s, kick_pitch=60.0, snare_tone=200.0, snare_bright=9000.0)
    crash = synth.cymbal(s.sr, r, length=1.5)
    double = r.random() < 0.6
    chug = _pick(r, ["xxx.xx.xxxx.x.xx", "x.xxx.xxx.xxx.xx", "xxxxxxxxxxxxxxxx"])
    drums = s.bus("drums", _g(s, 0.6), high=12000.0)
    cymbals = s.bus("cymbals", _g(s, 0.25))
    guitar = s.bus("guitar", _g(s, 0.9), low=90.0, high=4500.0, drive=12.0)
    bass = s.bus("bass", _g(s, 0.6), high=1500.0, drive=2.0)
    for bar in range(s.bars):
        s.pattern(drums, kick, "xxxxxxxxxxxxxxxx" if double else "X.x.X.x.X.x.X.x.", bar)
        s.pattern(drums, snare, "....X.......X...", bar)
        s.pattern(cymbals, crash, "X..............." if bar % 2 == 0 else "x...x...x...x...", bar)
        off, shape = prog[bar % len(prog)]
        root = key + off
        if bar % 4 == 0:
            for m in _chord(root, shape):
                s.note(guitar, synth.saw_note, m, bar, 0, 1.0)
        start = 4 if bar % 4 == 0 else 0
        for i, ch in enumerate(chug[start:], start=start):
            if ch == "x":
                for m in (root, root + 7):
                    s.note(guitar, synth.saw_note, m, bar, i * 0.25, 0.18)
        for i in range(8):
            s.note(bass, synth.saw_note, root - 12, bar, i * 0.5, 0.4)


def _pop(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(96, 126), jitter=0.002)
    key = 45 + int(r.integers(0, 8))
    prog = _pick(r, [[(0, MAJ), (7, MAJ), (9, MIN), (5, MAJ)],
                     [(9, MIN), (5, MAJ), (0, MAJ), (7, MAJ)],
                     [(0, MAJ), (5, MAJ), (9, MIN), (7, MAJ)]])
    kick, clap, hat = _kit(s, snare_tone=230.0, snare_bright=9000.0)
    drums = s.bus("drums", _g(s, 0.7), high=13000.0)
    bass = s.bus("bass", _g(s, 0.7), high=1500.0)
    pad = s.bus("pad", _g(s, 0.3), low=200.0, high=3000.0)
    arp = s.bus("arp", _g(s, 0.35) if r.random() < 0.6 else 0.0, low=300.0)
    vocal = s.bus("lead", _g(s, 0.6), low=250.0)
    for bar in range(s.bars):
        s.pattern(drums, kick, "X.......X.x.....", bar)
        s.pattern(drums, clap, "....X.......X...", bar)
        s.pattern(drums, hat, "x.x.x.x.x.x.x.x.", bar, 0.4)
        off, shape = prog[bar % len(prog)]
        root = key + off
        for i in range(8):
            s.note(bass, synth.bass, root - 12, bar, i * 0.5, 0.45)
        for m in _chord(root + 12, shape):
            s.note(pad, synth.strings, m, bar, 0, 4.2, 0.5)
        tones = _chord(root + 24, shape) + [root + 36]
        for i in range(8):
            s.note(arp, synth.bell, tones[i % len(tones)], bar, i * 0.5, 0.5, 0.5)
    _melody(s, vocal, synth.lead, key, MAJOR_PENT, prog,
            [[(0, 1), (1, 0.5), (1.5, 0.5), (2, 1.5)], [(0.5, 0.5), (1, 1), (2, 0.5), (2.5, 1.5)]],
            key + 19, key + 33, rest=0.15, phrase_bars=2, repeat=0.75)


def _reggae(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(66, 84), swing=0.15)
    key = 40 + int(r.integers(0, 8))
    chord = MAJ if r.random() < 0.6 else MIN
    prog = [(o, chord) for o in _pick(r, [[0, 5], [0, 0, 5, 5], [0, 7, 5, 7]])]
    kick, rim, hat = _kit(s, kick_pitch=50.0, snare_tone=380.0, snare_bright=5000.0)
    drums = s.bus("drums", _g(s, 0.55), high=9000.0)
    bass = s.bus("bass", _g(s, 1.0), high=700.0)
    skank = s.bus("skank", _g(s, 0.45), low=350.0, high=6000.0)
    bubble = s.bus("organ", _g(s, 0.25) if r.random() < 0.5 else 0.0, low=200.0)
    skank_voice = _pick(r, [synth.pluck, synth.organ])
    bassline = _pick(r, [[(0, 1.2, 0), (1.5, 0.4, 7), (2.5, 0.4, 12), (3.0, 0.9, 7)],
                         [(0, 0.9, 0), (1.0, 0.4, 0), (1.5, 1.0, 7), (3.0, 0.5, 5)]])
    for bar in range(s.bars):
        # The one drop: kick and rim together on beat 3, nothing on beat 1.
        s.pattern(drums, kick, "........X.......", bar)
        s.pattern(drums, rim, "........X.......", bar, 0.7)
        s.pattern(drums, hat, "x.x.x.x.x.x.x.x.", bar, 0.35)
        off, shape = prog[bar % len(prog)]
        root = key + off
        for beat, dur, step in bassline:
            s.note(bass, synth.bass, root + step - 12, bar, beat, dur)
        for beat in (0.5, 1.5, 2.5, 3.5):
            for m in _chord(root + 24, shape):
                s.note(skank, skank_voice, m, bar, beat, 0.22, 0.5)
        for beat in (0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75):
            s.note(bubble, synth.organ, root + 12 + (7 if beat % 1 == 0.75 else 0), bar, beat,
                   0.2, 0.4)


def _rock(s: SongBuilder) -> None:
    r = s.rng
    s.set_tempo(r.uniform(108, 150), jitter=0.003)
    key = 40 + int(r.integers(0, 8))
    prog = [(o, POWER) for o in _pick(r, [[0, 10, 5, 0], [0, 5, 7, 5], [0, 7, 9, 5]])]
    kick, snare, hat = _kit(s, kick_pitch=58.0, snare_tone=200.0, snare_bright=8000.0)
    crash = synth.cymbal(s.sr, r, length=1.4)
    drums = s.bus("drums", _g(s, 0.65), high=12000.0)
    cymbals = s.bus("cymbals", _g(s, 0.2))
    guitar = s.bus("guitar", _g(s, 0.8), low=80.0, high=5000.0, drive=4.0)
    bass = s.bus("bass", _g(s, 0.7), high=1500.0)
    clean = s.bus("clean", _g(s, 0.35) if r.random() < 0.35 else 0.0, low=150.0)
    kick_grid = _pick(r, ["X.......X.x.....", "X...X...X.x....."])
    for bar in range(s.bars):
        s.pattern(drums, kick, kick_grid, bar)
        s.pattern(drums, snare, "....X.......X...", bar)
        s.pattern(drums, hat, "x.x.x.x.x.x.x.x.", bar, 0.4)
        if bar % 4 == 0:
            s.hit(cymbals, crash, bar, 0)
        off, shape = prog[bar % len(prog)]
        root = key + off
        for i in range(8):
            for m in _chord(root, shape):
                s.note(guitar, synth.saw_note, m, bar, i * 0.5, 0.45)
            s.note(bass, synth.bass, root - 12, bar, i * 0.5, 0.45)
        tones = _chord(root + 12, (0, 7, 12, 16))
        for i in range(8):
            s.note(clean, synth.pluck, tones[i % 4], bar, i * 0.5, 1.0, 0.5)


GENRE_RECIPES = {
    "blues": _blues, "classical": _classical, "country": _country, "disco": _disco,
    "hiphop": _hiphop, "jazz": _jazz, "metal": _metal, "pop": _pop, "reggae": _reggae,
    "rock": _rock,
}
