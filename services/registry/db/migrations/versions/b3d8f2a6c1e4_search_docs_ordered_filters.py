"""search docs: filter indexes in page order

A search without keywords pages through the public documents by name (issue
19, target 3): each filter's index now carries the name and id after the
filter, so a filtered page is read in order and stops at the page (before, the
planner sorted every document of the category or county), and its total is
counted on the index alone. The price range gets an index of its own.

Revision ID: b3d8f2a6c1e4
Revises: f4b8d2e6a1c3
Create Date: 2026-12-04 16:20:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'b3d8f2a6c1e4'
down_revision: str | None = 'f4b8d2e6a1c3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: name → columns, before and after
BEFORE = {
    "ix_search_docs_category": ["category", "public"],
    "ix_search_docs_county": ["county_code", "public"],
    "ix_search_docs_unit": ["unit_id", "public"],
}
AFTER = {
    "ix_search_docs_category_name": ["category", "public", "name", "instrument_id"],
    "ix_search_docs_county_name": ["county_code", "public", "name", "instrument_id"],
    "ix_search_docs_unit_name": ["unit_id", "public", "name", "instrument_id"],
    "ix_search_docs_public_price": ["public", "min_price_fen", "max_price_fen"],
}


def _swap(drop: dict[str, list[str]], create: dict[str, list[str]]) -> None:
    for name in drop:
        op.drop_index(name, table_name="search_docs")
    for name, cols in create.items():
        op.create_index(name, "search_docs", cols, unique=False)
    op.execute("ANALYZE search_docs")  # the planner weighs the new indexes with statistics


def upgrade() -> None:
    _swap(BEFORE, AFTER)


def downgrade() -> None:
    _swap(AFTER, BEFORE)
