"""Property: mutated WAV/MP3/FLAC/Ogg bytes either load as finite float32 audio or raise
AudioLoadError naming the file. ``scripts/fuzz_audio.py`` checks the same property on 10 000+
random inputs (``make fuzz``); this runs a few hundred, derandomised so the suite is stable."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts.fuzz_audio import check, mutate, seed_corpus

SEEDS = ("pcm16.wav", "float.wav", "stereo.flac", "stereo.mp3", "vorbis.ogg", "opus.opus")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    return folder, seed_corpus(folder)


def test_the_seed_corpus_is_valid_audio(corpus):
    folder, seeds = corpus
    assert sorted(seeds) == sorted(SEEDS)
    for name, data in seeds.items():
        path = folder / name
        path.write_bytes(data)
        assert check(path) is None, name


@pytest.mark.timeout(120)
@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(SEEDS), donor=st.sampled_from(SEEDS), kind=st.integers(0, 4),
       a=st.floats(0, 1, exclude_max=True), b=st.floats(0, 1, exclude_max=True),
       flips=st.integers(1, 8))
def test_mutated_audio_loads_or_raises_audio_load_error(corpus, name, donor, kind, a, b, flips):
    folder, seeds = corpus
    path = folder / f"mutant-{name}"
    path.write_bytes(mutate(seeds[name], kind, a, b, seeds[donor], flips))

    assert check(path) is None
