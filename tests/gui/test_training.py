"""The training dialog on a tiny real dataset: one epoch, progress, the model in the selector;
cancel and resume; closing the app mid-run exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gui.conftest import write_song

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory) -> Path:
    """Five 5.5 s songs in two genre folders (one clip each)."""
    root = tmp_path_factory.mktemp("dataset")
    for i in range(5):
        genre = ("blues", "jazz")[i % 2]
        write_song(root / genre / f"{genre}.{i:05d}.wav", 5.5, 200.0 + 60 * i, seed=i)
    return root


def configure(dialog, dataset: Path, name: str, epochs: int) -> None:
    dialog.generate_demo.setChecked(False)
    dialog.dataset.setText(str(dataset))
    dialog.arch.setCurrentText("CELAutoencoderSiLU")
    dialog.epochs.setValue(epochs)
    dialog.batch_size.setValue(2)
    dialog.device.setCurrentText("cpu")
    dialog.model_name.setText(name)


def test_one_epoch_shows_progress_and_the_model_appears_in_the_selector(
        qtbot, window, tiny_dataset):
    dialog = window.training_dialog
    window.show_training()
    configure(dialog, tiny_dataset, "gui-one-epoch", epochs=1)
    with qtbot.waitSignal(dialog.model_trained, timeout=120_000) as blocker:
        dialog.start()
        assert dialog.is_running() and not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=30_000)
    folder = blocker.args[0]
    assert folder.name == "gui-one-epoch" and (folder / "model.safetensors").is_file()
    assert dialog.progress.value() == 1000
    assert dialog.table.rowCount() == 1
    assert len(dialog.train_curve.yData) == 1
    assert "Done" in dialog.message.text()
    assert folder in window.model_selector.model_paths()
    dialog.close()


def test_cancel_stops_the_run_and_resume_finishes_it(qtbot, window, tiny_dataset):
    dialog = window.training_dialog
    window.show_training()
    configure(dialog, tiny_dataset, "gui-cancel", epochs=2)
    with qtbot.waitSignal(dialog.running_changed, timeout=120_000,
                          check_params_cb=lambda running: not running):
        # Cancel once the first epoch is in the table (its checkpoint is written).
        with qtbot.waitSignal(dialog.table.model().rowsInserted, timeout=120_000):
            dialog.start()
        dialog.cancel()
    assert dialog.cancelled_run, dialog.message.text()
    assert "Cancelled" in dialog.message.text()
    assert dialog.resume_button.isEnabled()
    assert dialog.table.rowCount() == 1
    with qtbot.waitSignal(dialog.model_trained, timeout=120_000):
        dialog.resume()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=30_000)
    assert dialog.table.rowCount() == 2
    assert dialog.last_result.epochs_run == 2
    dialog.close()


def test_closing_the_app_while_training_cancels_joins_and_exits_0(
        tiny_dataset, gui_resources, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO),
               CELAE_USER_MODELS_DIR=str(tmp_path / "models"),
               CELAE_SETTINGS_ORG="celae-tests-close")
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("close_while_training.py")),
         str(tiny_dataset), str(gui_resources / "models" / "tiny-silu")],
        env=env, capture_output=True, text=True, timeout=180, cwd=REPO)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "closing while training" in proc.stdout
    assert "training running=False" in proc.stdout
    assert "QThread: Destroyed" not in output


def test_the_form_shows_the_fields_of_each_architecture(window):
    import dataclasses

    from core.models import architectures
    from core.models.registry import make_config

    dialog = window.training_dialog
    window.show_training()
    names = [dialog.arch.itemText(i) for i in range(dialog.arch.count())]
    assert set(architectures()) <= set(names)
    assert any(n.startswith("CELCodec") for n in names)
    for name in architectures():
        dialog.arch.setCurrentText(name)
        config = make_config(name)
        expected = [f.name for f in dataclasses.fields(config)
                    if f.name not in ("clip_samples", "sample_rate")]
        assert list(dialog.arch_form.fields) == expected, name
        # Shown at the preset's values, so an untouched form trains the preset itself.
        assert dialog.build_config().model == {}, name
    dialog.arch.setCurrentText("CELCodec4")
    assert "latent_ratio" not in dialog.arch_form.fields
    assert dialog.arch_form.fields["strides"].text() == "4, 8"
    dialog.arch.setCurrentText("CELAutoencoder2")
    assert dialog.arch_form.fields["latent_ratio"].value() == 4.0
    assert "strides" not in dialog.arch_form.fields
    dialog.close()


def test_start_trains_a_celcodec_with_a_changed_field_and_a_time_budget(
        qtbot, window, tiny_dataset):
    import json

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    dialog = window.training_dialog
    window.show_training()
    configure(dialog, tiny_dataset, "gui-codec", epochs=1)
    dialog.arch.setCurrentText("CELCodec4")
    latent = dialog.arch_form.fields["latent_channels"]
    latent.lineEdit().selectAll()
    QTest.keyClicks(latent.lineEdit(), "4")
    dialog.max_minutes.lineEdit().selectAll()
    QTest.keyClicks(dialog.max_minutes.lineEdit(), "30")
    QTest.mouseClick(dialog.average_weights, Qt.MouseButton.LeftButton)
    assert dialog.average_weights.isChecked()
    fractions: list[tuple[float, str]] = []
    dialog.progressed.connect(lambda f, m: fractions.append((f, m)))
    with qtbot.waitSignal(dialog.model_trained, timeout=240_000) as blocker:
        QTest.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert dialog.is_running()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=30_000)
    assert not dialog.last_error, dialog.last_error
    folder = blocker.args[0]
    config = json.loads((folder / "config.json").read_text())
    assert config["arch"] == "CELCodec4"
    assert config["config"]["latent_channels"] == 4
    # The box asked for the weight average: the run validated and saved it.
    assert config["summary"]["training"]["ema"] == pytest.approx(0.999)
    assert dialog.last_result.epochs_run == 1
    # The bar never sits full while the songs are decoded: decoding fills its first tenth.
    preparing = [f for f, m in fractions if m.startswith("Preparing the data")]
    assert preparing and max(preparing) <= 0.1
    assert fractions[-1][0] == pytest.approx(1.0)
    # Every column of the epoch table is in view.
    table = dialog.table
    header = table.horizontalHeader()
    assert header.sectionViewportPosition(table.columnCount() - 1) \
        + header.sectionSize(table.columnCount() - 1) <= table.viewport().width()
    dialog.close()


def test_stop_after_fills_the_time_budget(window):
    dialog = window.training_dialog
    dialog.max_minutes.setValue(0)
    assert dialog.build_config().max_minutes is None
    dialog.max_minutes.setValue(2.5)
    assert dialog.build_config().max_minutes == 2.5
    dialog.max_minutes.setValue(0)
