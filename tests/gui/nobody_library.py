"""Run by test_reliability.py as an unprivileged user: drop paths on the library panel and print
what it lists.

Usage: python nobody_library.py PATH... Prints one JSON object: for each path, the library
item's text, tooltip and status, then the messages the app showed and what
``core.audio.io.load_audio`` says of each (the words of the command line).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from celae_gui.controller import Controller
from celae_gui.panels.library_panel import LibraryPanel
from celae_gui.state import AppState
from core.audio.io import load_audio
from core.errors import CelaeError

TIMEOUT_MS = 30_000


def drop(widget, paths: list[Path]) -> None:
    """A drag-enter and a drop of ``paths``, as Qt delivers a real drag and drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, QDragEnterEvent(*args))
    QApplication.sendEvent(widget, QDropEvent(*args))


def main() -> int:
    paths = [Path(p) for p in sys.argv[1:]]
    app = QApplication(sys.argv[:1])
    state = AppState()
    controller = Controller(state)
    controller.auto_select = False
    panel = LibraryPanel(state)
    panel.files_dropped.connect(controller.open_paths)
    panel.show()
    messages: list[str] = []
    state.message.connect(lambda level, text: messages.append(f"{level}: {text}"))
    drop(panel, paths)

    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(20)

    def check() -> None:
        if all((e := state.entry(p)) is not None and e.status != "pending" for p in paths):
            loop.quit()

    poll.timeout.connect(check)
    poll.start()
    QTimer.singleShot(TIMEOUT_MS, loop.quit)
    loop.exec()
    poll.stop()
    # The whole-file pass of the good files is left to the shutdown's cancel.
    report: dict = {"items": {}, "messages": messages, "load_audio": {}}
    for path in paths:
        item = panel.item_for(path)
        entry = state.entry(path)
        report["items"][path.name] = {
            "text": item.text() if item else None, "tooltip": item.toolTip() if item else None,
            "status": entry.status if entry else None}
        if path.suffix:  # the folders given have none
            try:
                load_audio(path)
                report["load_audio"][path.name] = "ok"
            except CelaeError as err:
                report["load_audio"][path.name] = str(err)
    controller.shutdown()
    print(json.dumps(report))
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
