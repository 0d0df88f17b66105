"""legal hold and erasure time of calls

Adds ``call.legal_hold`` (retention leaves a held call alone) and ``call.personal_erased_at``
(when retention or an erasure on request last cleared the call's personal fields).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 04:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('personal_erased_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('personal_erased_at')
        batch_op.drop_column('legal_hold')
