"""The file of an import before any store is opened: its problems, its encoding, its characters."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from advice_desk.calls.import_cells import key
from advice_desk.calls.record import MAX_TEXT

MULTILINE_COLUMNS = frozenset({"notes"})  # the only column where a line break or tab is text
# C0 controls, DEL and C1 controls; in a multi-line column, tab, line feed and carriage return
# are text. Lone surrogates are the bytes that were not UTF-8 (read with "surrogateescape").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\udc80-\udcff]")  # either, found in one search


@dataclass(frozen=True)
class ImportProblem:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}, column {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.reason}"


class ImportRejected(Exception):
    """Nothing was imported; the message says why, ``problems`` lists each bad cell."""

    def __init__(self, message: str, problems: Sequence[ImportProblem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class CsvSource:
    """A CSV file opened for reading (or a CSV text), before any store is opened: a wrong file
    name must not create an empty store."""

    def __init__(self, stream: TextIO, size: int) -> None:
        self.stream = stream
        self.size = size  # in characters or bytes, at least the longest field there can be

    @classmethod
    def of_file(cls, path: Path) -> CsvSource:
        """The file opened; one that is not UTF-8 text is refused here, every cell with a byte
        that is not UTF-8 named by row and column, before any store is opened."""
        try:
            # Bytes that are not UTF-8 are kept as lone surrogates, so the cell holding them is
            # named; a byte-order mark (as Excel writes) is dropped.
            stream = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
            source = cls(stream, os.fstat(stream.fileno()).st_size)
            if _is_utf8(path):
                return source
        except OSError as exc:
            raise ImportRejected(f"cannot read it: {exc.strerror or exc}") from exc
        try:
            problems = _utf8_problems(source)
        finally:
            source.close()
        raise ImportRejected("is not UTF-8 text; in Excel, save it as 'CSV UTF-8'", problems)

    @classmethod
    def of_text(cls, text: str) -> CsvSource:
        return cls(io.StringIO(text.removeprefix("\ufeff"), newline=""), len(text))

    def close(self) -> None:
        self.stream.close()


def read_text(path: Path) -> str:
    """The whole text of a CSV file (for small files; :func:`import_file` streams)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportRejected(f"cannot read it: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected("is not UTF-8 text; in Excel, save it as 'CSV UTF-8'") from exc


def _is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8: a quick first pass, without the csv module."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as file:
            while block := file.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _utf8_problems(source: CsvSource) -> list[ImportProblem]:
    """Every cell holding bytes that are not UTF-8, by row and column."""
    problems: list[ImportProblem] = []
    with field_limit(source.size):
        reader = csv.reader(source.stream)
        try:
            header = [key(name) for name in next(reader, [])]
            problems += _utf8_cells(1, [], header)
            for number, cells in enumerate(reader, start=2):
                problems += _utf8_cells(number, header, cells)
        except csv.Error:
            pass  # the check of the file as CSV names it, once the text is UTF-8
    return problems


def _utf8_cells(number: int, header: list[str], cells: list[str]) -> list[ImportProblem]:
    found = []
    for position, cell in enumerate(cells):
        bad = _NOT_UTF8.search(cell)
        if bad:
            name = header[position] if position < len(header) else ""
            column = name if name and not SUSPECT.search(name) else column_letter(position)
            found.append(ImportProblem(number, column, character_problem(bad.group())))
    return found


@contextmanager
def field_limit(size: int) -> Iterator[None]:
    """Let the csv module read a field as long as the whole file, so a too-long cell is reported
    by row and column like any other (the module's own limit, 128 KiB, names neither)."""
    before = csv.field_size_limit()
    csv.field_size_limit(max(before, size + 1))
    try:
        yield
    finally:
        csv.field_size_limit(before)


def character_problem(character: str) -> str:
    if _NOT_UTF8.match(character):
        byte = ord(character) - 0xDC00
        return f"is not UTF-8 text (a byte 0x{byte:02X})"
    if character in "\n\r":
        return "holds a line break, which only notes may hold"
    if character == "\t":
        return "holds a tab, which only notes may hold"
    return (f"holds a control character (U+{ord(character):04X}), which is not text; "
            "remove it")


def cell_problem(column: str, cell: str) -> str | None:
    """What makes a cell unreadable whatever its column: its length, bytes that were not
    UTF-8, control characters. The cell is then never shown in a message."""
    if len(cell) > MAX_TEXT:
        return f"is longer than {MAX_TEXT} characters (the most a cell may hold)"
    suspect = SUSPECT.search(cell)
    if suspect is None:
        return None
    bad = _NOT_UTF8.search(cell) or (
        _CONTROL_MULTILINE if column in MULTILINE_COLUMNS else _CONTROL).search(cell)
    return None if bad is None else character_problem(bad.group())


def column_letter(position: int) -> str:
    """How a spreadsheet names the column at a 0-based position: A ... Z, AA, AB ..."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
