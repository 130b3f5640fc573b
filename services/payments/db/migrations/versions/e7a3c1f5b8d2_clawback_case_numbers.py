"""clawbacks get case numbers people can read (ZH-<year>-<n>, 追回), from payments' case_counters

Revision ID: e7a3c1f5b8d2
Revises: d4f7a2c9e6b3
Create Date: 2026-12-05 03:00:00.000000

Clawbacks recorded before this revision are numbered in the order they were
recorded (created_at, then id), per local year (Asia/Shanghai), and the ZH
counters continue from there (issue 17). The counters table exists since
b2e6c8a4f1d9 (the payouts' BF numbers).
"""

from collections.abc import Sequence

from services.runtime.db.case_number_migration import add_case_numbers, drop_case_numbers

revision: str = 'e7a3c1f5b8d2'
down_revision: str | None = 'd4f7a2c9e6b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_case_numbers('clawbacks', 'created_at', 'ZH')


def downgrade() -> None:
    drop_case_numbers('clawbacks', 'ZH')
