"""instrument photos (issue 17)

Adds ``instrument_photos``: an instrument's photos, the bytes in the document
store by their sha256, the row with size, sniffed type, uploader and time.

Revision ID: e3a7c5b9d2f4
Revises: d9f3b7a2c6e1
Create Date: 2026-12-05 02:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.runtime.db.schema import UtcDateTime

revision: str = 'e3a7c5b9d2f4'
down_revision: str | None = 'd9f3b7a2c6e1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'instrument_photos',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instrument_id', sa.String(length=36), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('uploaded_by', sa.String(length=200), nullable=False),
        sa.Column('uploaded_at', UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_instrument_photos_instrument_id_instruments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_photos')),
    )
    op.create_index('ix_instrument_photos_instrument', 'instrument_photos', ['instrument_id', 'uploaded_at'], unique=False)
    op.create_index('uq_instrument_photos_content', 'instrument_photos', ['instrument_id', 'sha256'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_instrument_photos_content', table_name='instrument_photos')
    op.drop_index('ix_instrument_photos_instrument', table_name='instrument_photos')
    op.drop_table('instrument_photos')
