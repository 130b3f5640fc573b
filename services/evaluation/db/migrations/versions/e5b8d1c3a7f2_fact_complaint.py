"""fact_complaint

M11(6): complaints upheld against a unit, counted in its evaluation's
complaints indicator (from registry.complaint.upheld.v1).

Revision ID: e5b8d1c3a7f2
Revises: c4e15a0d9e21
Create Date: 2026-12-03 06:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.runtime.db.schema

revision: str = 'e5b8d1c3a7f2'
down_revision: str | None = 'c4e15a0d9e21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'fact_complaint',
        sa.Column('complaint_id', sa.String(length=36), nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('upheld_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('complaint_id', name=op.f('pk_fact_complaint')),
    )
    op.create_index('ix_fact_complaint_year_unit', 'fact_complaint', ['year', 'unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fact_complaint_year_unit', table_name='fact_complaint')
    op.drop_table('fact_complaint')
