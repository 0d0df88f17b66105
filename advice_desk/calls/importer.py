"""Importing calls from a spreadsheet (``advice-desk import``, PRODUCT.md §10): all rows or none.

A line that kept its log in a spreadsheet brings it over once, and a half-imported file would
be worse than none: it could not be safely imported again. So every row is read and checked
first, with the same rules as the intake form (:func:`call_details.normalise` and
:func:`call_details.validate`); every problem is reported as ``row N, column C: reason``, N
being the row number the spreadsheet shows (the header is row 1); and only a file without
problems is saved, in one transaction.

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
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from advice_desk.calls.record import MAX_CALL_LENGTH, CallDetails, normalise, validate
from advice_desk.calls.service import log_calls, topic_labels
from advice_desk.clock import Clock, parse_instant
from advice_desk.people.accounts import find_user, get_or_create_user
from advice_desk.privacy.classification import CONSENT_GATED_FIELDS
from advice_desk.reference import lists as reference
from advice_desk.store.engine import Store
from advice_desk.store.models import Topic

T = TypeVar("T")

COLUMNS = (
    "started_at", "duration_minutes", "caller_type", "arrangement", "local_authority", "topics",
    "outcomes", "consent", "caller_name", "caller_phone", "caller_email", "caller_postcode",
    "notes", "follow_up_on", "safeguarding", "channel", "direction", "children_age_bands",
)
REQUIRED_COLUMNS = ("started_at", "caller_type", "arrangement", "topics", "outcomes")
DEFAULT_WORKER = "imported"
REFERRED = "referred"

# The column a problem with a call field is reported on, where it is not the field's own name.
FIELD_COLUMNS = {
    "ended_at": "duration_minutes",
    "consent_to_store_details": "consent",
    "children_count": "children_age_bands",
    "referred_to": "outcomes",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


MAX_CALL_MINUTES = int(MAX_CALL_LENGTH.total_seconds()) // 60


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
    calls = _parse_calls(text, _Vocabulary.of(topic_labels(store, include_retired=False)),
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
    if username == DEFAULT_WORKER:
        user = get_or_create_user(store, username, clock, display_name="Imported calls")
    else:
        user = find_user(store, username)
        if user is None:
            raise ImportRejected(f"there is no user {username!r} to import the calls for")
    assert user.id is not None
    return user.id


# --- reading codes and labels ----------------------------------------------------------------

def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _lookup(choices: Sequence[reference.Choice]) -> dict[str, str]:
    """Code by lower-case label and by lower-case code (a code wins over another's label)."""
    found = {_key(c.label): c.code for c in choices}
    found.update({_key(c.code): c.code for c in choices})
    return found


@dataclass(frozen=True)
class _Vocabulary:
    """Everything a cell may name, by its lower-case code or label."""

    caller_types: dict[str, str]
    arrangements: dict[str, str]
    channels: dict[str, str]
    directions: dict[str, str]
    outcomes: dict[str, str]
    referral_targets: dict[str, str]
    age_bands: dict[str, str]
    authorities: dict[str, str]
    topics: dict[str, list[str]]  # a label may be shared by topics under different parents
    allowed_topics: set[str]

    @classmethod
    def of(cls, topics: dict[str, Topic]) -> _Vocabulary:
        h = reference.helpline()
        authorities = {_key(la.name): la.code for la in reference.local_authorities()}
        authorities.update({_key(la.code): la.code for la in reference.local_authorities()})
        topic_codes: dict[str, list[str]] = {}
        for topic in topics.values():
            topic_codes.setdefault(_key(topic.label), []).append(topic.code)
        topic_codes.update({_key(code): [code] for code in topics})
        return cls(_lookup(h.caller_types), _lookup(h.arrangements), _lookup(h.channels),
                   _lookup(h.directions), _lookup(h.outcomes), _lookup(h.referral_targets),
                   _lookup(h.age_bands), authorities, topic_codes, set(topics))


# --- parsing ---------------------------------------------------------------------------------

class _CellError(ValueError):
    """A cell cannot be read; the message is the reason shown to the user."""


def _parse_calls(text: str, vocabulary: _Vocabulary, clock: Clock) -> list[CallDetails]:
    """Every row of the CSV text as a checked call. Raises :class:`ImportRejected` listing
    every problem of every row."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:  # e.g. a cell longer than the csv module allows
        raise ImportRejected(f"cannot be read as CSV: {exc}") from exc
    if not records:
        raise ImportRejected("is empty: the first row must name the columns")
    header = [_key(name) for name in records[0]]
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
        except _CellError as exc:
            self.problems.append((column, str(exc)))
            return default


def _parse_row(header: list[str], cells: list[str], vocabulary: _Vocabulary, clock: Clock
               ) -> tuple[CallDetails, Problems]:
    row = _Row(header, cells)
    details = _details(row, vocabulary, clock)
    row.problems += _consent_problems(row, details.consent_to_store_details)
    details = normalise(details)
    row.problems += _rule_problems(row, details, vocabulary, clock)
    return details, row.problems


def _details(row: _Row, v: _Vocabulary, clock: Clock) -> CallDetails:
    started_at = row.read("started_at", _started_at, None)
    length = row.read("duration_minutes", _duration, None)
    outcomes, referred_to = row.read("outcomes", lambda c: _outcomes(c, v), ((), ()))
    return CallDetails(
        started_at=started_at or clock.now(),  # a stand-in: the problem is already noted
        ended_at=started_at + length if started_at and length is not None else None,
        channel=_code(row.text("channel"), v.channels) or "phone",
        direction=_code(row.text("direction"), v.directions) or "inbound",
        caller_type=_code(row.text("caller_type"), v.caller_types),
        arrangement=_code(row.text("arrangement"), v.arrangements),
        local_authority=row.read("local_authority", lambda c: _authority(c, v), None),
        children_age_bands=tuple(_known(band, v.age_bands)
                                 for band in _items(row.text("children_age_bands"))),
        topics=row.read("topics", lambda c: _topics(c, v), ()),
        outcomes=outcomes,
        referred_to=referred_to,
        follow_up_on=row.read("follow_up_on", _date, None),
        safeguarding=row.read("safeguarding", lambda c: _yes_no(c, default=False), False),
        consent_to_store_details=row.read("consent", lambda c: _yes_no(c, default=True), True),
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


def _rule_problems(row: _Row, details: CallDetails, vocabulary: _Vocabulary, clock: Clock
                   ) -> Problems:
    """What :func:`calls.validate` finds, on the columns it comes from; a cell that could not
    be read is not reported twice."""
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


def _items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(";") if item.strip()]


def _known(item: str, codes: dict[str, str]) -> str:
    """The code an item names; an unknown one is kept as written, for validation to report."""
    return codes.get(_key(item), item)


def _code(cell: str, codes: dict[str, str]) -> str | None:
    return _known(cell, codes) if cell else None


def _started_at(cell: str) -> datetime:
    if not cell:
        raise _CellError("required")
    try:
        return parse_instant(cell)
    except ValueError as error:
        raise _CellError(str(error)) from None


def _duration(cell: str) -> timedelta | None:
    if not cell:
        return None
    try:
        minutes = float(cell)
    except ValueError:
        raise _CellError(f"{cell!r} is not a number of minutes") from None
    if not math.isfinite(minutes) or minutes < 0:
        raise _CellError(f"{cell!r} is not a number of minutes")
    if minutes > MAX_CALL_MINUTES:  # a phone number pasted into the wrong column, say
        raise _CellError(f"{cell!r} minutes is longer than any call "
                         f"(at most {MAX_CALL_MINUTES})")
    return timedelta(seconds=round(minutes * 60))


def _date(cell: str) -> date | None:
    if not cell:
        return None
    try:
        if not _DATE.fullmatch(cell):
            raise ValueError(cell)
        return date.fromisoformat(cell)
    except ValueError:
        raise _CellError(f"{cell!r} is not a date: write YYYY-MM-DD") from None


def _yes_no(cell: str, default: bool) -> bool:
    answer = _key(cell)
    if not answer:
        return default
    if answer not in ("yes", "no"):
        raise _CellError(f"{cell!r}: write yes or no")
    return answer == "yes"


def _authority(cell: str, vocabulary: _Vocabulary) -> str | None:
    if not cell:
        return None
    code = vocabulary.authorities.get(_key(cell))
    if code is None:
        raise _CellError(f"no local authority is named or coded {cell!r}")
    return code


def _topics(cell: str, vocabulary: _Vocabulary) -> tuple[str, ...]:
    codes = []
    for item in _items(cell):
        matches = vocabulary.topics.get(_key(item), [item])
        if len(matches) > 1:
            raise _CellError(f"{item!r} is the label of several topics "
                             f"({', '.join(matches)}): write the code instead")
        codes.append(matches[0])
    return tuple(codes)


def _outcomes(cell: str, vocabulary: _Vocabulary) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Outcome codes and referral targets: ``referred:TARGET`` adds both."""
    outcomes: list[str] = []
    referred_to: list[str] = []
    for item in _items(cell):
        code = vocabulary.outcomes.get(_key(item))
        if code is None and ":" in item:
            name, target = (part.strip() for part in item.split(":", 1))
            if vocabulary.outcomes.get(_key(name)) != REFERRED:
                raise _CellError(f"{item!r}: only a referral takes a ':' (referred:TARGET)")
            code = REFERRED
            referred_to.append(_known(target, vocabulary.referral_targets))
        if code != REFERRED or REFERRED not in outcomes:
            outcomes.append(code or item)
    return tuple(outcomes), tuple(referred_to)
