"""search docs: the generation of each row's last refresh

Each registry API process answers catalogue searches from a search index of
its own (services/registry/search_index.py, issue 19, target 3) and follows the
read model by reading the documents refreshed since the generation it holds.
Existing rows get 0: a process's first index reads every document anyway.

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


def upgrade() -> None:
    with op.batch_alter_table("search_docs") as batch:
        batch.add_column(sa.Column("generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    op.create_index("ix_search_docs_generation", "search_docs", ["generation"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_search_docs_generation", table_name="search_docs")
    with op.batch_alter_table("search_docs") as batch:
        batch.drop_column("generation")
