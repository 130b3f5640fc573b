"""programme user classes (R4, R16) per year

A programme year keeps the user classes that may apply (R4) and those with
the higher cap (R16) beside its numbers, as opened: they come from the
vouchers' policy file (or the bureau) instead of a list in code. Years opened
before this get Xuchang 2023's lists, the ones they were decided with.

Revision ID: 5b7e2c91d0aa
Revises: d1d4d9e90a4d
Create Date: 2026-12-04 09:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5b7e2c91d0aa'
down_revision: str | None = 'd1d4d9e90a4d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the lists the code held until this revision (Xuchang 2023, R4 and R16)
ELIGIBLE_2023 = ["above_scale_industrial", "high_tech", "tech_sme", "startup_team"]
SPECIAL_2023 = ["innovation_leader", "gazelle"]


def upgrade() -> None:
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligible_classes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('special_classes', sa.JSON(), nullable=True))
    programmes = sa.table('programmes', sa.column('eligible_classes', sa.JSON()), sa.column('special_classes', sa.JSON()))
    op.execute(programmes.update().values(eligible_classes=ELIGIBLE_2023, special_classes=SPECIAL_2023))
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.alter_column('eligible_classes', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('special_classes', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_column('special_classes')
        batch_op.drop_column('eligible_classes')
