"""All store work runs on one background thread, one job at a time (Anki's ``taskman``).

The GUI thread never waits on the database: it hands a function to :meth:`TaskManager.run` and
gets back an :class:`Op`, on which it says what to do with the result (``.success``) and, when
the window words failures its own way, with the exception (``.failure``); both are called on
the GUI thread through a queued signal. An op without ``.failure`` uses the one default display
of :mod:`advice_desk.gui.errors`. Jobs run in the order given, so a save always lands before
the history reload that follows it. Job functions never touch a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from advice_desk.gui import errors
from advice_desk.people.permissions import AccountDisabled
from advice_desk.store.failures import unreachable

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

T = TypeVar("T")
Failure = Callable[[BaseException], None]


class Op(Generic[T]):
    """One job handed to the store thread, and what to do on the GUI thread when it ends.

    ``run(job).success(show).failure(explain)`` reads as one line: the handlers are set before
    the event loop can deliver the outcome, however fast the job is.
    """

    def __init__(self, default_failure: Failure) -> None:
        self._on_success: Callable[[T], None] | None = None
        self._on_failure = default_failure

    def success(self, on_success: Callable[[T], None]) -> Op[T]:
        self._on_success = on_success
        return self

    def failure(self, on_failure: Failure) -> Op[T]:
        """Word the failure for this window instead of the default display."""
        self._on_failure = on_failure
        return self

    def finish(self, done: Future[T]) -> None:
        error = done.exception()
        if error is not None:
            self._on_failure(error)
        elif self._on_success is not None:
            self._on_success(done.result())


class TaskManager(QObject):
    """The store thread. Failures without a handler of their own are shown over ``parent``.
    A job refused because the signed-in account was disabled emits ``locked_out`` (the
    window locks itself; the lock screen says why, so the default display says nothing).
    A job that found the database server unreachable emits ``server_lost``; once the window
    ``keeps_work_offline`` (its status bar says so), the default display says nothing of it."""

    _finished = Signal(object)
    locked_out = Signal()
    server_lost = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._window = parent
        self._thread: ThreadPoolExecutor | None = None  # made by the first job
        self._closed = False
        self._pending = 0
        self.keeps_work_offline = False
        # Queued even when a job is already done as it is handed over: the op's handlers are
        # set by the caller's next call, so the outcome must wait for the event loop.
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run(self, job: Callable[[], T]) -> Op[T]:
        op: Op[T] = Op(self._show_failure)
        self._pending += 1
        future = self._executor.submit(job)
        future.add_done_callback(lambda done: self._finished.emit((op, done)))
        return op

    @property
    def _executor(self) -> ThreadPoolExecutor:
        """The store thread, started by the first job: the first one comes after the window's
        first paint, and ``concurrent.futures`` (with ``logging``, ~10 ms) waits till then."""
        if self._closed:
            raise RuntimeError("the store thread was shut down: no job can run any more")
        if self._thread is None:
            from concurrent.futures import ThreadPoolExecutor

            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        return self._thread

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def _deliver(self, item: tuple[Op[object], Future[object]]) -> None:
        op, done = item
        self._pending -= 1
        op.finish(done)
        error = done.exception()
        if isinstance(error, AccountDisabled):
            self.locked_out.emit()
        elif error is not None and unreachable(error):
            self.server_lost.emit()

    def _show_failure(self, error: BaseException) -> None:
        if isinstance(error, AccountDisabled):
            return
        if not (self.keeps_work_offline and unreachable(error)):
            errors.show_failure(self._window, error)

    def run_now(self, job: Callable[[], T]) -> T:
        """Run a job in turn and wait for it: only for shutting down (the last draft save)."""
        return self._executor.submit(job).result()

    def shutdown(self) -> None:
        self._closed = True
        if self._thread is not None:
            self._thread.shutdown(wait=True)
