"""first schema: calls, topics, users, settings, drafts

Revision ID: 0001
Revises:
Create Date: 2026-11-23 02:37:45.422099
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('setting',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('topic',
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('parent_code', sa.String(length=80), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['topic.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('duration_s', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('direction', sa.String(length=30), nullable=False),
    sa.Column('in_hours', sa.Boolean(), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('caller_type', sa.String(length=40), nullable=True),
    sa.Column('arrangement', sa.String(length=40), nullable=True),
    sa.Column('local_authority', sa.String(length=9), nullable=True),
    sa.Column('children_count', sa.Integer(), nullable=True),
    sa.Column('children_age_bands', sa.String(length=200), nullable=True),
    sa.Column('follow_up_on', sa.Date(), nullable=True),
    sa.Column('follow_up_note', sa.Text(), nullable=True),
    sa.Column('follow_up_done_at', sa.DateTime(), nullable=True),
    sa.Column('safeguarding', sa.Boolean(), nullable=False),
    sa.Column('first_time_caller', sa.String(length=10), nullable=False),
    sa.Column('how_heard', sa.String(length=40), nullable=True),
    sa.Column('consent_to_store_details', sa.Boolean(), nullable=False),
    sa.Column('caller_name', sa.Text(), nullable=True),
    sa.Column('caller_phone', sa.Text(), nullable=True),
    sa.Column('caller_email', sa.Text(), nullable=True),
    sa.Column('caller_postcode', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.create_index('ix_call_follow_up_on', ['follow_up_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_started_at'), ['started_at'], unique=False)
        batch_op.create_index('ix_call_worker_started', ['worker_id', 'started_at'], unique=False)

    op.create_table('draft',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('call_outcome',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('referred_to', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'outcome', 'referred_to')
    )
    with op.batch_alter_table('call_outcome', schema=None) as batch_op:
        batch_op.create_index('ix_call_outcome_outcome', ['outcome', 'call_id'], unique=False)

    op.create_table('call_topic',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('topic_code', sa.String(length=80), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_code'], ['topic.code'], ),
    sa.PrimaryKeyConstraint('call_id', 'topic_code')
    )
    with op.batch_alter_table('call_topic', schema=None) as batch_op:
        batch_op.create_index('ix_call_topic_topic', ['topic_code', 'call_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('call_topic', schema=None) as batch_op:
        batch_op.drop_index('ix_call_topic_topic')

    op.drop_table('call_topic')
    with op.batch_alter_table('call_outcome', schema=None) as batch_op:
        batch_op.drop_index('ix_call_outcome_outcome')

    op.drop_table('call_outcome')
    op.drop_table('draft')
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_index('ix_call_worker_started')
        batch_op.drop_index(batch_op.f('ix_call_started_at'))
        batch_op.drop_index('ix_call_follow_up_on')

    op.drop_table('call')
    op.drop_table('topic')
    op.drop_table('setting')
    op.drop_table('app_user')
