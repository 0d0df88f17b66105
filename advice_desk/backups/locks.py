"""One copy of the app backs up at a time: :func:`backup_lock` takes an advisory lock on
``backups/.lock`` (``flock`` on Unix, ``msvcrt.locking`` on Windows), released by the system
when the process ends, even by a crash. (A restore never swaps the store from under a process
that has it open: that is the store's claim, :mod:`advice_desk.store.claim`.)
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from advice_desk.store.claim import try_exclusive, unlock

BACKUP_LOCK_FILE = ".lock"


class Busy(Exception):
    """Another process holds the lock."""


@contextlib.contextmanager
def backup_lock(folder: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the backup folder's lock for the block; :class:`Busy` when another process holds
    it for longer than ``wait_s`` seconds."""
    fd = os.open(folder / BACKUP_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while not try_exclusive(fd):
            if time.monotonic() >= deadline:
                raise Busy("another copy of Advice Desk is making or restoring a backup")
            time.sleep(0.2)
        try:
            yield
        finally:
            unlock(fd)
    finally:
        os.close(fd)
