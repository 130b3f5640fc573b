"""applications and redemption claims get case numbers people can read (SQ-/DF-<year>-<n>), from a counter per kind and year

Revision ID: f3b8d2a6c1e9
Revises: 9a3f6d2e8b15
Create Date: 2026-12-04 16:30:00.000000

Applications and claims made before this revision are numbered in the order
they came (submitted_at / claimed_at, then id), per local year
(Asia/Shanghai), and the counters continue from there.
"""

from collections.abc import Sequence

from alembic import op

from services.runtime.db.case_number_migration import add_case_numbers, create_case_counters, drop_case_numbers
from services.runtime.db.case_numbers import TABLE

revision: str = 'f3b8d2a6c1e9'
down_revision: str | None = '9a3f6d2e8b15'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, the moment it came, its kind's prefix)
_NUMBERED = (('applications', 'submitted_at', 'SQ'), ('redemption_claims', 'claimed_at', 'DF'))


def upgrade() -> None:
    create_case_counters()
    for name, came_at, prefix in _NUMBERED:
        add_case_numbers(name, came_at, prefix)


def downgrade() -> None:
    for name, _, prefix in reversed(_NUMBERED):
        drop_case_numbers(name, prefix)
    op.drop_table(TABLE)
