"""All store work runs on one background thread, one job at a time (Anki's ``taskman``).

The GUI thread never waits on the database: it hands a function to :meth:`TaskManager.run` and
gets the result (or the exception) back on the GUI thread through a queued signal. Jobs run in
the order given, so a save always lands before the history reload that follows it. Job
functions never touch a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

Success = Callable[[Any], None]
Failure = Callable[[BaseException], None]


class TaskManager(QObject):
    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._pending = 0
        self._finished.connect(self._deliver)

    def run(self, job: Callable[[], Any], on_success: Success | None = None,
            on_failure: Failure | None = None) -> None:
        self._pending += 1
        future = self._executor.submit(job)
        future.add_done_callback(
            lambda done: self._finished.emit((done, on_success, on_failure)))

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def _deliver(self, item: tuple[Future[Any], Success | None, Failure | None]) -> None:
        future, on_success, on_failure = item
        self._pending -= 1
        error = future.exception()
        if error is None:
            if on_success is not None:
                on_success(future.result())
        elif on_failure is not None:
            on_failure(error)
        else:
            raise error

    def run_now(self, job: Callable[[], Any]) -> Any:
        """Run a job in turn and wait for it: only for shutting down (the last draft save)."""
        return self._executor.submit(job).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
