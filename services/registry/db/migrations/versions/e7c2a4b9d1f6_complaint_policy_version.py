"""complaint policy version

A year's complaint handling deadline has a version, its ETag: the bureau's
change sent with If-Match applies only to the version read (issue 17).
Existing values start at version 1.

Revision ID: e7c2a4b9d1f6
Revises: c7a1e5d3f9b2
Create Date: 2026-12-04 13:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e7c2a4b9d1f6'
down_revision: str | None = 'c7a1e5d3f9b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('complaint_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default=sa.text('1')))
    with op.batch_alter_table('complaint_policies', schema=None) as batch_op:
        batch_op.alter_column('version', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('complaint_policies', schema=None) as batch_op:
        batch_op.drop_column('version')
