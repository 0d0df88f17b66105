"""The claim every process holds on a SQLite store while it has it open, so a restore never
swaps the file from under anyone.

Opening a store takes a shared lock on ``advice-desk.sqlite3.claim`` beside the store's file
(``flock(LOCK_SH)`` on Unix), released when the store closes, or by the system when the process
ends, even by a crash. A restore takes the same lock exclusively, without waiting: while the
app's window, an import, a demo or any other command has the store open, it cannot, and says
which process holds it (read from ``/proc/locks`` on Linux). An opening that finds a restore in
progress waits for it (:data:`RESTORE_WAIT_S` at most), then opens the restored store.

On Windows (written, not tested there) ``msvcrt.locking`` has no shared lock: an opening
locks one byte of its own above byte 0 (after checking byte 0, the restore's, is free), and a
restore locks the whole range, which fails while any byte is held.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from advice_desk.store.errors import StoreError

SUFFIX = ".claim"
RESTORE_WAIT_S = 120.0  # how long an opening waits for a restore in progress
_SLOTS = 4096  # Windows: the bytes that openings lock one each
_COMMAND = re.compile(r"^[a-z][a-z-]{0,30}$")
_VALUED = {"--data-dir", "--database-url"}


class StoreInUse(StoreError):
    """Another process has the store open: it cannot be replaced now."""


def claim_file(store_file: Path) -> Path:
    return store_file.with_name(store_file.name + SUFFIX)


def _open(path: Path) -> int | None:
    """The claim file opened (made 0600 if missing); None where it can be neither made nor
    opened (a read-only folder: this account cannot restore there either)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        with contextlib.suppress(OSError):
            return os.open(path, os.O_RDONLY)
    return None


class StoreClaim:
    """One open store's shared claim; :meth:`release` when it closes."""

    def __init__(self, fd: int | None, slot: int | None = None) -> None:
        self._fd, self._slot = fd, slot

    @classmethod
    def take(cls, store_file: Path, wait_s: float = RESTORE_WAIT_S) -> StoreClaim:
        fd = _open(claim_file(store_file))
        if fd is None:
            return cls(None)
        deadline = time.monotonic() + wait_s
        while (slot := _try_shared(fd)) is None:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise StoreError(f"the store {store_file} is being restored from a backup and "
                                 "it takes long; try again in a few minutes")
            time.sleep(0.1)
        return cls(fd, slot)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                unlock(fd, self._slot)
            os.close(fd)

    def __del__(self) -> None:
        self.release()


@contextlib.contextmanager
def exclusive(store_file: Path) -> Iterator[None]:
    """Hold the store for a restore: nobody has it open during the block.
    :class:`StoreInUse`, naming who has it, when somebody does."""
    path = claim_file(store_file)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not try_exclusive(fd):
            raise StoreInUse(f"the store is open in {_holders_text(path)}: close it, or wait "
                             "for it to end, then restore again")
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                unlock(fd, None)
    finally:
        os.close(fd)


# --- the locks, by system -------------------------------------------------------------------


def _try_shared(fd: int) -> int | None:
    """The claim taken (0 on Unix, the byte locked on Windows), or None: a restore has it."""
    if sys.platform == "win32":
        import msvcrt

        try:  # byte 0 free: no restore is under way
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return None
        try:
            for slot in range(1 + os.getpid() % (_SLOTS - 1), _SLOTS):
                with contextlib.suppress(OSError):
                    os.lseek(fd, slot, os.SEEK_SET)
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                    return slot
            return None
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return None
    return 0


def try_exclusive(fd: int) -> bool:
    """An exclusive lock on the whole file, without waiting (also the backup folder's lock)."""
    if sys.platform == "win32":
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, _SLOTS)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def unlock(fd: int, slot: int | None = None) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, slot or 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1 if slot else _SLOTS)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


# --- who holds it -----------------------------------------------------------------------------


def holders(store_file: Path) -> list[int]:
    """The processes holding the claim on the store (Linux, from ``/proc/locks``; [] elsewhere
    or when it cannot be told)."""
    return _pids_locking(claim_file(store_file))


def _pids_locking(path: Path) -> list[int]:
    try:
        found = os.stat(path)
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            lines = locks.read().splitlines()
    except OSError:
        return []
    wanted = f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}:{found.st_ino}"
    pids: list[int] = []
    for line in lines:
        fields = line.split()
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue
        if fields[5] == wanted and fields[4].isdigit() and int(fields[4]) not in pids:
            pids.append(int(fields[4]))
    return pids


def describe_process(pid: int) -> str:
    """``advice-desk import (process 1234)``, ``the Advice Desk window (process 1234)``, or
    ``process 1234``: the command's name only, never its arguments (a file name may say whose
    calls it holds)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            words = [w.decode(errors="replace") for w in file.read().split(b"\0") if w]
    except OSError:
        return f"process {pid}"
    for at, word in enumerate(words):
        if word == "advice_desk" or Path(word).name in {"advice-desk", "advice-desk.exe"}:
            return f"{_command_of(words[at + 1:])} (process {pid})"
    return f"another program (process {pid})"


def _command_of(words: list[str]) -> str:
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _VALUED:
            skip = True
        elif not word.startswith("-"):
            return f"advice-desk {word}" if _COMMAND.match(word) else "an advice-desk command"
    return "the Advice Desk window"


def _holders_text(path: Path) -> str:
    pids = [pid for pid in _pids_locking(path) if pid != os.getpid()]
    if not pids and _pids_locking(path):
        return "this process"
    if not pids:
        return "another process (the Advice Desk window or a command)"
    shown = [describe_process(pid) for pid in pids[:3]]
    return ", ".join(shown) + (f" and {len(pids) - 3} more" if len(pids) > 3 else "")
