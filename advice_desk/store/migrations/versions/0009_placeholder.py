"""placeholder for the version column (issue 13's other branch writes the real 0009)

Does nothing: it only keeps the chain 0008 → 0009 → 0010 whole on the live-desks branch. The
real 0009 replaces this file when the branches are merged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:00:00
"""

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
