"""An award in evaluation's name, and waiting for payments to owe it: the
smallest journey that proves a service hears another over the bus."""

from __future__ import annotations

import nats
from sqlalchemy import func, select

from contracts.envelope import encode
from contracts.evaluation import AwardApproved, CycleOpened
from services.payments.db.models import payouts
from services.runtime.bus_identity.credentials import BusAccess
from tests.support.platform import Platform
from tests.support.polling import eventually
from tests.support.vouchers import uid


async def publish_award(evaluation: BusAccess, year: int) -> str:
    """Open ``year``'s cycle and approve one award for a new unit, as evaluation; returns the unit."""
    unit = uid()
    cycle = CycleOpened(year=year, indicator_set_version=f"{year}.1", award_budget_fen=2_000_000_00, excellent_award_fen=5_000_000, good_award_fen=3_000_000)
    award = AwardApproved(award_id=uid(), unit_id=unit, year=year, grade="good", amount_fen=3_000_000, notice_id=f"n-{unit}")
    nc = await nats.connect(evaluation.url, allow_reconnect=False, **evaluation.connect_options())
    try:
        js = nc.jetstream()
        for e in (cycle, award):
            await js.publish(e.subject, encode(e), headers={"Nats-Msg-Id": e.event_id})
    finally:
        await nc.close()
    return unit


async def payout_owed(p: Platform, unit: str) -> None:
    db = p["payments"].db

    async def posted() -> bool:
        async with db.read() as s:
            return (await s.execute(select(func.count()).select_from(payouts).where(payouts.c.unit_id == unit))).scalar_one() == 1

    await eventually(posted)
