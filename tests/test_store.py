"""The store: creation and migration, SQLite settings, write locking, refusals, backups.

Every test runs on a real SQLite file in its own tmp_path and on a fresh database of the
session's PostgreSQL server (the ``location`` fixture); the tests of the SQLite file itself
(its pragmas, WAL, the backup API, its bytes) run on SQLite alone.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from advice_desk.calls.service import Calls
from advice_desk.clock import FixedClock
from advice_desk.paths import DATABASE_URL_ENV, Location
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.reference.lists import default_topics
from advice_desk.store.engine import Store, StoreError, open_store
from advice_desk.store.engines import BUSY_TIMEOUT_S, WRITE_LOCK_KEY
from advice_desk.store.models import Call, CallTopic, Topic, User
from advice_desk.store.schema import backup_before_migration, current_revision, schema_head
from tests.factories import a_call


def revision_in_file(path: Path) -> str:
    with sqlite3.connect(path) as db:
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    db.close()
    return revision


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- creation and migration ----------------------------------------------------------------

def test_a_new_store_is_created_at_the_head_revision(store: Store) -> None:
    with store.engine.connect() as connection:
        assert current_revision(connection) == schema_head()
        tables = set(sa.inspect(connection).get_table_names())
    assert {"app_user", "topic", "call", "call_topic", "call_outcome", "setting", "draft",
            "alembic_version"} <= tables


@pytest.mark.sqlite_only("the SQLite file itself: it exists and records the revision")
def test_a_new_sqlite_store_is_a_file_at_the_head_revision(store: Store,
                                                           location: Location) -> None:
    assert location.sqlite_file is not None and location.sqlite_file.is_file()
    assert revision_in_file(location.sqlite_file) == schema_head()


def test_a_new_store_is_seeded_with_the_default_taxonomy(store: Store) -> None:
    with store.read() as session:
        codes = list(session.exec(select(Topic.code)))
    assert sorted(codes) == sorted(t.code for t in default_topics())


def test_a_new_store_needs_no_backup(store: Store, location: Location) -> None:
    assert not location.backup_dir.exists()


def test_reopening_a_store_changes_nothing(location: Location, clock: FixedClock) -> None:
    first = open_store(location, clock)
    worker = get_or_create_user(first, "amy", clock)
    assert worker.id is not None
    call_id = Calls(first, actor_of(worker), clock).log(a_call(clock))
    first.close()
    before = file_digest(location.sqlite_file) if location.sqlite_file is not None else None

    again = open_store(location, clock)
    try:
        with again.read() as session:
            assert session.get(Call, call_id) is not None
            topics = session.exec(select(func.count()).select_from(Topic)).one()
            assert current_revision(session.connection()) == schema_head()
    finally:
        again.close()
    assert topics == len(default_topics())  # not seeded twice
    assert not location.backup_dir.exists()  # nothing to migrate, so nothing backed up
    if location.sqlite_file is not None:
        assert file_digest(location.sqlite_file) == before


# --- SQLite settings -----------------------------------------------------------------------

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL
    "foreign_keys": 1,
    "busy_timeout": BUSY_TIMEOUT_S * 1000,
}


def _pragmas(connection: sa.Connection) -> dict[str, object]:
    return {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in PRAGMAS}


@pytest.mark.sqlite_only("SQLite's pragmas, set on every connection to the file")
def test_every_connection_has_the_pragmas(store: Store) -> None:
    assert BUSY_TIMEOUT_S >= 5
    # Several connections at once, so the pool really opens more than one.
    with store.engine.connect() as one, store.engine.connect() as two:
        assert _pragmas(one) == PRAGMAS
        assert _pragmas(two) == PRAGMAS
    with store.raw_write() as connection:
        assert _pragmas(connection) == PRAGMAS
    with store.write() as session:
        assert _pragmas(session.connection()) == PRAGMAS
    with store.read() as session:
        assert _pragmas(session.connection()) == PRAGMAS


@pytest.mark.sqlite_only("the SQLite file's journal mode (WAL)")
def test_the_database_file_is_in_wal_mode(store: Store, location: Location) -> None:
    assert location.sqlite_file is not None
    with sqlite3.connect(location.sqlite_file) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_foreign_keys_are_enforced(store: Store, worker: User, clock: FixedClock) -> None:
    call_id = Calls(store, actor_of(worker), clock).log(a_call(clock))
    with pytest.raises(sa.exc.IntegrityError), store.write() as session:
        session.add(CallTopic(call_id=call_id, topic_code="no-such-topic"))


# --- write transactions --------------------------------------------------------------------

class WriteLockProbe:
    """Asks, from a second connection that never waits, whether the write lock is free now:
    on SQLite whether a ``BEGIN IMMEDIATE`` succeeds, on PostgreSQL whether the advisory lock
    every write transaction holds (``WRITE_LOCK_KEY``) can be taken."""

    def __init__(self, location: Location) -> None:
        self.sqlite: sqlite3.Connection | None = None
        self.server: sa.Connection | None = None
        if location.sqlite_file is not None:
            self.sqlite = sqlite3.connect(location.sqlite_file, timeout=0, isolation_level=None)
        else:
            self._engine = sa.create_engine(location.database_url)
            self.server = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def lock_is_free(self) -> bool:
        if self.sqlite is not None:
            try:
                self.sqlite.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)
                return False
            self.sqlite.execute("ROLLBACK")
            return True
        assert self.server is not None
        # In autocommit the statement is its own transaction: a lock taken is released at once.
        taken = self.server.exec_driver_sql(
            f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK_KEY})").scalar()
        return bool(taken)

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.server is not None:
            self.server.close()
            self._engine.dispose()


@pytest.fixture
def other_connection(location: Location) -> Iterator[WriteLockProbe]:
    """A second connection to the same store that never waits for the write lock."""
    probe = WriteLockProbe(location)
    yield probe
    probe.close()


def test_a_write_session_takes_the_write_lock_when_it_begins(
        store: Store, other_connection: WriteLockProbe) -> None:
    assert other_connection.lock_is_free()
    with store.write() as session:
        # Only a read so far: a deferred BEGIN would hold no write lock yet.
        assert session.exec(select(Topic.code).limit(1)).first() is not None
        assert not other_connection.lock_is_free()
    assert other_connection.lock_is_free()


def test_a_raw_write_takes_the_write_lock_before_any_statement(
        store: Store, other_connection: WriteLockProbe) -> None:
    with store.raw_write():
        assert not other_connection.lock_is_free()
    assert other_connection.lock_is_free()


def test_a_read_session_does_not_block_writers(
        store: Store, other_connection: WriteLockProbe) -> None:
    with store.read() as session:
        assert session.exec(select(Topic.code).limit(1)).first() is not None
        assert other_connection.lock_is_free()


def test_a_failed_write_is_rolled_back(store: Store, clock: FixedClock) -> None:
    with pytest.raises(RuntimeError, match="half-way"), store.write() as session:
        session.add(User(username="ghost", display_name="Ghost", role="worker",
                         created_at=clock.now()))
        session.flush()
        raise RuntimeError("half-way")
    with store.read() as session:
        assert session.exec(select(User).where(User.username == "ghost")).first() is None


# --- refusals ------------------------------------------------------------------------------

def _stored_revision(location: Location) -> str:
    engine = sa.create_engine(location.database_url)
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SELECT version_num FROM alembic_version")
                       .scalar_one())
    finally:
        engine.dispose()


def test_a_store_from_a_newer_version_is_refused(location: Location, clock: FixedClock) -> None:
    open_store(location, clock).close()
    engine = sa.create_engine(location.database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    engine.dispose()
    before = file_digest(location.sqlite_file) if location.sqlite_file is not None else None

    with pytest.raises(StoreError, match="newer version") as caught:
        open_store(location, clock)
    assert location.shown in str(caught.value)
    assert "f00dfeedbeef" in str(caught.value)
    assert _stored_revision(location) == "f00dfeedbeef"  # left alone
    assert not location.backup_dir.exists()
    if location.sqlite_file is not None:
        assert file_digest(location.sqlite_file) == before  # not a byte changed


@pytest.mark.sqlite_only("a file in place of the SQLite database")
def test_a_file_that_is_not_a_database_is_refused(location: Location, clock: FixedClock) -> None:
    assert location.sqlite_file is not None
    location.sqlite_file.parent.mkdir(parents=True)
    location.sqlite_file.write_bytes(b"Date,Caller,Topic\n2026-01-05,Jo,benefits\n" * 200)
    with pytest.raises(StoreError) as caught:
        open_store(location, clock)
    message = str(caught.value)
    assert str(location.sqlite_file) in message
    assert "not a database" in message


# --- backups -------------------------------------------------------------------------------

@pytest.mark.sqlite_only("SQLite's online backup API; a server is backed up by its own tools")
def test_backup_before_migration_writes_a_readable_copy(
        store: Store, worker: User, location: Location, clock: FixedClock) -> None:
    Calls(store, actor_of(worker), clock).log(a_call(clock, notes="kept in the backup"))
    backup = backup_before_migration(store, "0001", clock)

    assert backup is not None and backup.is_file()
    assert backup.parent == location.backup_dir
    assert "0001" in backup.name and "20261123-101500" in backup.name  # UK time of the clock
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT notes FROM call").fetchall() == [("kept in the backup",)]
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (
            schema_head(),)
    copy.close()


# --- two processes at once -----------------------------------------------------------------

CALLS_PER_PROCESS = 500

WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta

    from advice_desk.calls.record import CallDetails
    from advice_desk.calls.service import Calls
    from advice_desk.clock import UK, FixedClock
    from advice_desk.paths import resolve_location
    from advice_desk.people.permissions import Actor, Role
    from advice_desk.store.engine import open_store

    # The store: the data folder here, the database URL (if a server) in the environment.
    data_dir, worker_id, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    clock = FixedClock(datetime(2026, 11, 23, 10, 15, tzinfo=UK))
    store = open_store(resolve_location(data_dir), clock)
    calls = Calls(store, Actor(worker_id, "worker", "worker", Role.WORKER), clock)
    for i in range(count):
        if i in (0, count // 2):
            # Both processes write each half together: their saves contend for the store.
            print("ready", flush=True)
            sys.stdin.readline()
        start = clock.now() - timedelta(hours=8, seconds=-i)
        calls.log(CallDetails(
            started_at=start, ended_at=start + timedelta(minutes=5),
            caller_type="grandparent", arrangement="sgo",
            topics=("financial.allowances", "legal.sgo"), outcomes=("advice",),
            notes=f"call {i} of worker {worker_id}"))
    store.close()
    print("done", flush=True)
""")


@pytest.mark.slow
def test_two_processes_logging_at_once_lose_nothing(
        location: Location, clock: FixedClock) -> None:
    store = open_store(location, clock)
    workers = [get_or_create_user(store, name, clock).id for name in ("amy", "bob")]
    store.close()

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(location.data_dir), str(worker_id),
             str(CALLS_PER_PROCESS)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONFAULTHANDLER": "1",
                 DATABASE_URL_ENV: location.database_url})
        for worker_id in workers
    ]
    try:
        for _half in range(2):
            for writer in writers:
                assert writer.stdout is not None
                assert writer.stdout.readline() == "ready\n"
            for writer in writers:
                assert writer.stdin is not None
                writer.stdin.write("go\n")
                writer.stdin.flush()  # communicate() closes it
        outputs = [writer.communicate(timeout=240) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()

    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert out == "done\n"
        assert "locked" not in err

    store = open_store(location, clock)
    try:
        with store.read() as session:
            ids = {worker_id: list(session.exec(
                select(Call.id).where(Call.worker_id == worker_id).order_by(Call.id)))
                for worker_id in workers}
            topic_rows = session.exec(select(func.count()).select_from(CallTopic)).one()
            if store.is_sqlite:
                integrity = session.connection().exec_driver_sql(
                    "PRAGMA integrity_check").scalar()
                assert integrity == "ok"
    finally:
        store.close()
    assert [len(found) for found in ids.values()] == [CALLS_PER_PROCESS] * 2
    assert topic_rows == 2 * 2 * CALLS_PER_PROCESS
    amy, bob = ids.values()
    # Neither finished its second half before the other began its first: the halves interleave.
    assert amy[0] < bob[-1] and bob[0] < amy[-1]
