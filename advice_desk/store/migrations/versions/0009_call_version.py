"""a version on every call, and who changed it last

Adds ``call.version`` (NOT NULL, 1 for every call already stored; every change of a call bumps
it with ``UPDATE … WHERE id = :id AND version = :v``, so an edit made on another seat since a
call was opened is refused rather than silently overwritten) and ``call.updated_by_id`` (who
made the latest change; ``updated_at`` says when). Plain ``ALTER TABLE ADD COLUMN`` on both
engines: a constant default, so neither SQLite nor PostgreSQL rewrites the calls.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('call', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('call', sa.Column('updated_by_id', sa.Integer(),
                                    sa.ForeignKey('app_user.id'), nullable=True),
                  inline_references=True)


def downgrade() -> None:
    # DROP COLUMN in place on both engines (SQLite 3.35+): a batch would copy the call table,
    # and dropping the old one would cascade to its topics and outcomes.
    op.execute('ALTER TABLE "call" DROP COLUMN updated_by_id')
    op.execute('ALTER TABLE "call" DROP COLUMN version')
