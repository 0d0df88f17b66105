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

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Every call has a row in the index (one with no text costs nothing), so the triggers need no
# condition and an external-content 'delete' always removes exactly what was inserted.
SQLITE = [
    "CREATE VIRTUAL TABLE call_search USING fts5(notes, caller_name, content='call', "
    "content_rowid='id', columnsize=0, tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER call_search_insert AFTER INSERT ON call BEGIN "
    "INSERT INTO call_search(rowid, notes, caller_name) "
    "VALUES (new.id, new.notes, new.caller_name); END",
    "CREATE TRIGGER call_search_update AFTER UPDATE OF notes, caller_name ON call BEGIN "
    "INSERT INTO call_search(call_search, rowid, notes, caller_name) "
    "VALUES ('delete', old.id, old.notes, old.caller_name); "
    "INSERT INTO call_search(rowid, notes, caller_name) "
    "VALUES (new.id, new.notes, new.caller_name); END",
    "CREATE TRIGGER call_search_delete AFTER DELETE ON call BEGIN "
    "INSERT INTO call_search(call_search, rowid, notes, caller_name) "
    "VALUES ('delete', old.id, old.notes, old.caller_name); END",
    "INSERT INTO call_search(call_search) VALUES ('rebuild')",
]
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
