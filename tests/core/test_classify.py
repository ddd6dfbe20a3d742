"""Genre classification: the latent probe on a tiny real autoencoder, its baselines, its saved
folder, prediction from audio and from (edited) latents, and the CLI functions."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch
from sklearn.metrics import classification_report, confusion_matrix

from core import analysis as analysis_cli
from core.analysis.data import load_analysis_data
from core.errors import DatasetError, ModelLoadError, TrainingError
from core.genre.files import load_classifier, save_classifier
from core.genre.fit import FitConfig, fit
from core.genre.probe import (
    LabeledClips,
    classification_metrics,
    encode_latents,
    predict_proba,
    predict_proba_from_latent,
    train_latent_probe,
)
from core.models import build_model
from core.models.io import save_model
from core.progress import Cancelled

CLIP = 2048
SR = 22_050
TONES = {"blues": 200.0, "jazz": 1500.0, "metal": 6000.0}


def _song(freq: float, rng: np.random.Generator, clips: int = 3) -> np.ndarray:
    t = np.arange(CLIP * clips) / SR
    f = freq * (1 + 0.03 * rng.standard_normal())
    return (0.5 * np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal(len(t))).astype(
        np.float32)


def _write_dataset(root, names_by_genre: dict[str, list[str]], seed: int = 0):
    rng = np.random.default_rng(seed)
    for genre, names in names_by_genre.items():
        (root / genre).mkdir(parents=True)
        for name in names:
            sf.write(root / genre / f"{name}.wav", _song(TONES[genre], rng), SR)
    return root


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny models run several times faster on one thread than on two busy shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _train_tiny(root, arch: str, folder: str, **options):
    """A tiny ``arch`` saved in ``root/folder``, the three-genre tonal dataset, and a classifier
    trained on it into ``root/folder/classifier``: ``(root, data, result)``."""
    torch.manual_seed(0)
    save_model(build_model(arch, clip_samples=CLIP), root / folder)
    data = _write_dataset(root / "data", {g: [f"song{i}" for i in range(5)] for g in TONES})
    result = analysis_cli.run_classify_train(data, root / folder, root / folder / "classifier",
                                             epochs=12, batch_size=8, device="cpu", **options)
    return root, data, result


@pytest.fixture(scope="module")
def trained(_one_thread, tmp_path_factory):
    """A tiny autoencoder, a three-genre tonal dataset and a classifier trained on it."""
    return _train_tiny(tmp_path_factory.mktemp("clf"), "CELAutoencoderSiLU", "ae")


def test_metrics_match_sklearn_on_a_known_labelling():
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 0, 1, 1, 2, 0, 2, 1])
    proba = np.eye(3)[y_pred] * 0.8 + 0.2 / 3
    m = classification_metrics(y_true, proba, ["a", "b", "c"], songs=np.arange(9) // 3)
    ref = classification_report(y_true, y_pred, target_names=["a", "b", "c"], output_dict=True)
    assert m.accuracy == pytest.approx(ref["accuracy"])
    np.testing.assert_array_equal(m.confusion, confusion_matrix(y_true, y_pred))
    for row in m.per_class:
        assert row.precision == pytest.approx(ref[row.genre]["precision"])
        assert row.recall == pytest.approx(ref[row.genre]["recall"])
        assert row.f1 == pytest.approx(ref[row.genre]["f1-score"])
        assert row.support == ref[row.genre]["support"]
    assert m.macro.f1 == pytest.approx(ref["macro avg"]["f1-score"])
    assert m.weighted.precision == pytest.approx(ref["weighted avg"]["precision"])
    assert m.song_accuracy == pytest.approx(2 / 3)  # song 1 mixes labels 1 and 2: voted wrong


def test_probe_and_baselines_learn_the_genres_on_one_split(trained):
    _, _, result = trained
    assert result.split["method"] == "seeded" and result.split["test_songs"] >= 3
    assert result.probe.evaluated_on == "test"
    assert result.probe.accuracy >= 0.8
    names = [b.name for b in result.baselines]
    assert names == ["mel CNN baseline", "MFCC stats + MLP baseline"]
    assert all(b.n_clips == result.probe.n_clips for b in result.baselines)
    assert result.fit.best_epoch >= 1 and result.fit.history
    json.dumps(result.as_dict())


def test_saved_classifier_holds_only_the_head_and_reloads_identically(trained):
    root, data, result = trained
    folder = root / "ae" / "classifier"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["genres"] == sorted(TONES) and cfg["autoencoder"]["sha256"]
    assert cfg["metrics"]["probe"]["accuracy"] == pytest.approx(result.probe.accuracy)
    lc = load_classifier(folder)
    clips = load_analysis_data(data, CLIP).side("test").clips
    proba = predict_proba(lc.classifier, clips)
    assert proba.shape == (len(clips), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    again = predict_proba(load_classifier(folder).classifier, clips)
    np.testing.assert_allclose(again, proba, atol=1e-6)


def test_latents_classify_like_their_audio_and_edits_move_the_genre(trained):
    root, data, _ = trained
    clf = load_classifier(root / "ae" / "classifier").classifier
    clips = load_analysis_data(data, CLIP).side("test").clips[:4]
    z = encode_latents(clf.autoencoder, clips).numpy()
    np.testing.assert_allclose(predict_proba_from_latent(clf, z), predict_proba(clf, clips),
                               atol=1e-5)
    single = predict_proba_from_latent(clf, z[0])
    assert single.shape == (1, 3)
    edited = predict_proba_from_latent(clf, z[0] * 0.0)
    assert not np.allclose(edited, single, atol=1e-3)


def test_predict_an_audio_file_through_the_cli(trained, capsys):
    from core.cli.main import main

    root, data, _ = trained
    song = data / "metal" / "song0.wav"
    assert main(["classify", "predict", str(root / "ae" / "classifier"), str(song),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["top"] == "metal"
    assert sum(out["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert len(out["per_clip"]) == 3


def test_eval_on_the_training_dataset_uses_the_held_out_songs(trained):
    root, data, result = trained
    ev = analysis_cli.run_classify_eval(root / "ae" / "classifier", data, device="cpu")
    assert ev.metrics.evaluated_on == "test"
    assert ev.metrics.n_clips == result.probe.n_clips
    assert ev.metrics.accuracy == pytest.approx(result.probe.accuracy)
    assert [b["name"] for b in ev.stored["baselines"]][0] == "mel CNN baseline"


def test_a_changed_or_missing_autoencoder_is_refused(trained, tmp_path):
    root, _, _ = trained
    shutil.copytree(root / "ae", tmp_path / "ae")
    lc = load_classifier(tmp_path / "ae" / "classifier")
    assert lc.autoencoder.path == tmp_path / "ae"  # found beside it, not at the old path
    torch.manual_seed(1)
    save_model(build_model("CELAutoencoderSiLU", clip_samples=CLIP), tmp_path / "ae")
    with pytest.raises(ModelLoadError, match="changed"):
        load_classifier(tmp_path / "ae" / "classifier")
    clf_only = tmp_path / "moved"
    shutil.copytree(root / "ae" / "classifier", clf_only)
    cfg = json.loads((clf_only / "config.json").read_text())
    cfg["autoencoder"].update(path=str(tmp_path / "gone"), relative_path="../gone", name="gone")
    (clf_only / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="not found"):
        load_classifier(clf_only)
    cfg = json.loads((root / "ae" / "classifier" / "config.json").read_text())
    cfg["head"]["feature_version"] = 0
    (clf_only / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="retrain"):
        load_classifier(clf_only)


def test_cluster_and_report_from_the_cli_functions(trained, tmp_path):
    root, data, _ = trained
    res = analysis_cli.run_cluster(data, root / "ae", k_max=6, device="cpu")
    assert [r.name for r in res.reports] == ["latent (flatten)", "latent (stats)",
                                             "MFCC stats baseline"]
    assert all(r.chosen.homogeneity is not None for r in res.reports)
    # Every point names its clip, so the app can play it: song file and start in the song.
    assert len(res.clips) == len(res.reports[0].coords) == 15 * 3
    first = [c for c in res.clips if c.path == res.clips[0].path]
    assert [c.offset for c in first] == pytest.approx([0.0, CLIP / SR, 2 * CLIP / SR])
    assert "MFCC stats baseline" in res.text()
    rep = analysis_cli.run_report(data, root / "ae", tmp_path / "r", k_max=6, device="cpu",
                                  clf=root / "ae" / "classifier")
    html = (tmp_path / "r" / "report.html").read_text()
    assert "mel CNN baseline" in html and "latent (stats)" in html
    assert len(rep.classification) == 3


def test_gtzan_file_names_get_the_fault_filtered_split(tmp_path):
    from torchaudio.datasets import gtzan

    names = {}
    for g in TONES:
        pick = [n for n in gtzan.filtered_train if n.startswith(g)][:2]
        pick += [n for n in gtzan.filtered_valid if n.startswith(g)][:1]
        pick += [n for n in gtzan.filtered_test if n.startswith(g)][:1]
        names[g] = pick
    data = _write_dataset(tmp_path / "gtzan", names)
    ad = load_analysis_data(data, CLIP)
    assert ad.split.method == "gtzan-filtered"
    assert {s.song_id for s in ad.split.test_songs} == {names[g][3] for g in TONES}
    assert {s.song_id for s in ad.split.valid_songs} == {names[g][2] for g in TONES}


def test_other_heads_train_save_and_reload(trained, tmp_path):
    root, data, _ = trained
    lc = load_classifier(root / "ae" / "classifier")
    ad = load_analysis_data(data, CLIP)
    for head in ("report", "conv", "multiscale"):
        clf, res = train_latent_probe(lc.autoencoder.model, ad.side("train"), ad.side("valid"),
                                      ad.genres, head=head, fit_config=FitConfig(epochs=2),
                                      autoencoder_ref=lc.classifier.autoencoder_ref)
        save_classifier(clf, tmp_path / head)
        back = load_classifier(tmp_path / head, autoencoder=lc.autoencoder)
        assert back.classifier.head_config.kind == head
        clips = ad.side("test").clips[:3]
        np.testing.assert_allclose(predict_proba(back.classifier, clips),
                                   predict_proba(clf, clips), atol=1e-5)


def test_training_can_be_cancelled_and_resumes_from_its_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    x, y = torch.from_numpy(rng.standard_normal((40, 5)).astype(np.float32)), \
        torch.arange(40) % 2
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    with pytest.raises(Cancelled):
        fit(net, (x, y), (x[:8], y[:8]), FitConfig(epochs=3), should_stop=lambda: True)
    fit(net, (x, y), (x[:8], y[:8]), FitConfig(epochs=2, patience=99),
        checkpoint_dir=tmp_path / "ck")
    first = fit(net, (x, y), (x[:8], y[:8]), FitConfig(epochs=4, patience=99),
                checkpoint_dir=tmp_path / "ck")
    assert [r["epoch"] for r in first.history] == [1, 2, 3, 4]
    other = torch.nn.Sequential(torch.nn.Linear(5, 3))
    with pytest.raises(TrainingError, match="cannot be resumed"):
        fit(other, (x, y), (x[:8], y[:8]), FitConfig(epochs=5), checkpoint_dir=tmp_path / "ck")


def test_unlabelled_or_tiny_datasets_are_user_errors(tmp_path):
    (tmp_path / "plain").mkdir()
    sf.write(tmp_path / "plain" / "a.wav", _song(300.0, np.random.default_rng(0)), SR)
    with pytest.raises(DatasetError, match="labelled"):
        load_analysis_data(tmp_path / "plain", CLIP)
    ae = build_model("CELAutoencoderSiLU", clip_samples=CLIP)
    one = LabeledClips(np.zeros((1, CLIP), np.float32), np.zeros(1, np.int64))
    with pytest.raises(DatasetError, match="too few"):
        train_latent_probe(ae, one, one, ["a", "b"])


def test_a_trained_classifier_says_what_it_learnt_from_and_is_calibrated(trained):
    root, data, result = trained
    lc = load_classifier(root / "ae" / "classifier")
    assert lc.trained_on == data.name == result.trained_on
    cal = lc.calibration
    assert cal is not None and cal["temperature"] == lc.temperature > 0
    # Fitting the temperature minimises the validation NLL, which T = 1 was a candidate for.
    assert cal["ece_after"] <= cal["ece_before"] + 0.05
    assert "expected calibration error" in result.text()


def test_the_temperature_softens_the_bars_but_keeps_the_answer(trained):
    root, data, _ = trained
    lc = load_classifier(root / "ae" / "classifier")
    clips = load_analysis_data(data, CLIP).side("test").clips
    lc.classifier.temperature = 1.0
    sharp = predict_proba(lc.classifier, clips)
    lc.classifier.temperature = 4.0
    soft = predict_proba(lc.classifier, clips)
    np.testing.assert_array_equal(sharp.argmax(1), soft.argmax(1))
    assert soft.max(1).mean() < sharp.max(1).mean()


def test_expected_calibration_error_and_the_fitted_temperature():
    from core.genre.calibration import calibrate, expected_calibration_error, softmax

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    # Right 60 % of the time but always ~99 % sure: badly over-confident.
    pred = np.where(rng.random(600) < 0.6, labels, (labels + 1) % 3)
    logits = 8.0 * np.eye(3)[pred]
    assert expected_calibration_error(softmax(logits), labels) > 0.3
    cal = calibrate(logits, labels)
    assert cal.temperature > 1 and cal.ece_after < 0.05 < cal.ece_before
    assert expected_calibration_error(np.eye(3)[labels], labels) == 0.0


def test_the_same_probe_run_twice_learns_the_same_weights(trained):
    root, data, _ = trained
    lc = load_classifier(root / "ae" / "classifier")
    ad = load_analysis_data(data, CLIP)
    heads = []
    for _ in range(2):
        torch.rand(7)  # whatever ran before must not change the probe's initial weights
        clf, _ = train_latent_probe(lc.autoencoder.model, ad.side("train"), ad.side("valid"),
                                    ad.genres, fit_config=FitConfig(epochs=2))
        heads.append(clf.head.state_dict())
    for k in heads[0]:
        assert torch.equal(heads[0][k], heads[1][k]), k


def test_clips_per_song_keeps_every_song_with_fewer_clips(trained):
    _, data, _ = trained
    full = load_analysis_data(data, CLIP)
    few = load_analysis_data(data, CLIP, clips_per_song=1)
    songs = np.asarray(full.clipset.song_of_clip)
    assert len(few.keep) == len(np.unique(songs)) < len(full.keep)
    assert set(songs[few.keep]) == set(songs[full.keep])


@pytest.fixture(scope="module")
def encoder_head(_one_thread, tmp_path_factory):
    """A tiny CELCodec4 and a classifier with the ``encoder`` head trained on the tonal set."""
    return _train_tiny(tmp_path_factory.mktemp("clf-encoder"), "CELCodec4", "codec",
                       head="encoder", baselines=())


def test_the_encoder_head_learns_from_the_audio_and_reloads_identically(encoder_head):
    from core.genre.encoder_stats import encoder_stats
    from core.genre.multiscale import multiscale_stats

    root, data, result = encoder_head
    assert result.probe.name == "latent probe (encoder)" and result.probe.accuracy >= 0.8
    lc = load_classifier(root / "codec" / "classifier")
    assert lc.classifier.head_config.kind == "encoder" and lc.classifier.reads_audio
    clips = load_analysis_data(data, CLIP).side("test").clips
    proba = predict_proba(lc.classifier, clips)
    assert proba.shape == (len(clips), 3)
    again = predict_proba(load_classifier(root / "codec" / "classifier").classifier, clips)
    np.testing.assert_allclose(again, proba, atol=1e-6)
    # Its features begin with the multi-scale statistics of the very latent encode() gives.
    codec = lc.classifier.autoencoder
    x = torch.from_numpy(clips[:2].astype(np.float32) / 32768)[:, None]
    with torch.no_grad():
        features = encoder_stats(codec, x)
        latent_part = multiscale_stats(codec.encode(x))
    np.testing.assert_allclose(features[:, :latent_part.shape[1]], latent_part, atol=1e-5)


def test_the_encoder_head_refuses_a_bare_latent_and_a_model_without_stages(encoder_head,
                                                                          trained):
    root, data, _ = encoder_head
    clf = load_classifier(root / "codec" / "classifier").classifier
    clips = load_analysis_data(data, CLIP).side("test").clips[:2]
    z = encode_latents(clf.autoencoder, clips).numpy()
    with pytest.raises(ValueError, match="score the audio"):
        predict_proba_from_latent(clf, z)
    other_root, other_data, _ = trained
    ad = load_analysis_data(other_data, CLIP)
    report_model = load_classifier(other_root / "ae" / "classifier").autoencoder.model
    with pytest.raises(TrainingError, match="CELCodec.*pick another head"):
        train_latent_probe(report_model, ad.side("train"), ad.side("valid"), ad.genres,
                           head="encoder", fit_config=FitConfig(epochs=1))


def test_averaged_heads_are_saved_reloaded_and_answer_their_members_mean(tmp_path):
    from core.cli.main import main as celae

    torch.manual_seed(0)
    save_model(build_model("CELAutoencoderSiLU", clip_samples=CLIP), tmp_path / "ae")
    data = _write_dataset(tmp_path / "data", {g: [f"song{i}" for i in range(5)] for g in TONES})
    out = tmp_path / "ae" / "three"
    code = celae(["classify", "train", str(data), "--model", str(tmp_path / "ae"), "--out",
                  str(out), "--epochs", "6", "--members", "3", "--device", "cpu", "-q"])

    assert code == 0
    stored = json.loads((out / "config.json").read_text())
    assert stored["head"]["members"] == 3
    names = [stored["metrics"]["probe"]["name"]] + [b["name"] for b in
                                                   stored["metrics"]["baselines"]]
    assert "latent probe (stats, 3 averaged)" in names
    assert "MFCC stats + MLP baseline (3 averaged)" in names
    clf = load_classifier(out).classifier
    members = clf.head.members
    assert len(members) == 3
    clips = load_analysis_data(data, CLIP).side("test").clips
    x = torch.from_numpy(clips.astype(np.float32) / 32768)[:, None]
    with torch.no_grad():
        z = clf.autoencoder.encode(x)
        each = [torch.softmax(m(z), 1) for m in members]
    # Fitted from different seeds, the members differ; the classifier answers their mean.
    assert not torch.allclose(each[0], each[1])
    mean = torch.stack(each).mean(0)
    expected = torch.softmax(torch.log(mean) / clf.temperature, 1).numpy()
    np.testing.assert_allclose(predict_proba(clf, clips), expected, atol=1e-5)
    np.testing.assert_allclose(predict_proba_from_latent(clf, z.numpy()), expected, atol=1e-5)
