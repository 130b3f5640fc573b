"""complaints get case numbers people can read (TS-<year>-<n>, 投诉)

Revision ID: f4b8d2e6a1c3
Revises: e7c2a4b9d1f6
Create Date: 2026-12-04 16:10:00.000000

Complaints filed before this revision are numbered in the order they were
filed (filed_at, then id), per local year (Asia/Shanghai), and the counters
continue from there (issue 17).
"""

from collections.abc import Sequence

from services.runtime.db.case_number_migration import add_case_numbers, drop_case_numbers

revision: str = 'f4b8d2e6a1c3'
down_revision: str | None = 'e7c2a4b9d1f6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_case_numbers('complaints', 'filed_at', 'TS')


def downgrade() -> None:
    drop_case_numbers('complaints', 'TS')
