"""read state per reader (issue 17)

Adds ``notification_reads``: who has read which notice. A colleague of the
unit, or another officer of a staff role, reading a notice no longer marks it
read for everyone; ``notifications.read_at`` keeps the reads from before.

Revision ID: c5e1a7d3b9f2
Revises: e2c6a9d4f1b7
Create Date: 2026-12-05 03:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.runtime.db.schema import UtcDateTime

revision: str = 'c5e1a7d3b9f2'
down_revision: str | None = 'e2c6a9d4f1b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'notification_reads',
        sa.Column('notification_id', sa.String(length=36), nullable=False),
        sa.Column('reader', sa.String(length=200), nullable=False),
        sa.Column('read_at', UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_notification_reads_notification_id_notifications')),
        sa.PrimaryKeyConstraint('notification_id', 'reader', name=op.f('pk_notification_reads')),
    )


def downgrade() -> None:
    op.drop_table('notification_reads')
