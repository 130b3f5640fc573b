"""Voucher redemptions on a public notice (R20(3)): the latest review of each
claim kept from vouchers' ``RedemptionReviewed`` (a read model), and the
notice of the year's approved claims not yet on one."""

from __future__ import annotations

from datetime import date
from sqlalchemy import insert, select, update

from contracts import vouchers as ve
from services.evaluation import cycle as cy
from services.evaluation import schemas
from services.evaluation import notices as nt  # nt.today(): looked up at each call, so tests move the day
from services.evaluation.db.models import redemption_view, unit_view
from services.evaluation.domain import awards as aw
from services.evaluation.notices import REDEMPTION, publish
from services.evaluation.schemas import Notice, RedemptionPage
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.money import yuan
from services.runtime.workdays import WorkdayCalendar
from services.runtime.http.pagination import read_page


async def on_redemption_reviewed(uow: UnitOfWork, e: ve.RedemptionReviewed) -> None:
    """Keep the latest review of each claim (a later review replaces an earlier one)."""
    s = uow.session
    row = (await s.execute(select(redemption_view).where(redemption_view.c.claim_id == e.claim_id))).mappings().first()
    values = {"unit_id": e.unit_id, "year": e.year, "approved": e.approved, "approved_fen": e.approved_fen if e.approved else 0, "reviewed_at": e.occurred_at}
    if row is None:
        await s.execute(insert(redemption_view).values(claim_id=e.claim_id, notice_id=None, **values))
    elif row["reviewed_at"] <= e.occurred_at:
        await s.execute(update(redemption_view).where(redemption_view.c.claim_id == e.claim_id).values(**values))


async def list_redemptions(db: ServiceDatabase, *, year: int, page: int, page_size: int) -> RedemptionPage:
    where = redemption_view.c.year == year
    async with db.read() as s:
        return await read_page(s, select(redemption_view).where(where), order_by=[redemption_view.c.reviewed_at, redemption_view.c.claim_id], page=page, page_size=page_size, item=schemas.redemption)


async def publish_redemptions(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, cal: WorkdayCalendar, window: int, *, year: int, reason: str | None, published_on: date | None = None
) -> Notice:
    """R20(3): the year's approved claims not yet on a notice (several notices per year are allowed)."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        await cy.load_cycle(s, year, lock=True)  # one publisher at a time: a claim is listed once
        q = (
            select(redemption_view, unit_view.c.name)
            .select_from(redemption_view.outerjoin(unit_view, unit_view.c.unit_id == redemption_view.c.unit_id))
            .where(redemption_view.c.year == year, redemption_view.c.approved.is_(True), redemption_view.c.approved_fen > 0, redemption_view.c.notice_id.is_(None))
            .order_by(redemption_view.c.unit_id, redemption_view.c.claim_id)
        )
        rows = (await s.execute(q)).mappings().all()
        lines = [{"ref": r["claim_id"], "unit_id": r["unit_id"], "label": f"{r['name'] or r['unit_id']}：兑现创新券 {yuan(r['approved_fen'])} 元", "amount_fen": r["approved_fen"]} for r in rows]
        on = aw.publication_day(cal, published_on, nt.today(), window)
        notice = await publish(uow, cal, kind=REDEMPTION, year=year, title=f"{year} 年度科技创新券兑现公示", window=window, lines=lines, on=on, reason=reason)
        await s.execute(update(redemption_view).where(redemption_view.c.claim_id.in_([r["claim_id"] for r in rows])).values(notice_id=notice.notice_id))
        return notice
