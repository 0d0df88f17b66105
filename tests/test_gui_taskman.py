"""The store thread: started by the first job, refusing jobs once shut down."""

from __future__ import annotations

import threading

import pytest

from advice_desk.gui.taskman import TaskManager


def _store_threads() -> set[int | None]:
    return {t.ident for t in threading.enumerate() if t.name.startswith("store")}


def test_the_store_thread_starts_with_the_first_job_and_refuses_jobs_after_shutdown(qtbot):
    before = _store_threads()
    tasks = TaskManager()
    assert not _store_threads() - before  # nothing runs before the first paint
    results: list[int] = []
    tasks.run(lambda: 41 + 1).success(results.append)
    qtbot.waitUntil(lambda: results == [42])
    assert len(_store_threads() - before) == 1
    tasks.shutdown()
    with pytest.raises(RuntimeError):
        tasks.run(lambda: 1)


def test_a_store_thread_shut_down_before_any_job_refuses_a_later_one(qtbot):
    tasks = TaskManager()
    tasks.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        tasks.run(lambda: 1)
