"""The search index over the notes and caller names of calls (made by migration 0004).

On SQLite it is the FTS5 external-content table :data:`SQLITE_TABLE`, kept in step by triggers;
on PostgreSQL the GIN expression index :data:`POSTGRESQL_INDEX` over :data:`POSTGRESQL_DOCUMENT`.
Neither is a model: :func:`in_models_schema` tells Alembic's comparison to leave them out.
:mod:`advice_desk.calls.search` asks it; erasure purges it (:func:`purge`).
"""

from __future__ import annotations

import sqlalchemy as sa

SQLITE_TABLE = "call_search"
POSTGRESQL_INDEX = "ix_call_search"
# The indexed expression, written as the migration wrote it, so PostgreSQL uses the index.
POSTGRESQL_DOCUMENT = ("to_tsvector('simple'::regconfig, coalesce(\"call\".notes, '') || ' ' "
                       "|| coalesce(\"call\".caller_name, ''))")


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


def rebuild(connection: sa.Connection) -> None:
    """Build the SQLite index again from the calls, in one pass."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}) VALUES ('rebuild')")
