"""Files of the store readable by their owner alone: folders 0700, files 0600.

Every account on the PC could read a 0644 store. New files are made private as they are created
(``os.open`` with mode 0600 and ``O_EXCL``; SQLite gives its ``-wal`` and ``-shm`` files the mode of
the database file), and the files of a store made before that are tightened when it opens.
Windows keeps its own access lists per user folder: nothing is done there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
APPLIES = os.name == "posix"


def private_folder(folder: Path) -> None:
    """``folder`` and any missing parents; the folder itself (not its parents) mode 0700."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if APPLIES and _loose(folder.stat().st_mode) and not _shared(folder):
        folder.chmod(PRIVATE_DIR)


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600, atomically; False when it already exists."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def _loose(mode: int) -> bool:
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def _shared(folder: Path) -> bool:
    """A folder with the sticky bit (such as /tmp) belongs to everyone: never narrowed."""
    return bool(folder.stat().st_mode & stat.S_ISVTX)


def is_loose(path: Path) -> bool:
    """Whether other accounts have any access to ``path`` (False on Windows)."""
    return APPLIES and _loose(path.stat().st_mode)


def tighten(paths: list[Path]) -> list[Path]:
    """Take group and other access away from those of ``paths`` that exist and have it (the
    owner's own bits are kept, so a read-only file stays read-only); the paths changed.
    A file of another owner, which this account may not change, is left as it is."""
    if not APPLIES:
        return []
    changed = []
    for path in paths:
        try:
            mode = path.stat().st_mode
            if not _loose(mode) or (stat.S_ISDIR(mode) and _shared(path)):
                continue
            path.chmod(stat.S_IMODE(mode) & stat.S_IRWXU)
        except OSError:
            continue
        changed.append(path)
    return changed
