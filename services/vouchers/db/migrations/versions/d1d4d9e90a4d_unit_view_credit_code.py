"""unit_view credit code (R26)

Vouchers' read model of units keeps each unit's credit code, so that a user
whose credit code is the unit's, its parent's or a college's counts as the
unit (R26 隶属). Rows already there get the code from the unit's next
registry event; until then they match by recorded ties only.

Revision ID: d1d4d9e90a4d
Revises: 6ed443acbe2c
Create Date: 2026-12-03 06:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd1d4d9e90a4d'
down_revision: str | None = '6ed443acbe2c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('unit_view', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_code', sa.String(length=18), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('unit_view', schema=None) as batch_op:
        batch_op.drop_column('credit_code')
