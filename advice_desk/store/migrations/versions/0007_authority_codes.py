"""retired local authority codes on stored calls become the codes in use

ONS gives an authority a new GSS code when its area changes. A call stored with a retired code
whose area is now one authority's gets that authority's code, so that figures and funder files
join on the codes in use (Barnsley and Sheffield were recoded on 1 April 2025, the 2019-2023
reorganisations merged or replaced counties). A code whose area was split between several
authorities (Cumbria, Northamptonshire, Dorset county: Christchurch went to BCP) stays as it is:
which successor a caller lived in is not known. The map is written out here, as it stood when
this revision was made (resources/retired_local_authorities.json may grow later: a new
recoding needs a new revision). One UPDATE, one pass over the calls, on both engines. No schema
change; the audit trail is left alone (its events name no authority).

Downgrade leaves the codes as they are: Bournemouth's and Poole's calls cannot be told apart
again once both are BCP's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Retired code -> the one code in use for its area.
SUCCESSORS = {
    "E06000028": "E06000058",  # Bournemouth -> Bournemouth, Christchurch and Poole (2019)
    "E06000029": "E06000058",  # Poole -> Bournemouth, Christchurch and Poole (2019)
    "E06000048": "E06000057",  # Northumberland, recoded (2013)
    "E08000016": "E08000038",  # Barnsley, recoded (2025)
    "E08000019": "E08000039",  # Sheffield, recoded (2025)
    "E08000020": "E08000037",  # Gateshead, recoded (2013)
    "E10000002": "E06000060",  # Buckinghamshire county -> Buckinghamshire (2020)
    "E10000023": "E06000065",  # North Yorkshire county -> North Yorkshire (2023)
    "E10000027": "E06000066",  # Somerset county -> Somerset (2023)
}


def upgrade() -> None:
    call = sa.table("call", sa.column("local_authority", sa.String(9)))
    authority = call.c.local_authority
    op.execute(call.update()
               .where(authority.in_(sorted(SUCCESSORS)))
               .values(local_authority=sa.case(SUCCESSORS, value=authority)))


def downgrade() -> None:
    pass  # see the module's docstring
