"""payment orders get case numbers people can read (FK-<year>-<n>, 付款单), from payments' case_counters

Revision ID: d4f7a2c9e6b3
Revises: b2e6c8a4f1d9
Create Date: 2026-12-04 20:00:00.000000

Payment orders created before this revision are numbered in the order they
were created (created_at, then id), per local year (Asia/Shanghai), and the
FK counters continue from there (issue 17). The counters table exists since
b2e6c8a4f1d9 (the payouts' BF numbers).
"""

from collections.abc import Sequence

from services.runtime.db.case_number_migration import add_case_numbers, drop_case_numbers

revision: str = 'd4f7a2c9e6b3'
down_revision: str | None = 'b2e6c8a4f1d9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_case_numbers('payment_orders', 'created_at', 'FK')


def downgrade() -> None:
    drop_case_numbers('payment_orders', 'FK')
