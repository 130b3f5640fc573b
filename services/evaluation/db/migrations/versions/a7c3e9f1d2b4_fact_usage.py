"""fact_usage_session, fact_usage_year

Issue 16 (运行使用 from real use): the registry's usage sessions
(registry.usage.recorded.v1 / corrected.v1) and their minutes per policy year.

Revision ID: a7c3e9f1d2b4
Revises: 4dc5c9ca5a2f
Create Date: 2026-12-03 10:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.runtime.db.schema

revision: str = 'a7c3e9f1d2b4'
down_revision: str | None = '4dc5c9ca5a2f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'fact_usage_session',
        sa.Column('session_id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('instrument_id', sa.String(length=36), nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('order_id', sa.String(length=36), nullable=True),
        sa.Column('started_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_fact_usage_session')),
    )
    op.create_table(
        'fact_usage_year',
        sa.Column('session_id', sa.String(length=36), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('instrument_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('session_id', 'year', name=op.f('pk_fact_usage_year')),
    )
    op.create_index('ix_fact_usage_year_unit', 'fact_usage_year', ['year', 'unit_id', 'instrument_id', 'kind', 'minutes'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fact_usage_year_unit', table_name='fact_usage_year')
    op.drop_table('fact_usage_year')
    op.drop_table('fact_usage_session')
