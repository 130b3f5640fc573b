"""redemption window version

A claim window's version is its ETag: the center's change sent with If-Match
applies only to the version read (issue 17). Existing windows start at 1.

Revision ID: 9a3f6d2e8b15
Revises: 5b7e2c91d0aa
Create Date: 2026-12-04 12:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9a3f6d2e8b15'
down_revision: str | None = '5b7e2c91d0aa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('redemption_windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default=sa.text('1')))
    with op.batch_alter_table('redemption_windows', schema=None) as batch_op:
        batch_op.alter_column('version', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('redemption_windows', schema=None) as batch_op:
        batch_op.drop_column('version')
