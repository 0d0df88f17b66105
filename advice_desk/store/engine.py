"""Opening a store: engine set-up, migrations, and short sessions for reads and writes.

On SQLite the store is a single file in WAL mode with ``synchronous=FULL``, foreign keys on and a
busy timeout, and every write transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock
up front, so two copies of the app on one PC queue for it instead of failing with "database is
locked" half-way through a transaction. Nothing outside :func:`_create_engine` knows it is SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, select

from advice_desk.clock import Clock, SystemClock, to_uk
from advice_desk.paths import PASSWORD_ADVICE, Location
from advice_desk.reference.lists import default_topics
from advice_desk.store.models import Topic

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30
# The PostgreSQL advisory lock every write transaction holds, so writers queue one at a time
# as SQLite's BEGIN IMMEDIATE makes them (readers never wait: both engines read snapshots).
WRITE_LOCK_KEY = 0x4164_6B21


class StoreError(Exception):
    """The store cannot be opened; the message says why and what to do."""


class Store:
    """An open store. Each read or write is one short session (``expire_on_commit=False``)."""

    def __init__(self, engine: sa.Engine, location: Location) -> None:
        self.engine = engine
        self.location = location
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

    def close(self) -> None:
        self.engine.dispose()


def open_store(location: Location, clock: Clock | None = None) -> Store:
    """Open (creating or upgrading as needed) the store at ``location``."""
    clock = clock or SystemClock()
    if location.url_has_password:
        raise StoreError(f"the database URL {location.shown} holds a password: "
                         f"{PASSWORD_ADVICE}")
    try:
        if location.sqlite_file is not None:
            location.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_open(location, exc) from exc
    engine = _create_engine(location.database_url)
    store = Store(engine, location)
    try:
        _migrate(store, clock)
        _seed_taxonomy(store)
    except sa.exc.DatabaseError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the store {location.shown}: {exc.orig}") from exc
    except StoreError:
        engine.dispose()
        raise
    except OSError as exc:  # the backup before a migration could not be written
        engine.dispose()
        raise _cannot_open(location, exc) from exc
    return store


def _cannot_open(location: Location, error: OSError) -> StoreError:
    """A folder that is a file, or may not be written: said as the store's problem."""
    return StoreError(f"cannot open the store {location.shown}: {error.strerror or error}")


def _create_engine(url: str) -> sa.Engine:
    if not url.startswith("sqlite"):
        return _server_engine(url)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, hide_parameters=True)

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module, so BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Erased personal data is overwritten with zeros, not merely marked free (PRODUCT §7).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        writing = connection.get_execution_options().get("writing", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def _server_engine(url: str) -> sa.Engine:
    """A database server (PostgreSQL): every write transaction first takes the write lock."""
    engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get("writing", False):
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    return engine


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def schema_head() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no Alembic revisions shipped"
    return head


def current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _migrate(store: Store, clock: Clock) -> None:
    script = ScriptDirectory.from_config(_alembic_config())
    head = schema_head()
    with store.engine.connect() as connection:
        current = current_revision(connection)
        has_tables = bool(sa.inspect(connection).get_table_names())
    if current == head:
        return
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise StoreError(
            f"the store {store.location.shown} was written by a newer version of "
            f"Advice Desk (schema {current}); install that version or newer to open it"
        )
    if has_tables:
        backup_before_migration(store, current or "unversioned", clock)
    with store.raw_write() as connection:
        # Checked again under the write lock: another copy of the app may have just migrated.
        if current_revision(connection) != head:
            command.upgrade(_alembic_config(connection), "head")


def backup_before_migration(store: Store, revision: str, clock: Clock) -> Path | None:
    """Copy the SQLite file aside before its schema changes, with SQLite's online backup API."""
    source_file = store.location.sqlite_file
    if source_file is None:
        return None  # a server database is backed up by its own tools
    stamp = to_uk(clock.now()).strftime("%Y%m%d-%H%M%S")
    target = store.location.backup_dir / f"before-migration-{revision}-{stamp}.sqlite3"
    target.parent.mkdir(parents=True, exist_ok=True)
    source, copy = sqlite3.connect(source_file), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


def _seed_taxonomy(store: Store) -> None:
    with store.write() as session:
        if session.exec(select(Topic.code).limit(1)).first() is not None:
            return
        session.add_all(
            Topic(code=t.code, parent_code=t.parent_code, label=t.label, position=t.position)
            for t in default_topics()
        )

