"""the figures engine's rollup, and the partial indexes of the figures it does not keep

Adds ``figure`` (calls by UK day or month, measure and category) and ``figure_duration`` (the
histogram of durations in whole seconds, by day or month), built here from the calls as they
stand after 0007 rewrote the retired codes (advice_desk.figures.recount), and two partial
indexes of the calls: follow-ups not yet done by their day, calls with content not yet reviewed
by their UK day (the report counts those two from the calls).

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
    op.create_index('ix_call_follow_up_due', 'call', ['follow_up_on'],
                    sqlite_where=sa.text('follow_up_done_at IS NULL'),
                    postgresql_where=sa.text('follow_up_done_at IS NULL'))
    op.create_index('ix_call_unreviewed', 'call', ['local_date'],
                    sqlite_where=sa.text("reviewed_at IS NULL AND kind = 'data'"),
                    postgresql_where=sa.text("reviewed_at IS NULL AND kind = 'data'"))
    recount.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index('ix_call_unreviewed', table_name='call')
    op.drop_index('ix_call_follow_up_due', table_name='call')
    op.drop_table('figure_duration')
    op.drop_table('figure')
