"""accounts, audit trail, local start time of calls

Adds the sign-in throttle columns to users, the append-only audit trail (guarded by triggers,
so no code path can change or delete an event), and the UK day and minute of each call's start,
filled in for the calls already stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:20:00
"""

from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

UK = ZoneInfo("Europe/London")
BATCH = 20_000

GUARDS = {
    "sqlite": [
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit trail cannot be changed'; END $$",
        "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()",
    ],
}


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('last_failed_sign_in_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('local_minute', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_call_local_date'), ['local_date'], unique=False)
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
    for statement in GUARDS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    _fill_local_start()


def _fill_local_start() -> None:
    """Work out the UK day and minute of every stored call, a batch at a time."""
    bind = op.get_bind()
    calls = sa.table('call', sa.column('id', sa.Integer()), sa.column('started_at', sa.DateTime()),
                     sa.column('local_date', sa.Date()), sa.column('local_minute', sa.Integer()))
    last_id = 0
    while True:
        rows = bind.execute(sa.select(calls.c.id, calls.c.started_at).where(calls.c.id > last_id)
                            .order_by(calls.c.id).limit(BATCH)).all()
        if not rows:
            return
        last_id = rows[-1][0]
        updates = []
        for call_id, started_at in rows:
            local = started_at.replace(tzinfo=UTC).astimezone(UK)
            updates.append({"key": call_id, "day": local.date(),
                            "minute": local.hour * 60 + local.minute})
        bind.execute(sa.update(calls).where(calls.c.id == sa.bindparam("key"))
                     .values(local_date=sa.bindparam("day"), local_minute=sa.bindparam("minute")),
                     updates)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_no_change ON audit_event")
        op.execute("DROP FUNCTION audit_event_refuse()")
    op.drop_table('audit_event')
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_local_date'))
        batch_op.drop_column('local_minute')
        batch_op.drop_column('local_date')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('last_failed_sign_in_at')
        batch_op.drop_column('failed_sign_ins')
