"""the figures engine's rollup

Adds ``figure`` (calls by UK day or month, measure and category) and ``figure_duration`` (the
histogram of durations in whole seconds, by day or month), built here from the calls as they
stand after 0007 rewrote the retired codes (advice_desk.figures.recount).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from advice_desk.figures import recount

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('figure',
                    sa.Column('span', sa.String(length=1), nullable=False),
                    sa.Column('period', sa.Date(), nullable=False),
                    sa.Column('measure', sa.String(length=20), nullable=False),
                    sa.Column('category', sa.String(length=80), nullable=False),
                    sa.Column('calls', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('span', 'period', 'measure', 'category'))
    op.create_table('figure_duration',
                    sa.Column('span', sa.String(length=1), nullable=False),
                    sa.Column('period', sa.Date(), nullable=False),
                    sa.Column('seconds', sa.Integer(), nullable=False),
                    sa.Column('calls', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('span', 'period', 'seconds'))
    recount.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table('figure_duration')
    op.drop_table('figure')
