"""The engines a store runs on: SQLite's pragmas and ``BEGIN IMMEDIATE``, the server's lock."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import ConnectionPoolEntry

BUSY_TIMEOUT_S = 30
# The PostgreSQL advisory lock every write transaction holds, so writers queue one at a time
# as SQLite's BEGIN IMMEDIATE makes them (readers never wait: both engines read snapshots).
WRITE_LOCK_KEY = 0x4164_6B21


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


def create_engine(url: str) -> sa.Engine:
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
