"""Giving case numbers to the records that existed before a kind had them (issue 17),
for the migration that adds the column: every row gets ``<prefix>-<year>-<n>`` in the
order the rows were created (their creation time, then id), per local year
(Asia/Shanghai), and the counters go on from the last number given. One helper for
every service's migration, so that each numbers its existing rows alike."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from services.runtime.db.case_numbers import TABLE, format_case_number
from services.runtime.db.schema import UtcDateTime

_LOCAL = ZoneInfo("Asia/Shanghai")


def create_case_counters() -> None:
    """The ``case_counters`` table (as ``case_counter_table`` declares it), for a service's first kind."""
    op.create_table(
        TABLE,
        sa.Column('prefix', sa.String(length=2), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('prefix', 'year', name=op.f(f'pk_{TABLE}')),
    )


def add_case_numbers(table: str, created: str, prefix: str, *, key: str = "id") -> None:
    """Add ``case_no`` to ``table`` (unique, not null), numbering its rows in the order of
    ``created`` (a UTC time column) then ``key``, and set ``prefix``'s counters to the last
    number given per year. The counters table must exist."""
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column('case_no', sa.String(length=20), nullable=True))
    rows = sa.table(table, sa.column(key, sa.String()), sa.column(created, UtcDateTime()), sa.column('case_no', sa.String()))
    counters = sa.table(TABLE, sa.column('prefix', sa.String()), sa.column('year', sa.Integer()), sa.column('last', sa.Integer()))
    conn = op.get_bind()
    last: dict[int, int] = {}
    numbered: list[dict[str, str]] = []
    for row_key, at in conn.execute(sa.select(rows.c[key], rows.c[created]).order_by(rows.c[created], rows.c[key])).all():
        year = at.astimezone(_LOCAL).year
        last[year] = last.get(year, 0) + 1
        numbered.append({"row_key": row_key, "numbered_as": format_case_number(prefix, year, last[year])})
    if numbered:  # one statement for all the rows (executemany), not one round trip per row
        conn.execute(sa.update(rows).where(rows.c[key] == sa.bindparam("row_key")).values(case_no=sa.bindparam("numbered_as")), numbered)
        conn.execute(sa.insert(counters), [{"prefix": prefix, "year": y, "last": n} for y, n in sorted(last.items())])
    with op.batch_alter_table(table) as batch:
        batch.alter_column('case_no', existing_type=sa.String(length=20), nullable=False)
        batch.create_unique_constraint(op.f(f'uq_{table}_case_no'), ['case_no'])


def drop_case_numbers(table: str, prefix: str) -> None:
    """Undo ``add_case_numbers``: the column goes, and ``prefix``'s counters with it."""
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f'uq_{table}_case_no'), type_='unique')
        batch.drop_column('case_no')
    counters = sa.table(TABLE, sa.column('prefix', sa.String()))
    op.get_bind().execute(sa.delete(counters).where(counters.c.prefix == prefix))
