"""Run by test_training.py in a subprocess: start training, then close the main window.

Usage: python close_while_training.py DATASET MODEL_DIR. The quit question is answered by the
``training/quit_answer`` setting, as a test must not block on a dialog.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from celae_gui import settings
from celae_gui.dialogs.training_dialog import QUIT_ANSWER_KEY
from celae_gui.main_window import MainWindow


def main() -> int:
    dataset, model = Path(sys.argv[1]), sys.argv[2]
    app = QApplication(sys.argv[:1])
    settings.write_value(QUIT_ANSWER_KEY, "cancel")
    window = MainWindow()
    window.show()
    window.start([], model)
    dialog = window.training_dialog
    dialog.dataset.setText(str(dataset))
    dialog.epochs.setValue(100)
    dialog.batch_size.setValue(2)
    dialog.device.setCurrentText("cpu")
    dialog.model_name.setText("closing-test")
    window.show_training()
    closed = []

    def close_once(*_args) -> None:
        if not closed:
            closed.append(True)
            print("closing while training", flush=True)
            window.close()

    # Close as soon as the training worker reports progress, i.e. mid-run.
    dialog.progressed.connect(close_once)
    dialog.start()
    status = app.exec()
    print(f"exited event loop, training running={dialog.is_running()}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
