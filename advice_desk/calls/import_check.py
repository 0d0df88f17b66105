"""Checking every row of an import file, with the intake form's rules, without holding a lock."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from advice_desk.calls.import_cells import (
    CellError,
    Vocabulary,
    code_of,
    items,
    key,
    known,
    read_authority,
    read_date,
    read_duration,
    read_outcomes,
    read_started_at,
    read_topics,
    read_yes_no,
)
from advice_desk.calls.import_rows import CompactRow, Pack, compact
from advice_desk.calls.import_source import (
    SUSPECT,
    CsvSource,
    ImportProblem,
    ImportRejected,
    cell_problem,
    character_problem,
    column_letter,
    field_limit,
)
from advice_desk.calls.record import CallDetails, normalise, validate
from advice_desk.clock import Clock
from advice_desk.privacy.classification import CONSENT_GATED_FIELDS
from advice_desk.reference.hours import HoursPolicy

T = TypeVar("T")

COLUMNS = (
    "started_at", "duration_minutes", "caller_type", "arrangement", "local_authority", "topics",
    "outcomes", "consent", "caller_name", "caller_phone", "caller_email", "caller_postcode",
    "notes", "follow_up_on", "safeguarding", "channel", "direction", "children_age_bands",
)
REQUIRED_COLUMNS = ("started_at", "caller_type", "arrangement", "topics", "outcomes")
CHUNK_ROWS = 1_000  # checked rows marshalled together; also the rows of one bulk chunk

# The column a problem with a call field is reported on, where it is not the field's own name.
FIELD_COLUMNS = {
    "ended_at": "duration_minutes",
    "consent_to_store_details": "consent",
    "children_count": "children_age_bands",
    "referred_to": "outcomes",
}


@dataclass
class Checked:
    """The calls of a file without problems, as compact rows (:func:`compact`), a chunk of
    them marshalled per bytes object, and what the write must find unchanged."""

    calls: int = 0
    size: int = 0  # of the file
    chunks: list[bytes] = field(default_factory=list)
    topics: set[str] = field(default_factory=set)


def check_file(source: CsvSource, vocabulary: Vocabulary, policy: HoursPolicy, clock: Clock,
               checking: Callable[[int], None], pack: Pack) -> Checked:
    """Every row of the file checked, and packed a chunk at a time, ``checking`` told the rows
    checked so far every :data:`CHUNK_ROWS` rows. Raises :class:`ImportRejected` listing every
    problem of every row."""
    checked = Checked(size=source.size)
    kept = 0  # rows packed so far
    problems: list[ImportProblem] = []
    pending: list[tuple[object, ...]] = []
    with field_limit(source.size):
        reader = csv.reader(source.stream, strict=True)
        number = 0  # the last row read whole
        try:
            header = [key(name) for name in next(reader, [])]
            number = 1
            if not any(header):
                raise ImportRejected("is empty: the first row must name the columns")
            problems = _header_problems(header)
            if problems:
                raise _rejected(problems)
            for number, cells in enumerate(reader, start=2):
                if not any(cell.strip() for cell in cells):
                    continue  # spreadsheets often end with empty rows
                row_problems, row = _check_row(header, cells, vocabulary, policy, clock)
                if row_problems:
                    problems += [ImportProblem(number, column, reason)
                                 for column, reason in row_problems]
                    checked.chunks.clear()  # nothing will be written: keep no rows
                    pending.clear()
                elif not problems:
                    pending.append(row)
                    checked.topics.update(cast(tuple[str, ...], row[-2]))
                checked.calls += 1
                if checked.calls % CHUNK_ROWS == 0:
                    if pending:
                        checked.chunks.append(pack(pending, kept))
                        kept += len(pending)
                    pending = []
                    checking(checked.calls)
        except csv.Error as exc:
            problems.append(_structure_problem(exc, number + 1, reader.line_num))
    if problems:
        raise _rejected(problems)
    if pending:
        checked.chunks.append(pack(pending, kept))
    return checked


def _structure_problem(exc: csv.Error, row: int, line: int) -> ImportProblem:
    """A row the csv module could not split into cells: the rest of the file cannot be read."""
    message = str(exc)
    if "end of data" in message:
        reason = ("a quote (\") opens a cell that is never closed, so every line after it would "
                  "be one cell; close the quote (write a quote inside a cell as two quotes)")
    elif "expected after" in message:
        reason = ("a quoted cell has text after its closing quote (write a quote inside a cell "
                  "as two quotes)")
    else:
        reason = f"cannot be read as CSV ({message}, at line {line} of the file)"
    return ImportProblem(row, None, reason + "; nothing after it was read")


def _rejected(problems: list[ImportProblem]) -> ImportRejected:
    count = f"{len(problems)} error{'' if len(problems) == 1 else 's'}"
    return ImportRejected(f"{count}; nothing was imported", problems)


def _header_problems(header: list[str]) -> list[ImportProblem]:
    """Unknown, repeated and missing columns. A column with no name is allowed (spreadsheets
    often have one at the end) as long as it stays empty."""
    problems = []
    for position, name in enumerate(header):
        suspect = SUSPECT.search(name)
        if suspect:  # never shown: it would garble the message, or the terminal
            problems.append(ImportProblem(1, column_letter(position),
                                          character_problem(suspect.group())))
        elif name and name not in COLUMNS:
            problems.append(ImportProblem(1, name, "unknown column; the columns are "
                                          + ", ".join(COLUMNS)))
        elif name and header.index(name) != position:
            problems.append(ImportProblem(1, name, "appears twice"))
    problems += [ImportProblem(1, name, "is required but missing")
                 for name in REQUIRED_COLUMNS if name not in header]
    return problems


Problems = list[tuple[str, str]]  # (column, reason)


class _Row:
    """One data row: its cells by column name, and the problems found in them so far. A cell
    with a problem reads as empty and gets no second problem."""

    def __init__(self, header: list[str], cells: list[str]) -> None:
        self.problems: Problems = []
        self.cells: dict[str, str] = {}
        for position, cell in enumerate(cells):
            name = header[position] if position < len(header) else ""
            if not name:
                if cell.strip():
                    self.problems.append((column_letter(position),
                                          "a value in a column with no name"))
                continue
            problem = cell_problem(name, cell)
            if problem:
                self.problems.append((name, problem))
            else:
                self.cells[name] = cell.strip()
        self.flagged = {column for column, _ in self.problems}

    def text(self, column: str) -> str:
        return self.cells.get(column, "")

    def read(self, column: str, parse: Callable[[str], T], default: T) -> T:
        """The cell as ``parse`` reads it, or ``default`` with a problem noted."""
        if column in self.flagged:
            return default
        try:
            return parse(self.text(column))
        except CellError as exc:
            self.problems.append((column, str(exc)))
            return default


def _check_row(header: list[str], cells: list[str], vocabulary: Vocabulary,
               policy: HoursPolicy, clock: Clock) -> tuple[Problems, CompactRow]:
    row = _Row(header, cells)
    details = _details(row, vocabulary, clock)
    row.problems += _consent_problems(row, details.consent_to_store_details)
    details = normalise(details)
    row.problems += _rule_problems(row, details, vocabulary, clock)
    if row.problems:
        return row.problems, ()
    return [], compact(details, policy)


def _details(row: _Row, v: Vocabulary, clock: Clock) -> CallDetails:
    started_at = row.read("started_at", read_started_at, None)
    length = row.read("duration_minutes", read_duration, None)
    no_outcomes: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    outcomes, referred_to = row.read("outcomes", lambda c: read_outcomes(c, v), no_outcomes)
    return CallDetails(
        started_at=started_at or clock.now(),  # a stand-in: the problem is already noted
        ended_at=started_at + length if started_at and length is not None else None,
        channel=code_of(row.text("channel"), v.channels) or "phone",
        direction=code_of(row.text("direction"), v.directions) or "inbound",
        caller_type=code_of(row.text("caller_type"), v.caller_types),
        arrangement=code_of(row.text("arrangement"), v.arrangements),
        local_authority=row.read("local_authority", read_authority, None),
        children_age_bands=tuple(known(band, v.age_bands)
                                 for band in items(row.text("children_age_bands"))),
        topics=row.read("topics", lambda c: read_topics(c, v), ()),
        outcomes=outcomes,
        referred_to=referred_to,
        follow_up_on=row.read("follow_up_on", read_date, None),
        safeguarding=row.read("safeguarding", lambda c: read_yes_no(c, default=False),
                              False),
        consent_to_store_details=row.read("consent", lambda c: read_yes_no(c, default=True),
                                          True),
        caller_name=row.text("caller_name"),
        caller_phone=row.text("caller_phone"),
        caller_email=row.text("caller_email"),
        caller_postcode=row.text("caller_postcode"),
        notes=row.text("notes"),
    )


def _consent_problems(row: _Row, consent: bool) -> Problems:
    """Details given for a caller who did not agree: the spreadsheet contradicts itself, and
    dropping them silently could lose what the caller did agree to."""
    if consent:
        return []
    return [(name, "must be empty when consent is no (the caller did not agree to their "
             "details being kept)") for name in CONSENT_GATED_FIELDS if row.text(name)]


def _rule_problems(row: _Row, details: CallDetails, vocabulary: Vocabulary, clock: Clock
                   ) -> Problems:
    """What :func:`advice_desk.calls.record.validate` finds, on the columns it comes from; a
    cell that could not be read is not reported twice."""
    reported = {column for column, _ in row.problems}
    if "started_at" in reported:
        reported.add("duration_minutes")  # the end of a call depends on its start
    problems = []
    for error in validate(details, vocabulary.allowed_topics, clock):
        column = FIELD_COLUMNS.get(error.field, error.field)
        if column not in reported:
            problems.append((column, error.message))
    return problems
