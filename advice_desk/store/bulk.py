"""Inserting many calls at once, in the open write transaction: the demo's million calls in
seconds. The rows come ready made (:class:`Chunk`); no call rule is checked here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import chain
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from advice_desk.store.models import Call, CallOutcome, CallTopic, UTCDateTime

if TYPE_CHECKING:
    import psycopg

CellValue = str | int | float | bool | date | datetime | None  # a value of a call's column
SqliteValue = str | int | float | None  # what the SQLite driver is given


@dataclass
class Chunk:
    """Calls ready to insert. Topics and outcomes point at calls by their index in ``calls``.

    Datetimes are aware and in UTC, as the models take them.
    """

    calls: dict[str, list[CellValue]]  # each column's values, by column name
    topics: list[tuple[int, str, bool]] = field(default_factory=list)
    outcomes: list[tuple[int, str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.calls["started_at"])


# SQLModel makes __table__ at run time and declares it to no type checker; sa.Table's default
# type argument holds Any.
CALL_TABLE: sa.Table = Call.__table__  # type: ignore[attr-defined, explicit-any]
TOPIC_TABLE: sa.Table = CallTopic.__table__  # type: ignore[attr-defined, explicit-any]
OUTCOME_TABLE: sa.Table = CallOutcome.__table__  # type: ignore[attr-defined, explicit-any]
TOPIC_COLUMNS = ("call_id", "topic_code", "is_primary")
OUTCOME_COLUMNS = ("call_id", "outcome", "referred_to")
# Variables in one statement: the limit of SQLite before 3.32 (32766 since). Much longer
# statements gain nothing, and each compiled statement kept in the driver's cache costs memory.
SQLITE_MAX_VARIABLES = 999

Prepared = TypeVar("Prepared")  # a chunk made ready for one kind of writer
Prepare = Callable[[Chunk, "int | None"], Prepared]


class MakeChunks(Protocol):
    """Makes a run's chunks, in order, each passed through ``prepare`` with the id of its
    first call (where the writer chooses ids)."""

    def __call__(self, prepare: Prepare[Prepared], first_id: int | None
                 ) -> Iterable[Prepared]: ...


class BulkWriter(Protocol):
    """Inserts chunks in the open transaction: every chunk that ``make`` makes."""

    def write_all(self, make: MakeChunks) -> None: ...


class _ChunkWriter(ABC, Generic[Prepared]):
    """``prepare`` is a function of a chunk and the id of its first call that pickles, so the
    producer process can run it; calling the writer inserts what ``prepare`` made."""

    first_id: int | None  # the id the next call gets, where the writer chooses ids
    prepare: Prepare[Prepared]

    def write_all(self, make: MakeChunks) -> None:
        for prepared in make(self.prepare, self.first_id):
            self(prepared)

    @abstractmethod
    def __call__(self, prepared: Prepared) -> None: ...


def bulk_writer(connection: sa.Connection) -> BulkWriter:
    """The fastest exact way to write chunks on this connection's database."""
    dialect = connection.dialect
    if dialect.name == "sqlite" and dialect.paramstyle == "qmark":
        return SqliteBulkWriter(connection)
    return server_writer(connection)


def server_writer(connection: sa.Connection) -> CoreBulkWriter:
    """The writer of a database server: COPY on PostgreSQL, Core inserts elsewhere."""
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        return PostgresCopyWriter(connection)
    return CoreBulkWriter(connection)


@dataclass
class CoreRows:
    """A chunk as rows; topic and outcome rows start with the index of their call."""

    call_columns: list[str]
    calls: list[tuple[CellValue, ...]]
    topics: list[tuple[int, str, bool]]
    outcomes: list[tuple[int, str, str]]


class CoreBulkWriter(_ChunkWriter[CoreRows]):
    """Writes with SQLAlchemy Core executemany: works on every database SQLAlchemy supports."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        self._insert_calls = CALL_TABLE.insert().returning(
            CALL_TABLE.c.id, sort_by_parameter_order=True)
        self.first_id: int | None = None  # the database gives the ids
        self.prepare = _core_rows

    def __call__(self, prepared: CoreRows) -> None:
        if not prepared.calls:
            return
        execute = self._connection.execute
        ids = execute(self._insert_calls, [dict(zip(prepared.call_columns, row, strict=True))
                                           for row in prepared.calls]).scalars().all()
        for table, names, child_rows in ((TOPIC_TABLE, TOPIC_COLUMNS, prepared.topics),
                                         (OUTCOME_TABLE, OUTCOME_COLUMNS, prepared.outcomes)):
            if child_rows:
                execute(table.insert(), [dict(zip(names, (ids[i], *rest), strict=True))
                                         for i, *rest in child_rows])


class PostgresCopyWriter(CoreBulkWriter):
    """Writes with PostgreSQL's COPY, ids drawn from the call sequence first: an INSERT of
    many rows spends most of its time in the driver splitting and binding parameters, and the
    write lock is held all the while (20,000 imported calls: about a minute; by COPY, a
    second). Values go as the models store them: datetimes as naive UTC."""

    def __call__(self, prepared: CoreRows) -> None:
        if not prepared.calls:
            return
        ids = [int(i) for i in self._connection.execute(sa.text(
            "SELECT nextval(pg_get_serial_sequence('call', 'id')) "
            "FROM generate_series(1, :n) ORDER BY 1"), {"n": len(prepared.calls)}).scalars()]
        self._copy(CALL_TABLE.name, ["id", *prepared.call_columns],
                   ((call_id, *row) for call_id, row in zip(ids, prepared.calls, strict=True)))
        self._copy(TOPIC_TABLE.name, TOPIC_COLUMNS,
                   ((ids[i], code, primary) for i, code, primary in prepared.topics))
        self._copy(OUTCOME_TABLE.name, OUTCOME_COLUMNS,
                   ((ids[i], outcome, to) for i, outcome, to in prepared.outcomes))

    def _copy(self, table: str, names: Sequence[str],
              rows: Iterable[tuple[CellValue, ...]]) -> None:
        quote = self._connection.dialect.identifier_preparer.quote
        columns = ", ".join(quote(name) for name in names)
        driver = cast("psycopg.Connection[tuple[object, ...]]",
                      self._connection.connection.driver_connection)
        sql = f"COPY {quote(table)} ({columns}) FROM STDIN"
        driver_error: type[Exception] = self._connection.dialect.loaded_dbapi.Error
        try:
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(tuple(_as_stored(value) for value in row))
        except driver_error as error:  # told as SQLAlchemy tells any failed statement
            raise sa.exc.DBAPIError.instance(sql, None, error, driver_error,
                                             hide_parameters=True) from error


def _as_stored(value: CellValue) -> CellValue:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _core_rows(chunk: Chunk, first_id: int | None) -> CoreRows:
    return CoreRows(list(chunk.calls), list(zip(*chunk.calls.values(), strict=True)),
                    chunk.topics, chunk.outcomes)


Statement = tuple[str, list[tuple[SqliteValue, ...]]]  # SQL, and the parameters of each execution


class SqliteBulkWriter(_ChunkWriter[list[Statement]]):
    """Writes through the driver, skipping SQLAlchemy's per-value processing (which would
    double the time of a million-call demo), with many rows per INSERT (which saves SQLite a
    statement per row). Values are written as SQLAlchemy's SQLite types write them: datetimes
    as 'YYYY-MM-DD HH:MM:SS.ffffff', dates as 'YYYY-MM-DD'. Ids are chosen here, safely: the
    write transaction holds the database's only write lock."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        last_id = connection.execute(sa.select(sa.func.max(CALL_TABLE.c.id))).scalar()
        self.first_id: int | None = (last_id or 0) + 1
        self.prepare = _sqlite_statements

    def __call__(self, prepared: list[Statement]) -> None:
        for sql, parameters in prepared:
            self._connection.exec_driver_sql(sql, parameters)


def _sqlite_statements(chunk: Chunk, first_id: int | None) -> list[Statement]:
    assert first_id is not None
    ids = range(first_id, first_id + len(chunk))
    texts: dict[datetime, str] = {}  # a call's end is also when it was saved: format once
    values = [_sqlite_values(name, column, texts) for name, column in chunk.calls.items()]
    tables = [(CALL_TABLE.name, ["id", *chunk.calls], list(zip(ids, *values, strict=True))),
              (TOPIC_TABLE.name, TOPIC_COLUMNS,
               [(first_id + i, *rest) for i, *rest in chunk.topics]),
              (OUTCOME_TABLE.name, OUTCOME_COLUMNS,
               [(first_id + i, *rest) for i, *rest in chunk.outcomes])]
    return [statement for table, names, rows in tables
            for statement in _statements(table, names, rows)]


def _statements(table: str, names: Sequence[str], rows: list[tuple[SqliteValue, ...]]
                ) -> list[Statement]:
    """INSERTs of as many rows each as ``SQLITE_MAX_VARIABLES`` allows, then one row at a time
    for the rest: two statements a table, however many chunks."""
    per_statement = max(1, SQLITE_MAX_VARIABLES // len(names))
    full = len(rows) - len(rows) % per_statement
    statements = []
    if full:
        statements.append((_insert_sql(table, names, per_statement), [
            tuple(chain.from_iterable(rows[i:i + per_statement]))
            for i in range(0, full, per_statement)]))
    if full < len(rows):
        statements.append((_insert_sql(table, names, 1), rows[full:]))
    return statements


def _insert_sql(table: str, names: Sequence[str], rows: int) -> str:
    quote = sqlite.dialect().identifier_preparer.quote
    one_row = f"({', '.join('?' * len(names))})"
    return (f"INSERT INTO {quote(table)} ({', '.join(map(quote, names))}) "
            f"VALUES {', '.join([one_row] * rows)}")


def _sqlite_values(name: str, values: list[CellValue], texts: dict[datetime, str]
                   ) -> list[SqliteValue]:
    column_type = CALL_TABLE.c[name].type
    if isinstance(column_type, UTCDateTime):
        # A UTC datetime's ISO form ends in "+00:00"; what precedes it is the stored text.
        return [None if v is None else texts[v] if v in texts else
                texts.setdefault(v, v.isoformat(" ", "microseconds")[:-6])
                for v in cast(list[datetime | None], values)]
    if isinstance(column_type, sa.Date):
        return [None if v is None else v.isoformat() for v in cast(list[date | None], values)]
    return cast(list[SqliteValue], values)  # the other columns hold text, numbers and flags


# --- prepared before the write lock ----------------------------------------------------------
# The import checks and prepares its rows before it takes the write lock, when the ids of its
# calls (and the worker, and the time of saving) are not known yet. Its statements leave them
# to numbered parameters that come first (?1 the id of the first call, then the values of the
# deferred columns), given when the statements run, in the write transaction.

DeferredStatement = tuple[str, tuple[str, ...], list[tuple[SqliteValue, ...]]]  # SQL, leading
# parameters by name ("id" and deferred call columns), the parameters of each execution


def deferred_statements(chunk: Chunk, first_index: int, deferred: Sequence[str]
                        ) -> list[DeferredStatement]:
    """The SQLite INSERTs of a chunk whose calls have no ids yet: a call's id is ?1 plus its
    index in the run (from ``first_index``), and the ``deferred`` call columns (left out of the
    chunk) take one value for every call, given by :func:`write_deferred`. Plain values (str,
    int, float, None) only, so the statements can be marshalled until they run."""
    texts: dict[datetime, str] = {}
    values = [_sqlite_values(name, column, texts) for name, column in chunk.calls.items()]
    indexes = range(first_index, first_index + len(chunk))
    leading = ("id", *deferred)
    tables = [(CALL_TABLE.name, [*deferred, *chunk.calls], leading,
               list(zip(indexes, *values, strict=True))),
              (TOPIC_TABLE.name, list(TOPIC_COLUMNS[1:]), ("id",),
               [(first_index + i, *rest) for i, *rest in chunk.topics]),
              (OUTCOME_TABLE.name, list(OUTCOME_COLUMNS[1:]), ("id",),
               [(first_index + i, *rest) for i, *rest in chunk.outcomes])]
    statements: list[DeferredStatement] = []
    for table, names, lead, rows in tables:
        id_name = "id" if table == CALL_TABLE.name else "call_id"
        width = len(rows[0]) if rows else 0  # the index, then the row's own values
        per_statement = max(1, (SQLITE_MAX_VARIABLES - len(lead)) // max(width, 1))
        full = len(rows) - len(rows) % per_statement
        for start, stop, count in ((0, full, per_statement), (full, len(rows), 1)):
            if start < stop:
                statements.append((
                    _deferred_sql(table, [id_name, *names], len(lead), width, count), lead,
                    [tuple(chain.from_iterable(rows[i:i + count]))
                     for i in range(start, stop, count)]))
    return statements


def _deferred_sql(table: str, names: Sequence[str], leading: int, width: int, rows: int
                  ) -> str:
    """INSERT of ``rows`` rows: the id ?1 + the row's index, the deferred columns ?2 ...,
    then the row's own values (``width`` parameters a row, the index first)."""
    quote = sqlite.dialect().identifier_preparer.quote
    deferred = [f"?{n}" for n in range(2, leading + 1)]
    groups = []
    for row in range(rows):
        first = leading + 1 + row * width
        own = [f"?{n}" for n in range(first + 1, first + width)]
        groups.append(f"(?1 + ?{first}, {', '.join([*deferred, *own])})")
    return (f"INSERT INTO {quote(table)} ({', '.join(map(quote, names))}) "
            f"VALUES {', '.join(groups)}")


def write_deferred(connection: sa.Connection, prepared: Iterable[list[DeferredStatement]],
                   values: dict[str, CellValue]) -> int:
    """Run :func:`deferred_statements` in the open write transaction, which holds SQLite's only
    write lock (so the ids chosen here stay free): ``values`` are the deferred columns'.
    Returns the id of the first call."""
    last_id = connection.execute(sa.select(sa.func.max(CALL_TABLE.c.id))).scalar()
    first_id = (last_id or 0) + 1
    texts: dict[datetime, str] = {}
    given = {name: _sqlite_values(name, [value], texts)[0] for name, value in values.items()}
    given["id"] = first_id
    for statements in prepared:
        for sql, lead, parameters in statements:
            head = tuple(given[name] for name in lead)
            connection.exec_driver_sql(sql, [head + p for p in parameters])
    return first_id
