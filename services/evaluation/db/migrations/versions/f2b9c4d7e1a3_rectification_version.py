"""rectification version

A unit's rectification report may be replaced until a re-check passes it (M15); its
version is its ETag, so a report sent with If-Match replaces only the version read and
two colleagues of a unit no longer overwrite each other unseen (issue 17). Reports
already made start at version 1.

Revision ID: f2b9c4d7e1a3
Revises: a9d3f5c7e2b1
Create Date: 2026-12-05 17:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'f2b9c4d7e1a3'
down_revision: str | None = 'a9d3f5c7e2b1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default=sa.text('1')))
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.alter_column('version', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_column('version')
