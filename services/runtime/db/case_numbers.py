"""Case numbers people can read and say on the phone (issue 17): ``DD-2026-000123``
for the 123rd order of 2026. A case number is issued in the owning service's
transaction, from a counter per kind and year, so it is unique, has no gaps
other than rolled-back transactions', and is never reused; the record keeps its
uuid as the key the API and events use.

The counter row is incremented with one ``INSERT … ON CONFLICT DO UPDATE …
RETURNING`` on both databases: the first case of a year creates the row, two
transactions at once queue on it (PostgreSQL's row lock, SQLite's write lock)
and get consecutive numbers. The row is held until the transaction commits, so
a service issues case numbers one at a time only where one transaction per
case is cheap (an order, a complaint). Where many cases are decided in one
transaction under a rush (voucher applications, ``application_batches``),
``next_case_numbers`` takes a block of consecutive numbers in the same one
statement, so the batch touches the counter row once.
"""

from __future__ import annotations

import re

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.db.upsert import conflict_insert

TABLE = "case_counters"
#: a kind's prefix: two capital letters (DD 订单 order, TS 投诉 complaint …)
PREFIX = re.compile(r"[A-Z]{2}")


def case_counter_table(metadata: MetaData) -> Table:
    """The counters of a service that issues case numbers: the last number per (prefix, year)."""
    return Table(
        TABLE,
        metadata,
        Column("prefix", String(2), primary_key=True),
        Column("year", Integer, primary_key=True),
        Column("last", Integer, nullable=False),
    )


def format_case_number(prefix: str, year: int, n: int) -> str:
    """The n-th case of ``prefix`` in ``year``; the digits grow past six in a year of a million cases."""
    return f"{prefix}-{year:04d}-{n:06d}"


def normalise_case_number(typed: str) -> str:
    """A case number as stored, from what a person typed: spaces dropped, capitals (" dd-2026-000123 ")."""
    return "".join(typed.split()).upper()


async def next_case_number(session: AsyncSession, counters: Table, prefix: str, year: int) -> str:
    """The next case number of ``prefix`` in ``year``, inside the caller's transaction."""
    return (await next_case_numbers(session, counters, prefix, year, 1))[0]


async def next_case_numbers(session: AsyncSession, counters: Table, prefix: str, year: int, count: int) -> list[str]:
    """The next ``count`` case numbers of ``prefix`` in ``year``, consecutive, in
    one statement inside the caller's transaction (none for a count of 0)."""
    if PREFIX.fullmatch(prefix) is None:
        raise ValueError(f"a case number prefix is two capital letters, not {prefix!r}")
    if count < 0:
        raise ValueError(f"a count of case numbers is not negative, not {count}")
    if count == 0:
        return []
    statement = conflict_insert(session.get_bind().dialect.name, counters).values(prefix=prefix, year=year, last=count)
    statement = statement.on_conflict_do_update(index_elements=[counters.c.prefix, counters.c.year], set_={"last": counters.c.last + count})
    last = (await session.execute(statement.returning(counters.c.last))).scalar_one()
    return [format_case_number(prefix, year, n) for n in range(last - count + 1, last + 1)]
