"""Two locks, without Qt: one copy of the app backs up at a time, and a restore never swaps the
store from under another copy of the app.

- :func:`backup_lock` takes an advisory lock on ``backups/.lock`` (``flock`` on Unix,
  ``msvcrt.locking`` on Windows): released by the system when the process ends, even by a crash.
- :func:`app_holds_store` asks whether the GUI's claim on the store is held by another process.
  The GUI claims its store with a ``QLockFile`` on ``advice-desk.lock`` in the data folder
  (:mod:`advice_desk.gui.single_instance`); Qt holds a ``flock`` on that file while it is locked
  (Unix) and keeps it open without write sharing (Windows), so trying the same lock here says
  whether a live process has it, and the PID in the file says whether that process is this one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

APP_LOCK_FILE = "advice-desk.lock"  # gui.single_instance.LOCK_FILE: the GUI's claim on a store
BACKUP_LOCK_FILE = ".lock"


class Busy(Exception):
    """Another process holds the lock."""


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def backup_lock(folder: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the backup folder's lock for the block; :class:`Busy` when another process holds
    it for longer than ``wait_s`` seconds."""
    fd = os.open(folder / BACKUP_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise Busy("another copy of Advice Desk is making or restoring a backup")
            time.sleep(0.2)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def app_holds_store(data_dir: Path) -> bool:
    """Whether another process (a running Advice Desk window) holds its claim on the store of
    ``data_dir``. This process's own claim does not count: the GUI restores into itself."""
    path = data_dir / APP_LOCK_FILE
    try:
        owner = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0].strip()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # Windows: the file is held open by its owner
    if owner == str(os.getpid()):
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        if _try_lock(fd):
            _unlock(fd)
            return False  # a lock file left by a process that has gone
        return True
    finally:
        os.close(fd)
