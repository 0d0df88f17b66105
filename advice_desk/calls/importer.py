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

Strict: a quote that is never closed, text after a closing quote, bytes that are not UTF-8,
control characters (a line break or tab only in ``notes``), a cell longer than
:data:`~advice_desk.calls.record.MAX_TEXT` characters and dates before 2000 are each an error
naming the row (and the column, where there is one).

A good citizen of a shared store: the file is read once, streaming, and checked without
holding the write lock; each checked row is kept as a compact tuple (instants as UTC
microseconds, days as ordinals), a few thousand rows marshalled into one bytes object, so
memory stays near the file's size. Only then does one short transaction write them all in bulk
(:mod:`advice_desk.store.bulk`, as the demo does), after checking that nothing the rows rely on
(active topics, opening hours, the worker) changed meanwhile. Workers go on saving calls while
a big file is being checked.
"""

from __future__ import annotations

import codecs
import csv
import io
import marshal
import os
import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO, TypeVar, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

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
from advice_desk.calls.record import MAX_TEXT, CallDetails, normalise, validate
from advice_desk.calls.topics import topics_in_order
from advice_desk.clock import Clock, uk_day_and_minute
from advice_desk.figures import rollup
from advice_desk.figures.recount import recount
from advice_desk.people import audit
from advice_desk.people.accounts import find_user, user_named
from advice_desk.people.permissions import Actor, Role, command_line_actor
from advice_desk.privacy.classification import CONSENT_GATED_FIELDS
from advice_desk.reference.hours import HoursPolicy
from advice_desk.settings import hours_policy_in
from advice_desk.store import bulk, search_index
from advice_desk.store.bulk import CellValue, Chunk
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, Topic, User

T = TypeVar("T")

COLUMNS = (
    "started_at", "duration_minutes", "caller_type", "arrangement", "local_authority", "topics",
    "outcomes", "consent", "caller_name", "caller_phone", "caller_email", "caller_postcode",
    "notes", "follow_up_on", "safeguarding", "channel", "direction", "children_age_bands",
)
REQUIRED_COLUMNS = ("started_at", "caller_type", "arrangement", "topics", "outcomes")
DEFAULT_WORKER = "imported"
AUDIT_ACTION = "calls-imported"
CHUNK_ROWS = 1_000  # checked rows marshalled together; also the rows of one bulk chunk
MULTILINE_COLUMNS = frozenset({"notes"})  # the only column where a line break or tab is text

# The column a problem with a call field is reported on, where it is not the field's own name.
FIELD_COLUMNS = {
    "ended_at": "duration_minutes",
    "consent_to_store_details": "consent",
    "children_count": "children_age_bands",
    "referred_to": "outcomes",
}

# C0 controls, DEL and C1 controls; in a multi-line column, tab, line feed and carriage return
# are text. Lone surrogates are the bytes that were not UTF-8 (read with "surrogateescape").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\udc80-\udcff]")  # either, found in one search
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


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


class ImportWatch:
    """Told how an import goes; the default hears nothing. The benchmark times the write with
    it, and a test saves a call from another connection while the file is being checked."""

    def checking(self, rows: int) -> None:
        """``rows`` rows are checked so far; called every :data:`CHUNK_ROWS` rows."""

    def writing(self, calls: int) -> None:
        """Every row is good; the write transaction is about to begin."""

    def written(self, calls: int, seconds: float) -> None:
        """The write transaction committed after ``seconds`` (from BEGIN to COMMIT)."""


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


def import_calls(store: Store, source: CsvSource | str, clock: Clock,
                 worker: str = DEFAULT_WORKER, *, actor: Actor | None = None,
                 watch: ImportWatch | None = None) -> int:
    """Import every call of a CSV file (or text) for ``worker``, or none; returns how many.

    Raises :class:`ImportRejected`. The default worker is created if missing; any other must
    be a user of the store already, so a typing slip cannot invent a colleague. The import is
    audited as done by ``actor`` (default: the command line).
    """
    if isinstance(source, str):
        source = CsvSource.of_text(source)
    watch = watch or ImportWatch()
    if worker != DEFAULT_WORKER and find_user(store, worker) is None:
        raise _no_user(worker)  # before reading a big file for nothing
    topics = topics_in_order(store, include_retired=False)
    with store.read() as session:
        policy = hours_policy_in(session)
    pack = _pack_sqlite if store.is_sqlite else _pack_rows
    checked = _check_file(source, Vocabulary.of(topics), policy, clock, watch, pack)
    watch.writing(checked.calls)
    started = time.perf_counter()
    with store.raw_write() as connection:
        _write(connection, checked, policy, clock, worker, actor or command_line_actor())
    watch.written(checked.calls, time.perf_counter() - started)
    return checked.calls


def import_file(store: Store, path: Path, clock: Clock, worker: str = DEFAULT_WORKER, *,
                actor: Actor | None = None, watch: ImportWatch | None = None) -> int:
    """:func:`import_calls` of the file at ``path``."""
    source = CsvSource.of_file(path)
    try:
        return import_calls(store, source, clock, worker, actor=actor, watch=watch)
    finally:
        source.close()


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
    with _field_limit(source.size):
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
            column = name if name and not _SUSPECT.search(name) else _column_letter(position)
            found.append(ImportProblem(number, column, _character_problem(bad.group())))
    return found


def _no_user(username: str) -> ImportRejected:
    return ImportRejected(f"there is no user {username!r} to import the calls for")


# --- checking: no lock held ------------------------------------------------------------------

@dataclass
class Checked:
    """The calls of a file without problems, as compact rows (:func:`_compact`), a chunk of
    them marshalled per bytes object, and what the write must find unchanged."""

    calls: int = 0
    size: int = 0  # of the file
    chunks: list[bytes] = field(default_factory=list)
    topics: set[str] = field(default_factory=set)


@contextmanager
def _field_limit(size: int) -> Iterator[None]:
    """Let the csv module read a field as long as the whole file, so a too-long cell is reported
    by row and column like any other (the module's own limit, 128 KiB, names neither)."""
    before = csv.field_size_limit()
    csv.field_size_limit(max(before, size + 1))
    try:
        yield
    finally:
        csv.field_size_limit(before)


Pack = Callable[[list["CompactRow"], int], bytes]  # checked rows, index of the first: kept


def _check_file(source: CsvSource, vocabulary: Vocabulary, policy: HoursPolicy, clock: Clock,
                watch: ImportWatch, pack: Pack) -> Checked:
    """Every row of the file checked, and packed a chunk at a time. Raises
    :class:`ImportRejected` listing every problem of every row."""
    checked = Checked(size=source.size)
    kept = 0  # rows packed so far
    problems: list[ImportProblem] = []
    pending: list[tuple[object, ...]] = []
    with _field_limit(source.size):
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
                    watch.checking(checked.calls)
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
        suspect = _SUSPECT.search(name)
        if suspect:  # never shown: it would garble the message, or the terminal
            problems.append(ImportProblem(1, _column_letter(position),
                                          _character_problem(suspect.group())))
        elif name and name not in COLUMNS:
            problems.append(ImportProblem(1, name, "unknown column; the columns are "
                                          + ", ".join(COLUMNS)))
        elif name and header.index(name) != position:
            problems.append(ImportProblem(1, name, "appears twice"))
    problems += [ImportProblem(1, name, "is required but missing")
                 for name in REQUIRED_COLUMNS if name not in header]
    return problems


def _character_problem(character: str) -> str:
    if _NOT_UTF8.match(character):
        byte = ord(character) - 0xDC00
        return f"is not UTF-8 text (a byte 0x{byte:02X})"
    if character in "\n\r":
        return "holds a line break, which only notes may hold"
    if character == "\t":
        return "holds a tab, which only notes may hold"
    return (f"holds a control character (U+{ord(character):04X}), which is not text; "
            "remove it")


Problems = list[tuple[str, str]]  # (column, reason)


def _cell_problem(column: str, cell: str) -> str | None:
    """What makes a cell unreadable whatever its column: its length, bytes that were not
    UTF-8, control characters. The cell is then never shown in a message."""
    if len(cell) > MAX_TEXT:
        return f"is longer than {MAX_TEXT} characters (the most a cell may hold)"
    suspect = _SUSPECT.search(cell)
    if suspect is None:
        return None
    bad = _NOT_UTF8.search(cell) or (
        _CONTROL_MULTILINE if column in MULTILINE_COLUMNS else _CONTROL).search(cell)
    return None if bad is None else _character_problem(bad.group())


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
                    self.problems.append((_column_letter(position),
                                          "a value in a column with no name"))
                continue
            problem = _cell_problem(name, cell)
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


CompactRow = tuple[object, ...]


def _check_row(header: list[str], cells: list[str], vocabulary: Vocabulary,
               policy: HoursPolicy, clock: Clock) -> tuple[Problems, CompactRow]:
    row = _Row(header, cells)
    details = _details(row, vocabulary, clock)
    row.problems += _consent_problems(row, details.consent_to_store_details)
    details = normalise(details)
    row.problems += _rule_problems(row, details, vocabulary, clock)
    if row.problems:
        return row.problems, ()
    return [], _compact(details, policy)


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _compact(d: CallDetails, policy: HoursPolicy) -> CompactRow:
    """A checked call as plain values, in :data:`_COMPACT_COLUMNS` order, then its topics and
    its (outcome, referred_to) pairs: what :func:`advice_desk.calls.service.log_calls` would
    store, in a form ``marshal`` keeps small."""
    local_date, local_minute = uk_day_and_minute(d.started_at)
    outcomes = [(o, "") for o in d.outcomes if o != "referred"]
    if "referred" in d.outcomes:
        outcomes += [("referred", r) for r in d.referred_to]
    return (
        _micros(d.started_at), None if d.ended_at is None else _micros(d.ended_at),
        None if d.ended_at is None else int((d.ended_at - d.started_at).total_seconds()),
        policy.is_open(d.started_at), local_date.toordinal(), local_minute,
        d.channel, d.direction, d.caller_type, d.arrangement, d.local_authority,
        d.children_count, ";".join(d.children_age_bands) or None,
        None if d.follow_up_on is None else d.follow_up_on.toordinal(), d.follow_up_note,
        d.safeguarding, d.first_time_caller, d.how_heard, d.consent_to_store_details,
        d.caller_name, d.caller_phone, d.caller_email, d.caller_postcode, d.notes,
        d.topics, tuple(outcomes))


_INSTANTS = ("started_at", "ended_at")
_COMPACT_COLUMNS = (
    "started_at", "ended_at", "duration_s", "in_hours", "local_date", "local_minute",
    "channel", "direction", "caller_type", "arrangement", "local_authority", "children_count",
    "children_age_bands", "follow_up_on", "follow_up_note", "safeguarding",
    "first_time_caller", "how_heard", "consent_to_store_details", "caller_name",
    "caller_phone", "caller_email", "caller_postcode", "notes")
_DAYS = ("local_date", "follow_up_on")


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



# --- packing: still no lock held --------------------------------------------------------------
# On SQLite the rows become the very INSERTs that will run (:func:`bulk.deferred_statements`),
# so the write transaction only runs them; elsewhere they stay compact rows until the write.

DEFERRED = ("worker_id", "created_at", "updated_at")  # known only in the write transaction
# SQLite's page cache while the rows are written: half the file's size, within these bounds,
# so the import's memory stays within twice the file's size.
WRITE_CACHE_KIB = (2 * 1024, 32 * 1024)


def _pack_sqlite(rows: list[CompactRow], first_index: int) -> bytes:
    return zlib.compress(marshal.dumps(bulk.deferred_statements(_chunk(rows), first_index,
                                                                DEFERRED)), 1)


def _pack_rows(rows: list[CompactRow], first_index: int) -> bytes:
    return zlib.compress(marshal.dumps(rows), 1)


def _unpack(blob: bytes) -> object:
    return marshal.loads(zlib.decompress(blob))


def _chunk(rows: list[CompactRow]) -> Chunk:
    """Compact rows (:func:`_compact`) as a chunk the bulk writers insert, but for the
    :data:`DEFERRED` columns."""
    n = len(rows)
    values = list(zip(*rows, strict=True))
    columns: dict[str, list[CellValue]] = {
        name: cast(list[CellValue], list(column))
        for name, column in zip(_COMPACT_COLUMNS, values, strict=False)}
    for name in _INSTANTS:
        columns[name] = [None if v is None else _EPOCH + cast(int, v) * _MICROSECOND
                         for v in columns[name]]
    for name in _DAYS:
        columns[name] = [None if v is None else date.fromordinal(cast(int, v))
                         for v in columns[name]]
    columns["kind"] = ["data"] * n
    chunk = Chunk(columns)
    chunk.topics.extend((i, code, position == 0)
                        for i, codes in enumerate(cast(tuple[tuple[str, ...], ...], values[-2]))
                        for position, code in enumerate(codes))
    chunk.outcomes.extend((i, outcome, referred_to)
                          for i, pairs in enumerate(
                              cast(tuple[tuple[tuple[str, str], ...], ...], values[-1]))
                          for outcome, referred_to in pairs)
    return chunk


# --- writing: one short transaction ----------------------------------------------------------

def _write(connection: sa.Connection, checked: Checked, policy: HoursPolicy, clock: Clock,
           username: str, actor: Actor) -> None:
    """Insert the checked calls in bulk, in the open write transaction, with the worker made
    if need be and one audit event; the search index is brought up to date in it too."""
    if not checked.calls:
        return
    with Session(bind=connection) as session:
        _require_unchanged(session, checked.topics, policy)
        worker_id = _worker_in(session, username, clock)
        audit.record(session, clock, actor, AUDIT_ACTION, f"user {username}",
                     {"calls": checked.calls})
        session.flush()
    now = clock.now()
    deferred: dict[str, CellValue] = {"worker_id": worker_id, "created_at": now,
                                      "updated_at": now}
    # The write transaction holds the only write lock: every call after the last one now is
    # this import's, and the rollup counts them set-wise once they are in.
    last_id = connection.execute(sa.select(sa.func.max(col(Call.id)))).scalar() or 0
    with search_index.bulk_insert(connection):
        if connection.dialect.name == "sqlite":
            least, most = WRITE_CACHE_KIB
            with _page_cache(connection, min(max(checked.size // 2048, least), most)):
                bulk.write_deferred(connection, (
                    cast(list[bulk.DeferredStatement], _unpack(blob))
                    for blob in checked.chunks), deferred)
        else:
            writer = bulk.server_writer(connection)
            for blob in checked.chunks:
                chunk = _chunk(cast(list[CompactRow], _unpack(blob)))
                chunk.calls.update({name: [value] * len(chunk)
                                    for name, value in deferred.items()})
                writer(writer.prepare(chunk, None))
    rollup.apply(connection, recount(connection, col(Call.id) > last_id))


@contextmanager
def _page_cache(connection: sa.Connection, kib: int) -> Iterator[None]:
    """A bigger SQLite page cache for the while: the rows come in file order, not in the order
    of the call indexes (start, worker and start, day), and with the default 2 MiB their pages
    are written out and read back again and again; a few MiB more cut the write's time by a
    quarter."""
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{kib}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")


def _require_unchanged(session: Session, used: set[str], policy: HoursPolicy) -> None:
    """What the checked rows rely on is still so: their topics in use, the same opening hours
    (which set each call's in-hours flag)."""
    active = set(session.exec(select(Topic.code).where(col(Topic.retired).is_(False))))
    gone = sorted(used - active)
    if gone:
        raise ImportRejected(
            f"{'topics' if len(gone) > 1 else 'topic'} {', '.join(gone)} "
            "stopped being in use while the file was being checked; nothing was imported, "
            "try again")
    if hours_policy_in(session) != policy:
        raise ImportRejected("the opening hours changed while the file was being checked; "
                             "nothing was imported, try again")


def _worker_in(session: Session, username: str, clock: Clock) -> int:
    user = user_named(session, username)
    if user is None:
        if username != DEFAULT_WORKER:
            raise _no_user(username)
        user = User(username=username, display_name="Imported calls", role=Role.WORKER,
                    created_at=clock.now())
        session.add(user)
        session.flush()
    assert user.id is not None
    return user.id
