"""the audit trail's tamper-evident chain, and append-only against REPLACE

Adds ``audit_event.seq`` and ``audit_event.link`` (each event's position and the HMAC of its
content and the previous link: advice_desk.store.audit_chain) and the one-row ``audit_chain``
table (the store's id and the audit key's fingerprint). The events already stored are chained
here, in id order, with this PC's audit key (made now when there is none): the UPDATE guard is
lifted for that and put back in the same transaction. No key is needed for a store without
events.

New guards: on SQLite a BEFORE INSERT trigger refuses an event whose id is taken (``REPLACE
INTO`` would otherwise delete the old row without firing the DELETE trigger); on PostgreSQL a
BEFORE TRUNCATE trigger (TRUNCATE fires no row trigger). ``INSERT … ON CONFLICT DO UPDATE`` is
already refused there by the row UPDATE trigger, and on SQLite by the UPDATE trigger.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 16:30:00
"""

import uuid

import sqlalchemy as sa
from alembic import op

from advice_desk.store import audit_chain

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

REFUSE = "the audit trail cannot be changed"
SQLITE_NO_UPDATE = ("CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                    f"BEGIN SELECT RAISE(ABORT, '{REFUSE}'); END")
SQLITE_NO_REPLACE = (
    "CREATE TRIGGER audit_event_no_replace BEFORE INSERT ON audit_event "
    "WHEN EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id) "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSE}'); END")
PG_NO_CHANGE = ("CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
                "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()")
PG_NO_TRUNCATE = ("CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
                  "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.add_column('audit_event', sa.Column('seq', sa.Integer(), nullable=True))
    op.add_column('audit_event', sa.Column('link', sa.String(length=64), nullable=True))
    op.create_table('audit_chain',
                    sa.Column('store_id', sa.String(length=36), nullable=False),
                    sa.Column('key_id', sa.String(length=16), nullable=True),
                    sa.PrimaryKeyConstraint('store_id'))
    bind.execute(audit_chain.CHAIN.insert().values(store_id=str(uuid.uuid4()), key_id=None))
    if bind.execute(sa.select(audit_chain.EVENTS.c.id).limit(1)).first() is not None:
        op.execute("DROP TRIGGER audit_event_no_update" if sqlite
                   else "DROP TRIGGER audit_event_no_change ON audit_event")
        audit_chain.chain_existing(bind)
        op.execute(SQLITE_NO_UPDATE if sqlite else PG_NO_CHANGE)
    op.execute(SQLITE_NO_REPLACE if sqlite else PG_NO_TRUNCATE)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DROP TRIGGER audit_event_no_replace" if sqlite
               else "DROP TRIGGER audit_event_no_truncate ON audit_event")
    op.drop_table('audit_chain')
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+): a batch would copy the table and lose the
    # guards of 0002 with it.
    op.execute("ALTER TABLE audit_event DROP COLUMN link")
    op.execute("ALTER TABLE audit_event DROP COLUMN seq")
