"""orders get case numbers people can read (DD-<year>-<n>), from a counter per kind and year

Revision ID: c7a1e5d3f9b2
Revises: b5d8f3a1c7e4
Create Date: 2026-12-04 12:50:00.000000

Orders placed before this revision are numbered in the order they were
requested (created_at, then id), per local year (Asia/Shanghai), and the
counters continue from there.
"""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from services.runtime.db.case_numbers import format_case_number
from services.runtime.db.schema import UtcDateTime

revision: str = 'c7a1e5d3f9b2'
down_revision: str | None = 'b5d8f3a1c7e4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOCAL = ZoneInfo("Asia/Shanghai")


def upgrade() -> None:
    op.create_table(
        'case_counters',
        sa.Column('prefix', sa.String(length=2), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_case_counters')),
    )
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('case_no', sa.String(length=20), nullable=True))
    orders = sa.table('orders', sa.column('id', sa.String()), sa.column('created_at', UtcDateTime()), sa.column('case_no', sa.String()))
    counters = sa.table('case_counters', sa.column('prefix', sa.String()), sa.column('year', sa.Integer()), sa.column('last', sa.Integer()))
    conn = op.get_bind()
    last: dict[int, int] = {}
    for order_id, created_at in conn.execute(sa.select(orders.c.id, orders.c.created_at).order_by(orders.c.created_at, orders.c.id)).all():
        year = created_at.astimezone(_LOCAL).year
        last[year] = last.get(year, 0) + 1
        conn.execute(sa.update(orders).where(orders.c.id == order_id).values(case_no=format_case_number("DD", year, last[year])))
    if last:
        conn.execute(sa.insert(counters), [{"prefix": "DD", "year": y, "last": n} for y, n in sorted(last.items())])
    with op.batch_alter_table('orders') as batch:
        batch.alter_column('case_no', existing_type=sa.String(length=20), nullable=False)
        batch.create_unique_constraint(op.f('uq_orders_case_no'), ['case_no'])


def downgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(op.f('uq_orders_case_no'), type_='unique')
        batch.drop_column('case_no')
    op.drop_table('case_counters')
