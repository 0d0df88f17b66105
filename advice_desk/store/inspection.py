"""What a store holds, read without changing or upgrading it: its schema revision, its tables
and the supervisors who can sign in. ``setup`` and ``connect`` decide from it what to do (build
a schema, refuse a database that is not ours, say a store is ready) before anything is
written.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from advice_desk.paths import Location
from advice_desk.store.schema import current_revision


@dataclass(frozen=True)
class Found:
    revision: str | None
    tables: frozenset[str]
    supervisors: tuple[str, ...]  # user names of the supervisors who can sign in


class UnknownDriver(Exception):
    """The URL names a database driver that is not installed or not known."""


def look_at(location: Location) -> Found | None:
    """What the store holds now; None for a SQLite file that cannot be read here (opening it
    says why). A server that cannot be reached raises the driver's error
    (``sqlalchemy.exc.DBAPIError``), for the caller to explain."""
    sqlite_file = location.sqlite_file
    if sqlite_file is not None:
        if not sqlite_file.exists():
            return Found(None, frozenset(), ())
        url = f"sqlite:///{sqlite_file.resolve().as_uri()}?mode=ro&uri=true"
    else:
        url = location.database_url
    try:
        engine = sa.create_engine(url, hide_parameters=True)
    except (ImportError, sa.exc.ArgumentError) as error:  # e.g. +psycopg2, not installed
        raise UnknownDriver(location.shown) from error
    try:
        with engine.connect() as connection:
            return _found_in(connection)
    except sa.exc.DBAPIError:
        if sqlite_file is not None:
            return None
        raise
    finally:
        engine.dispose()


def _found_in(connection: sa.Connection) -> Found:
    tables = frozenset(sa.inspect(connection).get_table_names())
    revision = current_revision(connection) if "alembic_version" in tables else None
    supervisors: tuple[str, ...] = ()
    if "app_user" in tables:
        supervisors = tuple(connection.execute(sa.text(
            "SELECT username FROM app_user WHERE role = 'supervisor' AND active = :yes "
            "AND password_hash IS NOT NULL ORDER BY id"), {"yes": True}).scalars())
    return Found(revision, tables, supervisors)
