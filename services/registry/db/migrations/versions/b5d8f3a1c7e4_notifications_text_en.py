"""notifications keep an English text beside the Chinese

Revision ID: b5d8f3a1c7e4
Revises: a4c7e2d9b816
Create Date: 2026-12-03 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b5d8f3a1c7e4'
down_revision: str | None = 'a4c7e2d9b816'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('text_en', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('text_en')
