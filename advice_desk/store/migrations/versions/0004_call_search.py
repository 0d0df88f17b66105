"""search over the notes and caller names of calls

On SQLite an FTS5 external-content table ``call_search`` over ``call.notes`` and
``call.caller_name``, kept in step by triggers on insert, update of those columns (an edit, an
erasure, retention) and delete, and built here for the calls already stored. On PostgreSQL a GIN
expression index over their ``tsvector`` in the ``simple`` configuration (no stemming, so names
match as typed), which the server keeps in step itself.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 14:40:00
"""

from alembic import op

from advice_desk.store import search_index

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The definitions live in search_index, where the demo's bulk insert also recreates the
# triggers; every call gets a row in the index.
SQLITE = [search_index.SQLITE_CREATE_TABLE, *search_index.SQLITE_TRIGGERS.values(),
          f"INSERT INTO {search_index.SQLITE_TABLE}({search_index.SQLITE_TABLE}) "
          "VALUES ('rebuild')"]
SQLITE_DOWN = [
    "DROP TRIGGER call_search_delete",
    "DROP TRIGGER call_search_update",
    "DROP TRIGGER call_search_insert",
    "DROP TABLE call_search",
]
POSTGRESQL = [
    "CREATE INDEX ix_call_search ON call USING gin "
    "(to_tsvector('simple'::regconfig, coalesce(notes, '') || ' ' || coalesce(caller_name, '')))",
]
POSTGRESQL_DOWN = ["DROP INDEX ix_call_search"]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}.get(dialect, []):
        op.execute(statement)
