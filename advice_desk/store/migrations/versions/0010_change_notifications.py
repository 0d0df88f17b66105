"""other seats' commits announced (live desks)

On PostgreSQL, statement-level triggers on the tables the history, the follow-ups and the review
list show call ``pg_notify('advice_desk_changes', <table>)`` after every statement that writes
them (identical notifications of one transaction are folded into one by the server), for
advice_desk.store.changes to wait on. SQLite needs nothing: its listener reads
``PRAGMA data_version``. The names are written out here, not imported, so this revision keeps
doing what it did when the code moves on.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:10:00
"""

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ("call", "call_topic", "call_outcome", "topic")
FUNCTION = """
CREATE FUNCTION advice_desk_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('advice_desk_changes', TG_TABLE_NAME);
    RETURN NULL;
END
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table in TABLES:
        op.execute(f'CREATE TRIGGER advice_desk_changes AFTER INSERT OR UPDATE OR DELETE '
                   f'OR TRUNCATE ON "{table}" FOR EACH STATEMENT '
                   f'EXECUTE FUNCTION advice_desk_notify_change()')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f'DROP TRIGGER advice_desk_changes ON "{table}"')
    op.execute("DROP FUNCTION advice_desk_notify_change()")
