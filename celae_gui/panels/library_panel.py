"""The song library: files and folders dropped or opened, each with its decode status.

Bad files stay in the list with a red icon and their reason as tooltip and status text, so a
user sees what failed and why while the rest load. A file that opens but decodes only up to a
point (found once the whole file was decoded in the background) turns amber with how far it
decodes; its first part can still be selected and reconstructed. Below the list, the clip
window: which 5 s of the selected song are reconstructed, or the whole song.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from celae_gui import theme
from celae_gui.state import AppState, ClipWindow, LibraryEntry
from core.constants import CLIP_SECONDS

STATUS_COLOURS = {"pending": "#6b7385", "ok": "#5ce1a6", "error": theme.ERROR,
                  "damaged": theme.WARNING}
STATUS_TEXT_COLOURS = {"pending": theme.MUTED, "error": theme.ERROR, "damaged": theme.WARNING}
PATH_ROLE = Qt.ItemDataRole.UserRole
MAX_OFFSET_S = 1_000_000.0


def paths_from_mime(mime: QMimeData) -> list[Path]:
    """Local files and folders carried by a drop (URLs that are not local files are ignored)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class FileDropTarget:
    """Qt drop handlers for a widget that takes dropped files and folders: it accepts drags that
    carry local paths and hands them to :meth:`paths_dropped`."""

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if paths_from_mime(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = paths_from_mime(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.paths_dropped(paths)

    def paths_dropped(self, paths: list[Path]) -> None:
        raise NotImplementedError


def status_icon(status: str) -> QIcon:
    """A round dot in the colour of ``status``."""
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(STATUS_COLOURS[status]))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(2, 2, 10, 10)
    painter.end()
    return QIcon(pixmap)


def describe(entry: LibraryEntry) -> str:
    """List text of one entry: name and duration, or name and why it failed."""
    if entry.status == "ok" and entry.duration is not None:
        minutes, seconds = divmod(entry.duration, 60)
        return f"{entry.name}   {int(minutes)}:{seconds:04.1f}"
    if entry.status in ("error", "damaged"):
        return f"{entry.name}   ⚠ {entry.reason.removeprefix(entry.name + ': ')}"
    return f"{entry.name}   decoding…"


class LibraryPanel(FileDropTarget, QGroupBox):
    """Song list plus clip-window controls; ``open_requested`` asks for the File > Open dialog."""

    files_dropped = Signal(object)
    open_requested = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__("Library", parent)
        self._state = state
        self._icons = {s: status_icon(s) for s in STATUS_COLOURS}
        self.setAcceptDrops(True)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAlternatingRowColors(False)
        self.list.currentItemChanged.connect(self._on_current_item_changed)
        # Rows as wide as the list: a long name wraps (or, without spaces, is cut in the
        # middle) so its duration or reason stays in view; a horizontal scroll bar hid them.
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.remove_action = QAction("Remove from library", self.list)
        self.remove_action.setShortcuts([QKeySequence.StandardKey.Delete,
                                         QKeySequence(Qt.Key.Key_Backspace)])
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.remove_action.triggered.connect(lambda _c=False: self.remove_selected())
        self.remove_errors_action = QAction("Remove unreadable files", self.list)
        self.remove_errors_action.triggered.connect(lambda _c=False: self.remove_unreadable())
        self.clear_action = QAction("Clear library", self.list)
        self.clear_action.triggered.connect(lambda _c=False: self.clear())
        for action in (self.remove_action, self.remove_errors_action, self.clear_action):
            self.list.addAction(action)
        self.hint = QLabel("Drop songs or folders here\n(MP3, WAV, FLAC, OGG)\nor File ▸ Open")
        self.hint.setObjectName("muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        open_button = QPushButton("Open…")
        open_button.setToolTip("Open songs (Ctrl+O)")
        open_button.clicked.connect(lambda _c=False: self.open_requested.emit())
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove every song from the library (the files stay); "
                                     "Delete removes the selected one")
        self.clear_button.clicked.connect(lambda _c=False: self.clear())
        self.offset = QDoubleSpinBox()
        self.offset.setSuffix(" s")
        self.offset.setDecimals(1)
        self.offset.setSingleStep(CLIP_SECONDS)
        self.offset.setToolTip(f"Start of the {CLIP_SECONDS} s window that is reconstructed")
        # Any number can be typed; an offset past the song's end is clamped when applied (a
        # maximum here would make the field drop the digits that do not fit instead).
        self.offset.setRange(0.0, MAX_OFFSET_S)
        self.offset.editingFinished.connect(self._on_window_edited)
        self.whole_song = QCheckBox("Whole song (chunked)")
        self.whole_song.toggled.connect(self._on_window_edited)
        window_row = QHBoxLayout()
        window_row.addWidget(QLabel("Window from"))
        window_row.addWidget(self.offset, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        layout.addLayout(window_row)
        layout.addWidget(self.whole_song)
        buttons = QHBoxLayout()
        buttons.addWidget(open_button, 1)
        buttons.addWidget(self.clear_button)
        layout.addLayout(buttons)
        state.library_changed.connect(self._on_library_changed)
        state.current_song_changed.connect(self._on_current_song_changed)
        state.window_changed.connect(self._on_window_changed)
        self._on_library_changed()

    def item_for(self, path: Path) -> QListWidgetItem | None:
        """The list item of ``path``."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(PATH_ROLE) == str(path):
                return item
        return None

    # --- removing (the files themselves are never touched) ------------------------------------
    def remove_selected(self) -> None:
        """Delete key / context menu: drop the selected song from the library."""
        item = self.list.currentItem()
        if item is not None:
            self._state.remove_entries([Path(item.data(PATH_ROLE))])

    def remove_unreadable(self) -> None:
        """Drop every entry that failed to decode."""
        self._state.remove_entries([e.path for e in self._state.library if e.status == "error"])

    def clear(self) -> None:
        """Empty the library."""
        self._state.remove_entries([e.path for e in self._state.library])

    def paths_dropped(self, paths: list[Path]) -> None:
        """Files dropped on the panel (the main window takes drops the same way)."""
        self.files_dropped.emit(paths)

    def _on_library_changed(self) -> None:
        current = self._state.current_path
        self.list.blockSignals(True)
        self.list.clear()
        for entry in self._state.library:
            item = QListWidgetItem(self._icons[entry.status], describe(entry))
            item.setData(PATH_ROLE, str(entry.path))
            item.setToolTip(entry.reason or str(entry.path))
            if entry.status in STATUS_TEXT_COLOURS:
                item.setForeground(QColor(STATUS_TEXT_COLOURS[entry.status]))
            self.list.addItem(item)
            if entry.path == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self.hint.setVisible(not self._state.library)
        self.clear_button.setEnabled(bool(self._state.library))
        self._update_offset_range()

    def _on_current_item_changed(self, item: QListWidgetItem | None, _previous) -> None:
        if item is None:
            return
        path = Path(item.data(PATH_ROLE))
        entry = self._state.entry(path)
        if entry is not None and entry.status == "error":
            self._state.error(entry.reason)
            return
        if entry is not None and entry.status == "damaged":
            self._state.error(entry.reason)
        self._state.set_current_song(path)

    def _on_current_song_changed(self, path) -> None:
        item = None if path is None else self.item_for(path)
        if item is not None and self.list.currentItem() is not item:
            self.list.blockSignals(True)
            self.list.setCurrentItem(item)
            self.list.blockSignals(False)
        self._update_offset_range(force=True)

    def _duration(self) -> float | None:
        entry = self._state.entry(self._state.current_path)
        return entry.duration if entry is not None and entry.duration else None

    def last_offset(self) -> float:
        """The latest start a window of the current song can have (its end minus one clip)."""
        duration = self._duration()
        return MAX_OFFSET_S if duration is None else max(0.0, duration - CLIP_SECONDS)

    def _update_offset_range(self, force: bool = False) -> None:
        duration = self._duration() or 0.0
        self.offset.setEnabled(duration > CLIP_SECONDS and not self.whole_song.isChecked())
        # A library update while the user types must not overwrite what they type.
        if force or not self.offset.hasFocus():
            self._show_window(self._state.window)

    def _on_window_edited(self, *_args) -> None:
        offset = min(max(0.0, float(self.offset.value())), self.last_offset())
        self._state.set_window(ClipWindow(offset=offset, whole_song=self.whole_song.isChecked()))
        self._update_offset_range(force=True)

    def _show_window(self, window: ClipWindow) -> None:
        """The field and the check box say what the state's window is (never a stale value)."""
        if abs(self.offset.value() - window.offset) > 1e-9:
            self.offset.blockSignals(True)
            self.offset.setValue(window.offset)
            self.offset.blockSignals(False)
        if self.whole_song.isChecked() != window.whole_song:
            self.whole_song.blockSignals(True)
            self.whole_song.setChecked(window.whole_song)
            self.whole_song.blockSignals(False)

    def _on_window_changed(self, _window: ClipWindow) -> None:
        self._update_offset_range(force=True)
