"""The vouchers service's own gauge: what is left of each programme year's
budget (R15), read from the database when ``/metrics`` is scraped (the
runtime caches the result for ``XCISS_METRICS_CACHE_S``)."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy import select

from services.runtime.db.service_db import ServiceDatabase
from services.vouchers.db.models import programmes

BUDGET_REMAINING = Gauge(
    "xciss_voucher_budget_remaining_fen",
    "Budget of a programme year not yet committed to approved applications (budget_fen - committed_fen), in fen",
    ["year"],
)


async def budget_remaining(db: ServiceDatabase) -> None:
    async with db.read() as s:
        rows = (await s.execute(select(programmes.c.year, programmes.c.budget_fen, programmes.c.committed_fen))).all()
    BUDGET_REMAINING.clear()  # no await between clearing and setting: a scrape never sees it empty
    for year, budget, committed in rows:
        BUDGET_REMAINING.labels(str(year)).set(budget - committed)
