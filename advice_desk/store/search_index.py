"""The search index over the notes and caller names of calls (made by migration 0004).

On SQLite it is the FTS5 external-content table :data:`SQLITE_TABLE`, kept in step by triggers;
on PostgreSQL the GIN expression index :data:`POSTGRESQL_INDEX` over :data:`POSTGRESQL_DOCUMENT`.
Neither is a model: :func:`in_models_schema` tells Alembic's comparison to leave them out.
:mod:`advice_desk.calls.search` asks it; erasure purges it (:func:`purge`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

SQLITE_TABLE = "call_search"
POSTGRESQL_INDEX = "ix_call_search"
# The indexed expression, written as the migration wrote it, so PostgreSQL uses the index.
POSTGRESQL_DOCUMENT = ("to_tsvector('simple'::regconfig, coalesce(\"call\".notes, '') || ' ' "
                       "|| coalesce(\"call\".caller_name, ''))")

# The SQLite index and the triggers that keep it in step, as migration 0004 made them (it
# creates them from here; a change to them needs a new revision). Every call has a row in the
# index (one with no text costs nothing), so the triggers need no condition and an
# external-content 'delete' always removes exactly what was inserted.
SQLITE_CREATE_TABLE = (
    f"CREATE VIRTUAL TABLE {SQLITE_TABLE} USING fts5(notes, caller_name, content='call', "
    "content_rowid='id', columnsize=0, tokenize='unicode61 remove_diacritics 2')")
SQLITE_TRIGGERS = {
    f"{SQLITE_TABLE}_insert":
        f"CREATE TRIGGER {SQLITE_TABLE}_insert AFTER INSERT ON call BEGIN "
        f"INSERT INTO {SQLITE_TABLE}(rowid, notes, caller_name) "
        "VALUES (new.id, new.notes, new.caller_name); END",
    f"{SQLITE_TABLE}_update":
        f"CREATE TRIGGER {SQLITE_TABLE}_update AFTER UPDATE OF notes, caller_name ON call BEGIN "
        f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, notes, caller_name) "
        "VALUES ('delete', old.id, old.notes, old.caller_name); "
        f"INSERT INTO {SQLITE_TABLE}(rowid, notes, caller_name) "
        "VALUES (new.id, new.notes, new.caller_name); END",
    f"{SQLITE_TABLE}_delete":
        f"CREATE TRIGGER {SQLITE_TABLE}_delete AFTER DELETE ON call BEGIN "
        f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, notes, caller_name) "
        "VALUES ('delete', old.id, old.notes, old.caller_name); END",
}


def in_models_schema(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name``: False for the search index and FTS5's own tables."""
    if type_ == "table" and name is not None:
        return not (name == SQLITE_TABLE or name.startswith(SQLITE_TABLE + "_"))
    return not (type_ == "index" and name == POSTGRESQL_INDEX)


def purge(connection: sa.Connection) -> None:
    """After text was erased (the triggers already 'delete'd it from the index): merge the
    index's segments so no page of it still holds the erased words. SQLite 3.40 has no FTS5
    secure-delete; with ``secure_delete`` on, the pages freed by the merge are zeroed. On
    PostgreSQL the VACUUM of :meth:`Store.purge_erased` clears the index too."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}) VALUES ('optimize')")


def create_triggers(connection: sa.Connection) -> None:
    """Create the SQLite triggers that keep the index in step with the calls."""
    for sql in SQLITE_TRIGGERS.values():
        connection.exec_driver_sql(sql)


def drop_triggers(connection: sa.Connection) -> None:
    for name in reversed(SQLITE_TRIGGERS):
        connection.exec_driver_sql(f"DROP TRIGGER {name}")


@contextmanager
def bulk_insert(connection: sa.Connection) -> Iterator[None]:
    """For inserting many calls (and only inserting) in the open write transaction: on SQLite
    the per-row triggers are dropped for the while and the new calls indexed in one statement
    at the end, which takes a fraction of the time. Without the triggers, an error inside rolls
    the whole transaction back, triggers' drop included. PostgreSQL keeps its index itself."""
    if connection.dialect.name != "sqlite":
        yield
        return
    last_id = connection.exec_driver_sql("SELECT max(id) FROM call").scalar() or 0
    drop_triggers(connection)
    yield
    create_triggers(connection)
    connection.exec_driver_sql(
        f"INSERT INTO {SQLITE_TABLE}(rowid, notes, caller_name) "
        "SELECT id, notes, caller_name FROM call WHERE id > ?", (last_id,))


def rebuild(connection: sa.Connection) -> None:
    """Build the SQLite index again from the calls, in one pass."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}) VALUES ('rebuild')")
