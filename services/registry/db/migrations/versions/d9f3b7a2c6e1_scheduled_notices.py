"""scheduled notices: a voucher's expiry within 30 days (issue 17)

Adds ``scheduled_notices``: a notice due later, written when the event that
makes it due arrives, cancelled by the one that makes it moot, told once.

Revision ID: d9f3b7a2c6e1
Revises: b3d8f2a6c1e4
Create Date: 2026-12-04 20:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.runtime.db.schema import UtcDateTime

revision: str = 'd9f3b7a2c6e1'
down_revision: str | None = 'b3d8f2a6c1e4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'scheduled_notices',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('ref', sa.String(length=36), nullable=False),
        sa.Column('recipient_role', sa.String(length=20), nullable=False),
        sa.Column('recipient_org', sa.String(length=100), nullable=False),
        sa.Column('due_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('subject_zh', sa.String(length=200), nullable=True),
        sa.Column('text_zh', sa.Text(), nullable=True),
        sa.Column('subject_en', sa.String(length=200), nullable=True),
        sa.Column('text_en', sa.Text(), nullable=True),
        sa.Column('link', sa.String(length=300), nullable=True),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_notices')),
    )
    op.create_index('uq_scheduled_notices_kind_ref', 'scheduled_notices', ['kind', 'ref'], unique=True)
    op.create_index('ix_scheduled_notices_due', 'scheduled_notices', ['due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_scheduled_notices_due', table_name='scheduled_notices')
    op.drop_index('uq_scheduled_notices_kind_ref', table_name='scheduled_notices')
    op.drop_table('scheduled_notices')
