"""Opening a store: engine set-up, migrations, and short sessions for reads and writes.

On SQLite the store is a single file in WAL mode with ``synchronous=FULL``, foreign keys on and a
busy timeout, and every write transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock
up front, so two copies of the app on one PC queue for it instead of failing with "database is
locked" half-way through a transaction. Nothing outside
:func:`advice_desk.store.engines.create_engine` knows it is SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from advice_desk.clock import Clock, SystemClock
from advice_desk.paths import PASSWORD_ADVICE, Location
from advice_desk.reference.lists import default_topics
from advice_desk.store.claim import StoreClaim
from advice_desk.store.engines import create_engine, read_only_engine
from advice_desk.store.errors import (
    NetworkDrive,
    Notice,
    StoreDamaged,
    StoreError,
    StoreReadOnly,
)
from advice_desk.store.integrity import CheckResult
from advice_desk.store.models import Topic
from advice_desk.store.schema import current_revision, migrate, schema_head
from advice_desk.store.store_file import cannot_open, cannot_write, prepare_file, prepare_reading

__all__ = ["NetworkDrive", "Notice", "Store", "StoreDamaged", "StoreError", "StoreReadOnly",
           "open_store"]


class Store:
    """An open store. Each read or write is one short session (``expire_on_commit=False``)."""

    def __init__(self, engine: sa.Engine, location: Location,
                 notices: list[Notice] | None = None, claim: StoreClaim | None = None) -> None:
        self.engine = engine
        self.location = location
        self.claim = claim  # held while the store is open: no restore swaps it meanwhile
        self.read_only = False  # opened for reading only (a store this account may not write)
        # What the opening did that whoever opened the store should hear of, once.
        self.notices: list[Notice] = list(notices or [])
        self._write_engine = engine.execution_options(writing=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on error."""
        with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def raw_write(self) -> Iterator[sa.Connection]:
        """A Core connection in one write transaction, for bulk inserts."""
        with self._write_engine.begin() as connection:
            yield connection

    def purge_erased(self) -> None:
        """After an erasure, make sure no old copy of the erased data lingers beside the
        database: on SQLite, checkpoint the write-ahead log into the file and truncate it (with
        ``secure_delete`` on, the erased values were already zeroed in the pages written). On
        PostgreSQL, VACUUM the calls so the old row versions leave the table; the server's
        write-ahead log and backups are its administrator's to keep (see the README)."""
        if not self.is_sqlite:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql('VACUUM "call"')
            return
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()

    def check_tables(self) -> CheckResult:
        """The cheap check of a server store: every table of the schema is there. (The server
        checks its own pages; SQLite's file is checked by :mod:`advice_desk.store.integrity`.)"""
        started = time.perf_counter()
        with self.engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names())
        missing = sorted(set(SQLModel.metadata.tables) - present)
        return CheckResult(tuple(f"the table {name} is missing" for name in missing),
                           time.perf_counter() - started)

    def close(self) -> None:
        self.engine.dispose()
        if self.claim is not None:
            self.claim.release()


def open_store(location: Location, clock: Clock | None = None, *,
               reading: bool = False) -> Store:
    """Open (creating or upgrading as needed) the store at ``location``. ``reading``: the
    caller only reads (a report, the hours, a check), so a SQLite store this account may not
    write is opened read-only rather than refused (it is never upgraded nor written)."""
    clock = clock or SystemClock()
    if location.url_has_password:
        raise StoreError(f"the database URL {location.shown} holds a password: "
                         f"{PASSWORD_ADVICE}")
    notices: list[Notice] = []
    claim, read_only = None, False
    if location.sqlite_file is not None:
        if reading and cannot_write(location.sqlite_file):
            claim, read_only = prepare_reading(location, location.sqlite_file), True
        else:
            claim = prepare_file(location, location.sqlite_file, notices)
    try:
        engine = (read_only_engine(location.sqlite_file) if read_only and location.sqlite_file
                  else create_engine(location.database_url))
    except BaseException:
        if claim is not None:
            claim.release()
        raise
    store = Store(engine, location, notices, claim)
    if read_only:
        store.read_only = True
        with _closed_on_failure(store):
            _refuse_an_old_schema(store)
        return store
    with _closed_on_failure(store):
        if not store.is_sqlite:
            _refuse_read_only_server(store, before_migrating=True)
        migrate(store, clock)
        if not store.is_sqlite:
            _refuse_read_only_server(store, before_migrating=False)
        _seed_taxonomy(store)
    return store


@contextmanager
def _closed_on_failure(store: Store) -> Iterator[None]:
    """A store that failed while being opened is closed (its claim released) and the failure
    told as a one-line :class:`StoreError`."""
    try:
        yield
    except sa.exc.DatabaseError as exc:
        store.close()
        raise StoreError(f"cannot open the store {store.location.shown}: {exc.orig}") from exc
    except StoreError:
        store.close()
        raise
    except OSError as exc:  # the backup before a migration could not be written
        store.close()
        raise cannot_open(store.location, exc) from exc


def _refuse_an_old_schema(store: Store) -> None:
    """A read-only store of an older schema cannot be upgraded: said so."""
    with store.engine.connect() as connection:
        current = current_revision(connection)
    if current != schema_head():
        raise StoreReadOnly(
            f"the store {store.location.shown} is read-only for this account and was written "
            f"by another version of Advice Desk (schema {current or 'none'}), so it cannot be "
            "upgraded to be read; ask whoever looks after this PC to give this account write "
            "access to it")


def _refuse_read_only_server(store: Store, *, before_migrating: bool) -> None:
    """A read-only server (a standby, or read-only transactions), or an account that may not
    add calls: said at once rather than at the first save."""
    with store.engine.connect() as connection:
        if before_migrating:
            read_only = connection.exec_driver_sql(
                "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
            ).scalar()
        else:
            read_only = not connection.exec_driver_sql(
                "SELECT has_table_privilege('\"call\"', 'INSERT')").scalar()
    if read_only:
        raise StoreReadOnly(
            f"the store {store.location.shown} is read-only for this account, so no call could "
            "be saved; ask the server's administrator for write access")


def _seed_taxonomy(store: Store) -> None:
    with store.write() as session:
        if session.exec(select(Topic.code).limit(1)).first() is not None:
            return
        session.add_all(
            Topic(code=t.code, parent_code=t.parent_code, label=t.label, position=t.position)
            for t in default_topics()
        )
