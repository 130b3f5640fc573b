"""R20(1) 科技创新券兑现每年进行一次，与绩效评价同时开展: the claim window of
a programme year opens with that year's evaluation cycle. When the bureau
names the window as it opens the cycle, vouchers opens it from
``evaluation.cycle.opened.v1``; a window the center has already set is its
decision and stays (the center may still change either with
``PUT /v1/redemption/windows/{year}``).

A window's ``version`` is its ``ETag``: the center's change sent with
``If-Match`` applies only to the version it read (issue 17)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select

from contracts import evaluation as ee
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.errors import Conflict, NotFound
from services.runtime.http.preconditions import write_versioned
from services.vouchers import schemas
from services.vouchers.db.models import redemption_windows
from services.vouchers.domain import redemption as rules
from services.vouchers.schemas import Window


async def on_cycle_opened(uow: UnitOfWork, e: ee.CycleOpened) -> None:
    if e.redemption_opens_on is None or e.redemption_closes_on is None:
        return
    s = uow.session
    if (await s.execute(select(redemption_windows.c.year).where(redemption_windows.c.year == e.year))).first() is not None:
        return  # the center's window stands (and a redelivered event changes nothing)
    window = rules.Window(e.year, e.redemption_opens_on, e.redemption_closes_on)
    row = {"year": e.year, "opens_on": window.opens_on, "closes_on": window.closes_on, "version": 1, "updated_at": clock.utc_now()}
    await s.execute(insert(redemption_windows).values(**row))
    await uow.audit("redemption.window.set", "redemption_window", str(e.year), reason="opened with the evaluation cycle (R20(1))", after=audit_image(schemas.window(row)))


async def set_window(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, year: int, opens_on: date, closes_on: date, *, expected_version: int | None = None, if_match_sent: bool = False,
    only_create: bool = False,
) -> Window:
    """The center sets a year's window. ``expected_version`` (an If-Match): only that
    version is replaced (412); a window not set yet takes no If-Match (``if_match_sent``:
    ``*`` too is 412); ``only_create`` (If-None-Match: *): a window set already is 412
    ``request.record_exists``. The row is read locked and written only at the version read
    (a first window: unless one appeared meanwhile): 409 ``redemption.window_concurrent_change``."""
    window = rules.Window(year, opens_on, closes_on)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        before = (await s.execute(select(redemption_windows).where(redemption_windows.c.year == year).with_for_update())).mappings().first()
        row = {"opens_on": window.opens_on, "closes_on": window.closes_on, "updated_at": now}
        version = await write_versioned(s, redemption_windows, {"year": year}, row, before, expected=expected_version, if_match_sent=if_match_sent, only_create=only_create)
        if version is None:
            raise Conflict("redemption.window_concurrent_change", "兑付申报期正被他人修改，请刷新后重试", "the claim window changed meanwhile; reload it and apply your change again")
        result = schemas.window({**row, "year": year, "version": version})
        await uow.audit("redemption.window.set", "redemption_window", str(year), before=audit_image(schemas.window(before)) if before else None, after=audit_image(result))
    return result


async def get_window(db: ServiceDatabase, year: int) -> Window:
    async with db.read() as s:
        row = (await s.execute(select(redemption_windows).where(redemption_windows.c.year == year))).mappings().first()
    if row is None:
        raise NotFound("redemption_window", "兑付申报期", str(year))
    return schemas.window(row)
