"""Writing files the user asked for, safely.

A file is written under a temporary name in the same folder and renamed into place only when
complete, so a failure (disk full, no permission, a cancel) never leaves half a file. Text cells
that a spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Literal, overload

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Mode = Literal["w", "wb"]  # text (UTF-8) or bytes


def spreadsheet_safe(text: str) -> str:
    """Prefix ``'`` to a cell that would begin a formula once leading spaces are ignored."""
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


@overload
def atomic_files(*paths: Path, mode: Literal["w"] = "w"
                 ) -> AbstractContextManager[list[IO[str]]]: ...
@overload
def atomic_files(*paths: Path, mode: Literal["wb"]) -> AbstractContextManager[list[IO[bytes]]]: ...
def atomic_files(*paths: Path, mode: Mode = "w"
                 ) -> AbstractContextManager[list[IO[str]] | list[IO[bytes]]]:
    """Open a temporary file beside each path; they become the paths together, only if the
    block succeeds. Should a rename fail, the files already renamed are removed again."""
    return _atomic_files(paths, mode)


@contextlib.contextmanager
def _atomic_files(paths: tuple[Path, ...], mode: Mode
                  ) -> Iterator[list[IO[str]] | list[IO[bytes]]]:
    encoding = None if "b" in mode else "utf-8"
    newline = None if "b" in mode else ""
    temporaries: list[str] = []
    handles: list[IO[str]] | list[IO[bytes]] = []
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
        # After a failure a handle may still hold unwritten data, and closing it tries to write
        # it again: on a full disk that fails once more. It still closes the file, and every
        # temporary must go whatever happens, so such a second error is not let through here
        # (the first one is already on its way).
        for f in handles:
            with contextlib.suppress(OSError):
                f.close()
        for temporary in temporaries:
            with contextlib.suppress(OSError):
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


@overload
def atomic_file(path: Path, mode: Literal["w"] = "w") -> AbstractContextManager[IO[str]]: ...
@overload
def atomic_file(path: Path, mode: Literal["wb"]) -> AbstractContextManager[IO[bytes]]: ...
def atomic_file(path: Path, mode: Mode = "w") -> AbstractContextManager[IO[str] | IO[bytes]]:
    """One file written whole or not at all (see :func:`atomic_files`)."""
    return _atomic_file(path, mode)


@contextlib.contextmanager
def _atomic_file(path: Path, mode: Mode) -> Iterator[IO[str] | IO[bytes]]:
    with _atomic_files((path,), mode) as (handle,):
        yield handle

