"""public notices get case numbers people can read (GS-<year>-<n>, 公示), from evaluation's own case_counters

Revision ID: a9d3f5c7e2b1
Revises: d6f2a8c4b9e3
Create Date: 2026-12-04 16:20:00.000000

Notices published before this revision are numbered in the order they were
published (published_at, then id), per local year (Asia/Shanghai), and the
counters continue from there (issue 17).
"""

from collections.abc import Sequence

from alembic import op

from services.runtime.db.case_number_migration import add_case_numbers, create_case_counters, drop_case_numbers
from services.runtime.db.case_numbers import TABLE

revision: str = 'a9d3f5c7e2b1'
down_revision: str | None = 'd6f2a8c4b9e3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_case_counters()
    add_case_numbers('notices', 'published_at', 'GS')


def downgrade() -> None:
    drop_case_numbers('notices', 'GS')
    op.drop_table(TABLE)
