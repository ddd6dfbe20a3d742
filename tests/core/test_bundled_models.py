"""What ships in ``resources/``: every bundled model loads with its latent PCA, and every bundled
genre classifier loads against its own autoencoder and names the genre of each demo song."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.audio.io import load_audio, split_clips
from core.genre.files import load_classifier
from core.genre.probe import predict_proba
from core.latent.pca import load_latent_pca
from core.models.io import load_model

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
MODELS = sorted(p for p in (RESOURCES / "models").iterdir() if p.is_dir())
DEMO_SONGS = sorted((RESOURCES / "demo").glob("demo_*.mp3"))


def test_the_default_names_a_bundled_model():
    default = (RESOURCES / "models" / "DEFAULT").read_text().strip()
    assert default in {p.name for p in MODELS}


@pytest.mark.parametrize("folder", MODELS, ids=[p.name for p in MODELS])
def test_a_bundled_model_loads_with_its_latent_pca(folder):
    loaded = load_model(folder)
    pca = load_latent_pca(folder)
    assert pca is not None and pca.n_components >= 1
    assert loaded.model.num_parameters() > 0


DEMO_GENRES = "synthesised demo genres"
REAL_MUSIC_PACKAGES = ("warzone2100-music", "wesnoth-1.16-music", "ufoai-music", "nexuiz-music",
                       "planetblupi-music-ogg", "xblast-tnt-musics")
CLASSIFIERS = [p for p in MODELS if (p / "classifier").is_dir()]


@pytest.mark.parametrize("folder", CLASSIFIERS, ids=lambda p: p.name)
def test_a_bundled_classifier_says_what_it_learnt_from_and_is_calibrated(folder):
    clf = load_classifier(folder / "classifier")
    assert clf.autoencoder.path.resolve() == folder.resolve()
    assert clf.trained_on
    cal = clf.calibration
    assert cal is not None and clf.temperature == cal["temperature"] > 0
    # The temperature minimises the validation NLL, not the binned ECE: on a few hundred clips
    # the ECE may move by a hundredth either way, never by more.
    assert cal["ece_after"] <= cal["ece_before"] + 0.01


# The demo songs carry synthesised genres: only a classifier of those genres can name them.
@pytest.mark.parametrize("folder", [p for p in CLASSIFIERS if load_classifier(
    p / "classifier").trained_on == DEMO_GENRES], ids=lambda p: p.name)
def test_a_bundled_classifier_names_the_genre_of_every_demo_song(folder):
    clf = load_classifier(folder / "classifier")
    assert clf.autoencoder.path.resolve() == folder.resolve()
    assert len(DEMO_SONGS) == 4
    for song in DEMO_SONGS:
        clips = split_clips(load_audio(song))
        proba = predict_proba(clf.classifier, clips).mean(axis=0)
        genre = song.stem.removeprefix("demo_")
        assert clf.genres[int(np.argmax(proba))] == genre, (song.name, proba.round(3))


def test_the_real_music_classifiers_tell_the_soundtracks_apart():
    real = [p for p in CLASSIFIERS if load_classifier(p / "classifier").trained_on != DEMO_GENRES]
    assert real, "no bundled classifier trained on real music"
    for folder in real:
        clf = load_classifier(folder / "classifier")
        assert set(clf.genres) == set(REAL_MUSIC_PACKAGES)
        probe = clf.meta["metrics"]["probe"]
        assert probe["accuracy"] > 1.5 / len(clf.genres), probe["accuracy"]  # well above chance


@pytest.mark.parametrize("folder", [p for p in MODELS if p.name.endswith("-real")],
                         ids=lambda p: p.name)
def test_a_model_trained_on_real_music_names_the_music_its_authors_and_licences(folder):
    note = (folder / "SOURCES.md").read_text(encoding="utf-8")
    for package in REAL_MUSIC_PACKAGES:
        assert f"`{package}`" in note
    assert note.count("Licence:") >= 6 and note.count("Authors:") >= 6
    assert "celae train" in note and "--minutes 30" in note
