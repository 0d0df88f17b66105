"""Writing files the user asked for, safely.

A file is written under a temporary name in the same folder and renamed into place only when
complete, so a failure (disk full, no permission, a cancel) never leaves half a file. Text cells
that a spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Prefix ``'`` to a cell that would begin a formula once leading spaces are ignored."""
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; it becomes ``path`` only if the block succeeds."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                         dir=path.parent)
    encoding = None if "b" in mode else "utf-8"
    newline = None if "b" in mode else ""
    try:
        with os.fdopen(handle, mode, encoding=encoding, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_atomically(path: Path, write: Callable[[IO], None], mode: str = "w") -> None:
    with atomic_file(path, mode) as f:
        write(f)
