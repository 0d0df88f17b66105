"""Two connections that read one snapshot of the store, so that two threads can share a read.

A long read (the funder extract's) goes faster split over two connections read side by side:
the database works on both at once. The parts must still agree, call for call, so both read
transactions see the same committed state:

- SQLite (write-ahead log): a read transaction's snapshot is taken at its first read. Both
  first reads are made while a third connection holds the write lock (``BEGIN IMMEDIATE``), so
  no write can commit between them; the lock is let go at once. When the lock is not free
  within a moment (an import is writing) or the store is opened read-only, there is no second
  connection and the caller reads on one.
- PostgreSQL: the first transaction (repeatable read) exports its snapshot
  (``pg_export_snapshot``), and the second adopts it (``SET TRANSACTION SNAPSHOT``), as
  ``pg_dump --jobs`` does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from advice_desk.store.engine import Store
from advice_desk.store.engines import BUSY_TIMEOUT_S

LOCK_WAIT_MS = 250  # how long to wait for SQLite's write lock before reading on one connection


@dataclass(frozen=True)
class Readers:
    """``first`` and, when the store allowed it, ``second``, in one snapshot."""

    first: sa.Connection
    second: sa.Connection | None


@contextmanager
def paired_readers(store: Store) -> Iterator[Readers]:
    """Two connections in read transactions of one snapshot (or one, see the module's note);
    their transactions end with the block."""
    with ExitStack() as stack:
        if store.is_sqlite:
            yield _sqlite_pair(store, stack)
        else:
            yield _server_pair(store, stack)


def _reading(store: Store, stack: ExitStack, **options: str) -> sa.Connection:
    connection = stack.enter_context(store.engine.connect().execution_options(**options))
    stack.enter_context(connection.begin())
    return connection


def _sqlite_pair(store: Store, stack: ExitStack) -> Readers:
    first = _reading(store, stack)
    lock = store.engine.raw_connection()
    try:
        cursor = lock.cursor()
        cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # busy, or a store opened read-only
            _started(first)
            return Readers(first, None)
        try:
            second = _reading(store, stack)
            _started(first)
            _started(second)
        finally:
            cursor.execute("ROLLBACK")
    finally:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.close()
        lock.close()
    return Readers(first, second)


def _started(connection: sa.Connection) -> None:
    """Make the read transaction take its snapshot now (SQLite takes it at the first read)."""
    connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()


def _server_pair(store: Store, stack: ExitStack) -> Readers:
    first = _reading(store, stack, isolation_level="REPEATABLE READ")
    snapshot = first.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    second = _reading(store, stack, isolation_level="REPEATABLE READ")
    second.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
    return Readers(first, second)
