"""payee account version

A payee account's version is its ETag: a change sent with If-Match applies
only to the version read (issue 17). Existing details start at version 1.

Revision ID: 5e2b8c41a9d7
Revises: d8fc41dd98e3
Create Date: 2026-12-04 12:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e2b8c41a9d7'
down_revision: str | None = 'd8fc41dd98e3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('payee_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default=sa.text('1')))
    with op.batch_alter_table('payee_accounts', schema=None) as batch_op:
        batch_op.alter_column('version', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('payee_accounts', schema=None) as batch_op:
        batch_op.drop_column('version')
