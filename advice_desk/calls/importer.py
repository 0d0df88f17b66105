"""Importing calls from a spreadsheet (``advice-desk import``, PRODUCT.md §10): all rows or none.

A line that kept its log in a spreadsheet brings it over once, and a half-imported file would
be worse than none: it could not be safely imported again. So every row is read and checked
first, with the same rules as the intake form (:func:`advice_desk.calls.record.normalise`
and :func:`~advice_desk.calls.record.validate`); every problem is reported as
``row N, column C: reason``, N being the row number the spreadsheet shows (the header is
row 1); and only a file without problems is saved, in one transaction.

Format: UTF-8 CSV (a byte-order mark, as Excel writes, is fine) with a header row naming the
columns below in any order; only ``REQUIRED_COLUMNS`` must be present. Codes and labels match
whatever their case. Lists (``topics``, ``outcomes``, ``children_age_bands``) are separated by
``;``; the first topic is the primary one. A referral is written ``referred:TARGET``, TARGET
being a referral code or label (``referred:virtual-school``, ``Referred: Virtual School``);
several referrals are several items. ``started_at`` is UK local time ``YYYY-MM-DD HH:MM`` or
ISO 8601 with an offset (``2026-03-02T10:15+00:00``); a UK time that did not happen (the hour
lost when the clocks go forward) or happened twice (when they go back) is refused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

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
from advice_desk.calls.record import CallDetails, normalise, validate
from advice_desk.calls.service import log_calls
from advice_desk.calls.topics import topics_in_order
from advice_desk.clock import Clock
from advice_desk.people.accounts import find_user, get_or_create_user
from advice_desk.privacy.classification import CONSENT_GATED_FIELDS
from advice_desk.store.engine import Store
from advice_desk.store.models import User

T = TypeVar("T")

COLUMNS = (
    "started_at", "duration_minutes", "caller_type", "arrangement", "local_authority", "topics",
    "outcomes", "consent", "caller_name", "caller_phone", "caller_email", "caller_postcode",
    "notes", "follow_up_on", "safeguarding", "channel", "direction", "children_age_bands",
)
REQUIRED_COLUMNS = ("started_at", "caller_type", "arrangement", "topics", "outcomes")
DEFAULT_WORKER = "imported"

# The column a problem with a call field is reported on, where it is not the field's own name.
FIELD_COLUMNS = {
    "ended_at": "duration_minutes",
    "consent_to_store_details": "consent",
    "children_count": "children_age_bands",
    "referred_to": "outcomes",
}


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


def import_calls(store: Store, text: str, clock: Clock, worker: str = DEFAULT_WORKER) -> int:
    """Import every call of a CSV text for ``worker``, or none; returns how many.

    Raises :class:`ImportRejected`. The default worker is created if missing; any other must
    be a user of the store already, so a typing slip cannot invent a colleague.
    """
    calls = _parse_calls(text, Vocabulary.of(topics_in_order(store, include_retired=False)),
                         clock)
    worker_id = _worker_id(store, worker, clock)
    log_calls(store, calls, worker_id, clock)
    return len(calls)


def read_text(path: Path) -> str:
    """The text of a CSV file, read before any store is opened: a wrong file name must not
    create an empty store."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportRejected(f"cannot read it: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected("is not UTF-8 text; in Excel, save it as 'CSV UTF-8'") from exc


def _worker_id(store: Store, username: str, clock: Clock) -> int:
    user: User | None
    if username == DEFAULT_WORKER:
        user = get_or_create_user(store, username, clock, display_name="Imported calls")
    else:
        user = find_user(store, username)
        if user is None:
            raise ImportRejected(f"there is no user {username!r} to import the calls for")
    assert user.id is not None
    return user.id


# --- parsing ---------------------------------------------------------------------------------

def _parse_calls(text: str, vocabulary: Vocabulary, clock: Clock) -> list[CallDetails]:
    """Every row of the CSV text as a checked call. Raises :class:`ImportRejected` listing
    every problem of every row."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:  # e.g. a cell longer than the csv module allows
        raise ImportRejected(f"cannot be read as CSV: {exc}") from exc
    if not records:
        raise ImportRejected("is empty: the first row must name the columns")
    header = [key(name) for name in records[0]]
    problems = _header_problems(header)
    if problems:
        raise _rejected(problems)
    calls = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets often end with empty rows
        details, row_problems = _parse_row(header, cells, vocabulary, clock)
        problems += [ImportProblem(number, column, reason) for column, reason in row_problems]
        calls.append(details)
    if problems:
        raise _rejected(problems)
    return calls


def _rejected(problems: list[ImportProblem]) -> ImportRejected:
    count = f"{len(problems)} error{'' if len(problems) == 1 else 's'}"
    return ImportRejected(f"{count}; nothing was imported", problems)


def _header_problems(header: list[str]) -> list[ImportProblem]:
    """Unknown, repeated and missing columns. A column with no name is allowed (spreadsheets
    often have one at the end) as long as it stays empty."""
    problems = []
    for position, name in enumerate(header):
        if name and name not in COLUMNS:
            problems.append(ImportProblem(1, name, "unknown column; the columns are "
                                          + ", ".join(COLUMNS)))
        elif name and header.index(name) != position:
            problems.append(ImportProblem(1, name, "appears twice"))
    problems += [ImportProblem(1, name, "is required but missing")
                 for name in REQUIRED_COLUMNS if name not in header]
    return problems


Problems = list[tuple[str, str]]  # (column, reason)


class _Row:
    """One data row: its cells by column name, and the problems found in them so far."""

    def __init__(self, header: list[str], cells: list[str]) -> None:
        self.problems: Problems = [
            (_column_letter(position), "a value in a column with no name")
            for position, cell in enumerate(cells)
            if cell.strip() and (position >= len(header) or not header[position])]
        self.cells = {name: cell.strip() for name, cell in zip(header, cells, strict=False)
                      if name}

    def text(self, column: str) -> str:
        return self.cells.get(column, "")

    def read(self, column: str, parse: Callable[[str], T], default: T) -> T:
        """The cell as ``parse`` reads it, or ``default`` with a problem noted."""
        try:
            return parse(self.text(column))
        except CellError as exc:
            self.problems.append((column, str(exc)))
            return default


def _parse_row(header: list[str], cells: list[str], vocabulary: Vocabulary, clock: Clock
               ) -> tuple[CallDetails, Problems]:
    row = _Row(header, cells)
    details = _details(row, vocabulary, clock)
    row.problems += _consent_problems(row, details.consent_to_store_details)
    details = normalise(details)
    row.problems += _rule_problems(row, details, vocabulary, clock)
    return details, row.problems


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


def _column_letter(position: int) -> str:
    """How a spreadsheet names the column at a 0-based position: A ... Z, AA, AB ..."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters

