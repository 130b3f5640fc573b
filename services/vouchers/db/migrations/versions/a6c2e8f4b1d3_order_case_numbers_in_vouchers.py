"""the vouchers service keeps the order's case number (DD-<year>-<n>) in its order view, and each application and voucher names its order by it

Revision ID: a6c2e8f4b1d3
Revises: f3b8d2a6c1e9
Create Date: 2026-12-04 17:00:00.000000

The order view takes ``case_no`` from the registry's order events (they carry it
since the registry numbered its orders); applications and vouchers copy it at
submission and issue. Rows from before keep none until their order's next event
(the view) or for good (applications, vouchers): pages name those orders by id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a6c2e8f4b1d3'
down_revision: str | None = 'f3b8d2a6c1e9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (('order_view', 'case_no'), ('applications', 'order_case_no'), ('vouchers', 'order_case_no'))


def upgrade() -> None:
    for table, column in _COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.String(length=20), nullable=True))


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
