"""category report indexes

Issue 19 (target 7): the per-category report sums deliveries, settlements and
ratings per primary instrument before looking up the category. Covering
indexes make each a single pass in index order: settlements and ratings of a
year in ``order_id`` order, their order's primary instrument looked up in the
same order; deliveries of a year in primary-instrument order.

The tables are analysed where statistics are kept (always on PostgreSQL; on
SQLite when ``sqlite_stat1`` exists): SQLite with statistics for the primary
key's index but none for the new one would keep reading order rows through
the primary key instead of the covering index.

Revision ID: d6f2a8c4b9e3
Revises: a7c3e9f1d2b4
Create Date: 2026-12-03 17:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd6f2a8c4b9e3'
down_revision: str | None = 'a7c3e9f1d2b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('fact_order', 'fact_delivery', 'fact_settlement', 'fact_rating')


def upgrade() -> None:
    op.create_index('ix_fact_order_instrument', 'fact_order', ['order_id', 'primary_instrument_id'], unique=False)
    op.create_index('ix_fact_delivery_year_instrument', 'fact_delivery', ['year', 'primary_instrument_id', 'service_hours_centi'], unique=False)
    op.create_index('ix_fact_settlement_year_order', 'fact_settlement', ['year', 'order_id', 'fee_fen', 'voucher_fen'], unique=False)
    op.create_index('ix_fact_rating_year_order', 'fact_rating', ['year', 'order_id', 'rating'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        kept = bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
        if not kept:
            return
    for table in TABLES:
        op.execute(f'ANALYZE {table}')


def downgrade() -> None:
    op.drop_index('ix_fact_rating_year_order', table_name='fact_rating')
    op.drop_index('ix_fact_settlement_year_order', table_name='fact_settlement')
    op.drop_index('ix_fact_delivery_year_instrument', table_name='fact_delivery')
    op.drop_index('ix_fact_order_instrument', table_name='fact_order')
