"""PLACEHOLDER for the "codes" helper's revision 0007 (retired authority codes): does nothing.

Dropped at merge in favour of the real 0007_authority_codes.py.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
