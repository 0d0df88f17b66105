"""Opening a store: engine set-up, migrations, and short sessions for reads and writes.

On SQLite the store is a single file in WAL mode with ``synchronous=FULL``, foreign keys on and a
busy timeout, and every write transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock
up front, so two copies of the app on one PC queue for it instead of failing with "database is
locked" half-way through a transaction. Nothing outside :func:`_create_engine` knows it is SQLite.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, SQLModel, select

from advice_desk.clock import Clock, SystemClock, to_uk
from advice_desk.paths import PASSWORD_ADVICE, Location
from advice_desk.reference.lists import default_topics
from advice_desk.store import integrity, modes
from advice_desk.store.claim import StoreClaim
from advice_desk.store.errors import (
    NetworkDrive,
    Notice,
    StoreDamaged,
    StoreError,
    StoreReadOnly,
)
from advice_desk.store.integrity import CheckResult
from advice_desk.store.models import Topic
from advice_desk.store.mounts import network_drive_of

__all__ = ["NetworkDrive", "Notice", "Store", "StoreDamaged", "StoreError", "StoreReadOnly",
           "open_store"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30
# The PostgreSQL advisory lock every write transaction holds, so writers queue one at a time
# as SQLite's BEGIN IMMEDIATE makes them (readers never wait: both engines read snapshots).
WRITE_LOCK_KEY = 0x4164_6B21
SERVER_ADVICE = ("for several PCs, use a database server (PostgreSQL) with --database-url; "
                 "see the README")


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
        if reading and _cannot_write(location.sqlite_file):
            claim, read_only = _prepare_reading(location, location.sqlite_file), True
        else:
            claim = _prepare_file(location, location.sqlite_file, notices)
    try:
        engine = (read_only_engine(location.sqlite_file) if read_only and location.sqlite_file
                  else _create_engine(location.database_url))
    except BaseException:
        if claim is not None:
            claim.release()
        raise
    store = Store(engine, location, notices, claim)
    if read_only:
        store.read_only = True
        try:
            _refuse_an_old_schema(store)
        except sa.exc.DatabaseError as exc:
            store.close()
            raise StoreError(f"cannot open the store {location.shown}: {exc.orig}") from exc
        except StoreError:
            store.close()
            raise
        return store
    try:
        if not store.is_sqlite:
            _refuse_read_only_server(store, before_migrating=True)
        _migrate(store, clock)
        if not store.is_sqlite:
            _refuse_read_only_server(store, before_migrating=False)
        _seed_taxonomy(store)
    except sa.exc.DatabaseError as exc:
        store.close()
        raise StoreError(f"cannot open the store {location.shown}: {exc.orig}") from exc
    except StoreError:
        store.close()
        raise
    except OSError as exc:  # the backup before a migration could not be written
        store.close()
        raise _cannot_open(location, exc) from exc
    return store


def _prepare_file(location: Location, path: Path, notices: list[Notice]) -> StoreClaim:
    """Before SQLite touches the file: refuse a network drive, a file that is not a store, a
    store this account may not write and a damaged one; make the folder and files private
    (tightening those of an older store, with a notice), and create a new store's file 0600,
    so its -wal and -shm files are made 0600 too (SQLite gives them the database's mode)."""
    folder = path.parent
    drive = network_drive_of(_nearest_existing(folder))
    if drive is not None:
        raise NetworkDrive(
            f"the store {path} is on {_drive_name(drive)}: SQLite's locking cannot be trusted "
            f"there, and two PCs writing one file can damage it; keep the store on this PC's "
            f"own disk, or, {SERVER_ADVICE}")
    integrity.refuse_foreign_file(location)
    existed = path.exists()
    if existed and not os.access(path, os.W_OK):
        raise _read_only(path, path)
    loose = [folder, path, *_beside(path), location.backup_dir,
             *integrity.backups_newest_first(location),
             location.data_dir / integrity.LAST_FULL_CHECK]
    if existed and modes.tighten(loose):
        notices.append(Notice.MODES_TIGHTENED)
    try:
        modes.private_folder(folder)
    except OSError as exc:
        if folder.exists() and not os.access(folder, os.W_OK):
            raise _read_only(path, folder) from exc
        raise _cannot_open(location, exc) from exc
    if not os.access(folder, os.W_OK):
        raise _read_only(path, folder)
    claim = StoreClaim.take(path)  # before anything reads it: a restore may be under way
    try:
        if existed:
            integrity.quick_check(location)
            tables = integrity.foreign_tables(path)
            if tables:
                integrity.refuse_foreign_tables(location, tables)
        else:
            try:
                _create_store_file(path)
            except (OSError, sqlite3.Error) as exc:
                raise _cannot_open(location, OSError(str(exc))) from exc
    except BaseException:
        claim.release()
        raise
    return claim


def _cannot_write(path: Path) -> bool:
    """An existing store file that this account may not write, or whose folder it may not
    write (SQLite writes its -wal beside the file)."""
    return path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def _prepare_reading(location: Location, path: Path) -> StoreClaim:
    """A store this account may only read, to be read: not a network drive, a store, whole."""
    drive = network_drive_of(_nearest_existing(path.parent))
    if drive is not None:
        raise NetworkDrive(f"the store {path} is on {_drive_name(drive)}; {SERVER_ADVICE}")
    integrity.refuse_foreign_file(location)
    claim = StoreClaim.take(path)
    try:
        integrity.quick_check(location)
        tables = integrity.foreign_tables(path)
        if tables:
            integrity.refuse_foreign_tables(location, tables)
    except BaseException:
        claim.release()
        raise
    return claim


def read_only_engine(path: Path) -> sa.Engine:
    """An engine that only reads the file. In a folder this account may not write, with no
    write-ahead log beside the file (so the file holds every change), SQLite cannot make the
    shared-memory file it needs: the file is then read as immutable."""
    log = path.with_name(path.name + "-wal")
    immutable = not os.access(path.parent, os.W_OK) and not (log.exists()
                                                             and log.stat().st_size > 0)
    options = "mode=ro&immutable=1" if immutable else "mode=ro"
    engine = sa.create_engine(f"sqlite:///{path.resolve().as_uri()}?{options}&uri=true",
                              connect_args={"timeout": BUSY_TIMEOUT_S}, hide_parameters=True)

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    _begin_immediate_for_writes(engine)
    return engine


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


def _create_store_file(path: Path) -> None:
    """A new store's file, mode 0600, appearing whole: made under a name of this process's
    own, in WAL mode (so it is never empty), then linked into place. A process killed half-way
    leaves no empty store behind, and of two copies of the app starting a new store at once,
    the second uses the file of the first."""
    part = path.with_name(f"{path.name}.new-{os.getpid()}")
    part.unlink(missing_ok=True)
    modes.create_private_file(part)
    try:
        connection = sqlite3.connect(part)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            connection.close()
        try:
            os.link(part, path)
        except FileExistsError:
            pass  # another copy of the app made it first: that one is used
        except OSError:  # a file system without hard links (FAT on a USB stick)
            if not path.exists():
                part.replace(path)
    finally:
        part.unlink(missing_ok=True)


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def _drive_name(drive: str) -> str:
    return drive if drive.startswith("a ") else f"a network drive ({drive})"


def _beside(path: Path) -> list[Path]:
    """SQLite's write-ahead log and shared-memory index beside the store's file."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def _read_only(path: Path, unwritable: Path) -> StoreReadOnly:
    what = "the file" if unwritable == path else "its folder"
    return StoreReadOnly(
        f"the store {path} is read-only for this account ({what} may not be written), so no "
        f"call could be saved; ask whoever looks after this PC to give this account write "
        f"access to {unwritable}")


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

    _begin_immediate_for_writes(engine)
    return engine


def _begin_immediate_for_writes(engine: sa.Engine) -> None:
    """Every transaction is begun by us: a write one with ``BEGIN IMMEDIATE``, which takes
    SQLite's write lock up front so writers queue instead of failing half-way."""
    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        writing = connection.get_execution_options().get("writing", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


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
    if current is None and has_tables:
        with store.engine.connect() as connection:
            integrity.refuse_foreign_tables(store.location,
                                            sa.inspect(connection).get_table_names())
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
    modes.private_folder(target.parent)
    modes.create_private_file(target)
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

