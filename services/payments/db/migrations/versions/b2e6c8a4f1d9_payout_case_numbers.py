"""payouts get case numbers people can read (BF-<year>-<n>, 拨付), from payments' own case_counters

Revision ID: b2e6c8a4f1d9
Revises: 5e2b8c41a9d7
Create Date: 2026-12-04 16:40:00.000000

Payouts made due before this revision are numbered in the order they became
due (created_at, then id), per local year (Asia/Shanghai), and the counters
continue from there (issue 17).
"""

from collections.abc import Sequence

from alembic import op

from services.runtime.db.case_number_migration import add_case_numbers, create_case_counters, drop_case_numbers
from services.runtime.db.case_numbers import TABLE

revision: str = 'b2e6c8a4f1d9'
down_revision: str | None = '5e2b8c41a9d7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_case_counters()
    add_case_numbers('payouts', 'created_at', 'BF')


def downgrade() -> None:
    drop_case_numbers('payouts', 'BF')
    op.drop_table(TABLE)
