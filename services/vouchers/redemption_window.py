"""R20(1) 科技创新券兑现每年进行一次，与绩效评价同时开展: the claim window of
a programme year opens with that year's evaluation cycle. When the bureau
names the window as it opens the cycle, vouchers opens it from
``evaluation.cycle.opened.v1``; a window the center has already set is its
decision and stays (the center may still change either with
``PUT /v1/redemption/windows/{year}``)."""

from __future__ import annotations

from sqlalchemy import insert, select

from contracts import evaluation as ee
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.db.unit_of_work import UnitOfWork
from services.vouchers import schemas
from services.vouchers.db.models import redemption_windows
from services.vouchers.domain import redemption as rules


async def on_cycle_opened(uow: UnitOfWork, e: ee.CycleOpened) -> None:
    if e.redemption_opens_on is None or e.redemption_closes_on is None:
        return
    s = uow.session
    if (await s.execute(select(redemption_windows.c.year).where(redemption_windows.c.year == e.year))).first() is not None:
        return  # the center's window stands (and a redelivered event changes nothing)
    window = rules.Window(e.year, e.redemption_opens_on, e.redemption_closes_on)
    row = {"year": e.year, "opens_on": window.opens_on, "closes_on": window.closes_on, "updated_at": clock.utc_now()}
    await s.execute(insert(redemption_windows).values(**row))
    await uow.audit("redemption.window.set", "redemption_window", str(e.year), reason="opened with the evaluation cycle (R20(1))", after=audit_image(schemas.window(row)))
