"""Finalizing a public notice: final only when its window has closed and no
objection is open; the final list goes out in ``NoticeFinalized``, and each
kind of notice then takes effect (grades become final; the award plan's
awards are approved, an unqualified unit gets its rectification deadline and
an excellent one is recognised (M15)). The worker finalizes due notices
periodically (:func:`finalize_due`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping

from contracts import evaluation as ev
from services.evaluation import application_rows as app_rows
from services.evaluation import cycle as cy
from services.evaluation import schemas
from services.evaluation import notices as nt  # nt.today(): looked up at each call, so tests move the day
from services.evaluation.db.models import applications, awards, notices
from services.evaluation.domain import awards as aw
from services.evaluation.domain import indicators as ind
from services.evaluation.schemas import Notice
from services.evaluation.notices import AWARD_PLAN, FINAL, GRADES, LISTED, PUBLISHED, REDEMPTION, audited, contract_item, items_of, load_notice, open_objection_count
from services.runtime import clock
from services.runtime.errors import Conflict
from services.runtime.db.unit_of_work import SYSTEM, Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase


async def _after_grades(uow: UnitOfWork, notice: RowMapping, items: list[RowMapping], on: date) -> None:
    refs = [i["ref"] for i in items if i["state"] == LISTED]
    if refs:
        await uow.session.execute(update(applications).where(applications.c.id.in_(refs), applications.c.status == app_rows.GRADED).values(status=app_rows.FINAL, version=applications.c.version + 1))


async def _after_award_plan(uow: UnitOfWork, notice: RowMapping, items: list[RowMapping], on: date) -> None:
    s, year = uow.session, notice["year"]
    cycle = await cy.load_cycle(s, year)
    params = cy.indicator_set(cycle).parameters(year)
    for i in items:
        if i["state"] != LISTED:
            continue
        await s.execute(update(awards).where(awards.c.id == i["ref"], awards.c.status == "proposed").values(status="approved"))
        await uow.emit(ev.AwardApproved(award_id=i["ref"], unit_id=i["unit_id"], year=year, grade=i["grade"], amount_fen=i["amount_fen"], notice_id=notice["id"]))
    await rectify_and_recognise(uow, year, params, on)


async def rectify_and_recognise(uow: UnitOfWork, year: int, params: ind.YearParameters, on: date) -> None:
    """M15: an unqualified unit gets a rectification deadline; an excellent one is announced."""
    s = uow.session
    lines = (await s.execute(select(awards).where(awards.c.year == year).order_by(awards.c.rank))).mappings().all()
    deadline = ind.rectification_deadline(params, on)
    for line in lines:
        if line["grade"] == "unqualified":
            await s.execute(update(awards).where(awards.c.id == line["id"]).values(rectification_deadline=deadline))
            await uow.emit(ev.RectificationRequired(unit_id=line["unit_id"], year=year, deadline=deadline))
            await uow.audit("rectification.require", "unit", line["unit_id"], reason=f"unqualified in {year}", after={"deadline": deadline.isoformat()})
        elif line["grade"] == "excellent":
            await uow.emit(ev.UnitRecognised(unit_id=line["unit_id"], year=year, grade="excellent"))


async def _after_redemption(uow: UnitOfWork, notice: RowMapping, items: list[RowMapping], on: date) -> None:
    return None


AFTER = {GRADES: _after_grades, AWARD_PLAN: _after_award_plan, REDEMPTION: _after_redemption}


async def finalize(db: ServiceDatabase, actor: Actor, correlation_id: str | None, notice_id: str, *, on: date | None = None) -> Notice:
    """Final when the window has closed and no objection is open; a final notice answers as it is (idempotent)."""
    on = on or nt.today()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        notice = await load_notice(s, notice_id)
        if notice["status"] == FINAL:
            return schemas.notice(notice, await items_of(s, notice_id), 0)
        if not aw.window_closed(notice["closes_on"], on):
            raise Conflict("notice.window_open", "公示期尚未结束", "the notice's window has not closed yet", closes_on=notice["closes_on"].isoformat())
        open_count = await open_objection_count(s, notice_id)
        if open_count:
            raise Conflict("notice.objections_open", "尚有未处理的异议", "objections are still open", open_objections=open_count)
        now = clock.utc_now()
        done = await s.execute(update(notices).where(notices.c.id == notice_id, notices.c.status == PUBLISHED).values(status=FINAL, finalized_at=now))
        if done.rowcount != 1:
            raise Conflict("notice.concurrent_change", "公示状态已变化，请重试", "the notice changed meanwhile; retry")
        items = await items_of(s, notice_id)
        final_items = [i for i in items if i["state"] == LISTED]
        await uow.emit(ev.NoticeFinalized(notice_id=notice_id, case_no=notice["case_no"], kind=notice["kind"], year=notice["year"], finalized_at=now, items=[contract_item(i) for i in final_items]))
        await AFTER[notice["kind"]](uow, notice, items, on)
        after = await load_notice(s, notice_id)
        await uow.audit("notice.finalize", "notice", notice_id, reason="window closed with no open objection", before=audited(schemas.notice(notice)), after=audited(schemas.notice(after)))
        return schemas.notice(after, items, 0)


async def finalize_due(db: ServiceDatabase, on: date | None = None) -> int:
    """The worker's periodic task: finalize every notice whose window has closed with no open objection."""
    on = on or nt.today()
    async with db.read() as s:
        due = list((await s.execute(select(notices.c.id).where(notices.c.status == PUBLISHED, notices.c.closes_on < on).order_by(notices.c.published_at))).scalars())
    n = 0
    for notice_id in due:
        try:
            await finalize(db, SYSTEM, None, notice_id, on=on)
            n += 1
        except Conflict:
            continue  # objections open, or another worker got there first
    return n
