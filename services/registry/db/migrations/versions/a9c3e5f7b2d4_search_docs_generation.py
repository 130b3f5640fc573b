"""search docs: the generation of each row's last refresh, and its ratings

Each registry API process answers catalogue searches from a search index of
its own (services/registry/search_index.py, issue 19, target 3) and follows the
read model by reading the documents refreshed since the generation it holds.
Existing rows get 0: a process's first index reads every document anyway.

A result shows its instrument's ratings; they are now part of the document
(how many rated orders, their stars summed), kept by every refresh, so a page
needs no statement of its own for them. Existing rows are filled from the
rated orders here.

Revision ID: a9c3e5f7b2d4
Revises: c5e1a7d3b9f2
Create Date: 2026-12-06 06:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a9c3e5f7b2d4'
down_revision: str | None = 'c5e1a7d3b9f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the instrument's rated orders; an order with several items on it counts once (services/registry/ratings.py)
RATED = (
    "FROM orders o WHERE o.rating IS NOT NULL AND o.id IN "
    "(SELECT oi.order_id FROM order_items oi WHERE oi.instrument_id = search_docs.instrument_id)"
)


def upgrade() -> None:
    with op.batch_alter_table("search_docs") as batch:
        batch.add_column(sa.Column("generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("rating_count", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("rating_points", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    op.create_index("ix_search_docs_generation", "search_docs", ["generation"], unique=False)
    op.execute(
        f"UPDATE search_docs SET rating_count = (SELECT count(*) {RATED}), rating_points = (SELECT coalesce(sum(o.rating), 0) {RATED})"
    )


def downgrade() -> None:
    op.drop_index("ix_search_docs_generation", table_name="search_docs")
    with op.batch_alter_table("search_docs") as batch:
        batch.drop_column("rating_points")
        batch.drop_column("rating_count")
        batch.drop_column("generation")
