"""instrument sample requirements (issue 17)

样品要求: what the unit asks of a sample sent for testing on an instrument,
free text shown on the instrument's public page. Nullable: existing
instruments state theirs later.

Revision ID: e2c6a9d4f1b7
Revises: e3a7c5b9d2f4
Create Date: 2026-12-05 02:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e2c6a9d4f1b7'
down_revision: str | None = 'e3a7c5b9d2f4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sample_requirements', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.drop_column('sample_requirements')
