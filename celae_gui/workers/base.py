"""The worker base class and the standard QThread wiring every worker uses.

A worker is a ``QObject`` with ``progress``, ``result``, ``failed`` and ``finished`` signals. It
is moved to a ``QThread`` (``started -> run``, ``finished -> quit``, ``finished -> deleteLater``
on worker and thread) and cancelled through a ``threading.Event`` that the core loops read as
``should_stop``. Signals reach GUI objects through queued connections, so slots run on the GUI
thread and nothing in a worker touches a widget.
"""

from __future__ import annotations

import logging
import threading
import traceback

import shiboken6
from PySide6.QtCore import QObject, Qt, QThread, Signal

from core.errors import CelaeError
from core.progress import Cancelled, Throttle

log = logging.getLogger(__name__)


class BaseWorker(QObject):
    """Run :meth:`work` once in a worker thread and report through signals.

    Subclasses implement ``work()`` returning the result object; raising
    :class:`core.errors.CelaeError` reports its message through ``failed``; raising
    :class:`core.progress.Cancelled` (or returning after ``should_stop``) emits ``cancelled``.
    """

    progress = Signal(float, str)
    result = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, progress_rate: float = 5.0):
        super().__init__()
        self.stop_event = threading.Event()
        self._throttle = Throttle(self.progress.emit, rate=progress_rate)

    def should_stop(self) -> bool:
        """True once :meth:`cancel` was called (thread-safe; core loops poll it)."""
        return self.stop_event.is_set()

    def on_progress(self, fraction: float, message: str) -> None:
        """Throttled progress report, safe to pass to core loops."""
        self._throttle(fraction, message)

    def cancel(self) -> None:
        """Ask the work to stop at its next check (from any thread)."""
        self.stop_event.set()

    def work(self):
        raise NotImplementedError

    def run(self) -> None:
        """Entry point connected to ``QThread.started``."""
        try:
            value = self.work()
        except Cancelled:
            self.cancelled.emit()
        except CelaeError as err:
            self.failed.emit(str(err))
        except Exception as err:  # a bug must reach the status bar, not kill the thread silently
            log.error("worker %s crashed:\n%s", type(self).__name__, traceback.format_exc())
            self.failed.emit(f"{type(err).__name__}: {err}")
        else:
            if self.should_stop():
                self.cancelled.emit()
            else:
                self.result.emit(value)
        finally:
            self.finished.emit()


def start_worker(worker: BaseWorker, name: str = "") -> QThread:
    """Move ``worker`` to a new QThread with the standard wiring and start it.

    The caller keeps the returned thread (e.g. in a :class:`TaskSlot`) to cancel and join it.
    """
    thread = QThread()
    thread.setObjectName(name or type(worker).__name__)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Direct, so the thread quits even while the GUI thread is blocked in wait() at shutdown.
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    worker.finished.connect(worker.deleteLater)
    thread.finished.connect(thread.deleteLater)
    thread.start()
    return thread


def join_thread(thread: QThread | None, timeout_ms: int = 10_000) -> bool:
    """Quit and wait for ``thread`` if it still exists; True when it is no longer running."""
    if thread is None or not shiboken6.isValid(thread):
        return True
    thread.quit()
    return thread.wait(timeout_ms)


class TaskSlot(QObject):
    """At most one live task of a kind: starting a new one cancels the stale one.

    Stale tasks are cancelled, not waited for; their results are dropped because their signals
    are disconnected. Every thread ever started is remembered until it finished, so
    :meth:`shutdown` can join them all.
    """

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._name = name
        self._current: BaseWorker | None = None
        self._live: list[tuple[BaseWorker, QThread]] = []
        self._closed = False

    def start(self, worker: BaseWorker) -> BaseWorker:
        """Cancel the current task, then run ``worker`` (connect its signals first). After a
        final :meth:`shutdown` the worker is not run at all."""
        self.cancel()
        if self._closed:
            worker.cancel()
            return worker
        self._current = worker
        thread = start_worker(worker, self._name)
        pair = (worker, thread)
        self._live.append(pair)
        thread.finished.connect(self._prune)
        return worker

    def is_current(self, worker: object) -> bool:
        """True when ``worker`` is the latest task (results of older ones are stale)."""
        return worker is self._current

    def busy(self) -> bool:
        """True while the latest task has not finished."""
        return any(w is self._current for w, _ in self._live)

    def cancel(self) -> None:
        """Cancel the current task, if any (it finishes on its own, soon)."""
        if self._current is not None and shiboken6.isValid(self._current):
            self._current.cancel()
        self._current = None

    def shutdown(self, timeout_ms: int = 30_000, *, final: bool = True) -> bool:
        """Cancel every task and join every thread; True when all stopped in time.

        ``final`` (the window is closing) also refuses every later :meth:`start`: a result
        still queued at the close (a reconstruction's latents, say) must not start a thread
        that outlives the window, which Qt answers with "QThread: Destroyed while thread is
        still running" and an abort. A dialog that can run again passes ``final=False``.
        """
        self._closed = self._closed or final
        ok = True
        for worker, thread in list(self._live):
            if shiboken6.isValid(worker):
                worker.cancel()
            ok = join_thread(thread, timeout_ms) and ok
        self._live.clear()
        self._current = None
        return ok

    def _prune(self) -> None:
        # Not isFinished(): it is already true while the thread is still inside QThread's own
        # finish (emitting ``finished``), and dropping the last reference then deletes the
        # QThread under its native thread (a segfault seen once in the suite). wait(0) is true
        # only once that thread is done.
        self._live = [(w, t) for w, t in self._live
                      if shiboken6.isValid(t) and not t.wait(0)]


class LatestOnlyService(QObject):
    """A long-lived worker on its own thread whose results count only for the newest request.

    Each request gets a generation number; the worker's ``genres(generation, proba)`` and
    ``failed(generation, message)`` reach ``genres_ready`` and ``failed`` only while that
    generation is still the newest (not overtaken, not :meth:`invalidate`-d). Subclasses call
    :meth:`_start` with their worker and re-emit their own results through :meth:`_current`.
    """

    genres_ready = Signal(object)
    """Genre probabilities ``[n_genres]`` of the edited latent, just before the result."""
    failed = Signal(str)

    def _start(self, worker: QObject, name: str) -> None:
        self._generation = 0
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._worker = worker
        worker.moveToThread(self._thread)
        worker.genres.connect(self._on_genres)
        worker.failed.connect(self._on_failed)
        self._thread.start()

    def _next_generation(self) -> int:
        self._generation += 1
        return self._generation

    def _current(self, generation: int) -> bool:
        return generation == self._generation

    def invalidate(self) -> None:
        """Drop the results of every request made so far (the song or model changed)."""
        self._generation += 1

    def _on_genres(self, generation: int, proba) -> None:
        if self._current(generation):
            self.genres_ready.emit(proba)

    def _on_failed(self, generation: int, message: str) -> None:
        if self._current(generation):
            self.failed.emit(message)

    def _join(self, timeout_ms: int) -> bool:
        if not self._thread.isRunning():
            return True
        self._thread.quit()
        return self._thread.wait(timeout_ms)
