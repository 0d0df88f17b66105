"""withdrawn calls and the intake form's idempotency key

Adds ``call.withdrawn_at`` and ``call.withdrawn_by_id`` (a non-data call logged by mistake is
withdrawn: kept, audited, left out of every figure) and ``call.idempotency_key`` with a unique
index (the UUID of the form a call was typed in: saving that form again finds the call instead
of storing it twice). Columns that start NULL and an index: no table is copied on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 14:40:00
"""

import sqlalchemy as sa
from alembic import op

from advice_desk.store import search_index

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN on both engines, the reference written inline (SQLite cannot
    # add a constraint to a table, and a batch would copy every call to do it).
    op.add_column('call', sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
    op.add_column('call', sa.Column('withdrawn_by_id', sa.Integer(),
                                    sa.ForeignKey('app_user.id'), nullable=True),
                  inline_references=True)
    op.add_column('call', sa.Column('idempotency_key', sa.String(length=36), nullable=True))
    op.create_index('ix_call_idempotency_key', 'call', ['idempotency_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_index('ix_call_idempotency_key')
        batch_op.drop_column('idempotency_key')
        batch_op.drop_column('withdrawn_by_id')
        batch_op.drop_column('withdrawn_at')
    if op.get_bind().dialect.name == 'sqlite':
        # The batch copied the call table, and SQLite drops a table's triggers with it: the
        # search index (0004) would no longer follow the calls.
        search_index.create_triggers(op.get_bind())
