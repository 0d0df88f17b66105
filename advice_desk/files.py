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
def atomic_files(*paths: Path, mode: str = "w") -> Iterator[list[IO]]:
    """Open a temporary file beside each path; they become the paths together, only if the
    block succeeds. Should a rename fail, the files already renamed are removed again."""
    encoding = None if "b" in mode else "utf-8"
    newline = None if "b" in mode else ""
    temporaries: list[str] = []
    handles: list[IO] = []
    try:
        for path in map(Path, paths):
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                                 dir=path.parent)
            temporaries.append(temporary)
            handles.append(os.fdopen(handle, mode, encoding=encoding, newline=newline))
        yield handles
        for f in handles:
            f.flush()
            os.fsync(f.fileno())
            f.close()
        _rename_all(temporaries, [Path(p) for p in paths])
    finally:
        for f in handles:
            f.close()
        for temporary in temporaries:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


def _rename_all(temporaries: list[str], paths: list[Path]) -> None:
    renamed: list[Path] = []
    try:
        for temporary, path in zip(temporaries, paths, strict=True):
            os.replace(temporary, path)
            renamed.append(path)
    except BaseException:
        for path in renamed:
            path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "w") -> Iterator[IO]:
    """One file written whole or not at all (see :func:`atomic_files`)."""
    with atomic_files(path, mode=mode) as (handle,):
        yield handle


def write_atomically(path: Path, write: Callable[[IO], None], mode: str = "w") -> None:
    with atomic_file(path, mode) as f:
        write(f)
