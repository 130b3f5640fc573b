"""Public notices (公示), objections, finalization — and the three lists that go
on them: grades (R14(3)), the award plan (R14(4)) and voucher redemptions (R20(3)).

A notice is published with a window of N working days (see
:mod:`services.evaluation.domain.awards` for the rule). Anybody may object to a
line, with their real name and a phone or identity number (encrypted at rest,
shown masked). An objection holds its line and reopens the case behind it:
a grade goes back to the center's decision; an award or a redemption line is
held. The center resolves each objection: the line stands (``upheld_line``),
is corrected from the case as it stands now (``corrected``: the re-decided
grade, the award recomputed, the claim's latest review), or is taken off the
list (``withdrawn``). A notice becomes final only when its window has closed
and no objection is open; the final list goes out in ``NoticeFinalized``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric

from contracts import evaluation as ev
from contracts import vouchers as ve
from contracts.envelope import new_event_id
from services.evaluation import application_rows as app_rows
from services.evaluation import cycle as cy
from services.evaluation.applications import pending_count
from services.evaluation.db.models import applications, awards, notice_items, notices, objections, provincial_awards, redemption_view, unit_view
from services.evaluation.domain import awards as aw
from services.evaluation.domain import indicators as ind
from services.runtime import clock
from services.runtime.clock import local_today
from services.runtime.crypto import FieldCipher, mask_id_number
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.outbox import SYSTEM, Actor, UnitOfWork
from services.runtime.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar

GRADES = "grades"
AWARD_PLAN = "award_plan"
REDEMPTION = "redemption"

PUBLISHED = "published"
FINAL = "final"

LISTED = "listed"
HELD = "held"
WITHDRAWN = "withdrawn"

OPEN = "open"
RESOLVED = "resolved"
OUTCOMES = ("upheld_line", "corrected", "withdrawn")

GRADE_ZH = {"excellent": "优秀", "good": "良好", "unqualified": "不合格"}


def today() -> date:
    """The policy's date today (Asia/Shanghai); tests replace it to move through a window."""
    return local_today()


def _now() -> datetime:
    return clock.utc_now()


# ------------------------------------------------------------------ views


def notice_view(row: RowMapping | dict[str, Any], items: list[RowMapping] | None = None, open_objections: int | None = None) -> dict[str, Any]:
    out = {k: row[k] for k in ("kind", "year", "title", "status", "published_on", "opens_on", "closes_on", "published_at", "finalized_at")}
    out["notice_id"] = row["id"]
    if items is not None:
        out["items"] = [item_view(i) for i in items]
    if open_objections is not None:
        out["open_objections"] = open_objections
    return out


def item_view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("ref", "unit_id", "label", "amount_fen", "grade", "total_centi", "state")}


def objection_view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "objection_id": row["id"],
        "notice_id": row["notice_id"],
        "ref": row["ref"],
        "unit_id": row["unit_id"],
        "name": row["name"],
        "contact_kind": row["contact_kind"],
        "contact": row["contact_masked"],
        "text": row["text"],
        "status": row["status"],
        "outcome": row["outcome"],
        "resolution": row["resolution"],
        "raised_at": row["raised_at"],
        "resolved_at": row["resolved_at"],
    }


def _contract_item(row: RowMapping | dict[str, Any]) -> ev.NoticeItem:
    return ev.NoticeItem(ref=row["ref"], unit_id=row["unit_id"], label=row["label"], amount_fen=row["amount_fen"], grade=row["grade"])


async def _notice(s: AsyncSession, notice_id: str) -> RowMapping:
    row = (await s.execute(select(notices).where(notices.c.id == notice_id))).mappings().first()
    if row is None:
        raise NotFound("notice", "公示", notice_id)
    return row


async def _items(s: AsyncSession, notice_id: str) -> list[RowMapping]:
    return list((await s.execute(select(notice_items).where(notice_items.c.notice_id == notice_id).order_by(notice_items.c.position))).mappings().all())


async def _open_count(s: AsyncSession, notice_id: str, ref: str | None = None) -> int:
    q = select(func.count()).select_from(objections).where(objections.c.notice_id == notice_id, objections.c.status == OPEN)
    if ref is not None:
        q = q.where(objections.c.ref == ref)
    return (await s.execute(q)).scalar_one()


async def get_notice(db: ServiceDatabase, notice_id: str) -> dict[str, Any]:
    async with db.read() as s:
        row = await _notice(s, notice_id)
        return notice_view(row, await _items(s, notice_id), await _open_count(s, notice_id))


async def list_notices(db: ServiceDatabase, *, kind: str | None, year: int | None, status: str | None, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    conds = [c for c in (notices.c.kind == kind if kind else None, notices.c.year == year if year is not None else None, notices.c.status == status if status else None) if c is not None]
    where = and_(True, *conds)
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(notices).where(where))).scalar_one()
        rows = (await s.execute(select(notices).where(where).order_by(notices.c.published_at.desc(), notices.c.id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [notice_view(r) for r in rows], total


# ------------------------------------------------------------------ publishing


async def _publish(
    uow: UnitOfWork, cal: WorkdayCalendar, *, kind: str, year: int, title: str, window: int, lines: list[dict[str, Any]], on: date, reason: str | None
) -> dict[str, Any]:
    if not lines:
        raise Conflict("notice.nothing_to_publish", "没有可公示的内容", "there is nothing to put on the notice", kind=kind, year=year)
    opens_on, closes_on = aw.notice_window(cal, on, window)
    row = {"id": new_event_id(), "kind": kind, "year": year, "title": title, "status": PUBLISHED, "published_on": on, "opens_on": opens_on, "closes_on": closes_on, "published_at": _now(), "finalized_at": None}
    await uow.session.execute(insert(notices).values(**row))
    items = [{"notice_id": row["id"], "position": n, "state": LISTED, "grade": None, "total_centi": None, "amount_fen": 0, **line} for n, line in enumerate(lines)]
    await uow.session.execute(insert(notice_items), items)
    await uow.emit(ev.NoticePublished(notice_id=row["id"], kind=kind, year=year, title=title, opens_on=opens_on, closes_on=closes_on, items=[_contract_item(i) for i in items]))
    await uow.audit("notice.publish", "notice", row["id"], reason=reason, after={**notice_view(row), "items": [item_view(i) for i in items]})
    return notice_view(row, [i for i in items], 0)  # type: ignore[arg-type]


async def _one_per_year(s: AsyncSession, kind: str, year: int) -> None:
    if (await s.execute(select(notices.c.id).where(notices.c.kind == kind, notices.c.year == year))).first() is not None:
        raise Conflict("notice.already_published", "本年度该类公示已发布", "this year's notice of that kind is already published", kind=kind, year=year)


async def publish_grades(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, cal: WorkdayCalendar, *, year: int, reason: str | None, published_on: date | None = None
) -> dict[str, Any]:
    """R14(3): every graded application of the year, once no application is still on its way."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        cycle = await cy.load_cycle(s, year, lock=True)
        await _one_per_year(s, GRADES, year)
        pending = await pending_count(s, year)
        if pending:
            raise Conflict("notice.applications_pending", "尚有申请未完成审核或评分", "some applications are still being reviewed or scored", pending=pending)
        q = (
            select(applications, unit_view.c.name)
            .select_from(applications.outerjoin(unit_view, unit_view.c.unit_id == applications.c.unit_id))
            .where(applications.c.year == year, applications.c.status == app_rows.GRADED)
            .order_by(applications.c.total_centi.desc(), applications.c.unit_id)
        )
        rows = (await s.execute(q)).mappings().all()
        lines = [
            {"ref": r["id"], "unit_id": r["unit_id"], "label": f"{r['name'] or r['unit_id']}：{GRADE_ZH[r['grade']]}（{r['total_centi'] / 100:.2f} 分）", "grade": r["grade"], "total_centi": r["total_centi"]}
            for r in rows
        ]
        window = cy.indicator_set(cycle).parameters(year).notice_window_workdays
        on = aw.publication_day(cal, published_on, today(), window)
        return await _publish(uow, cal, kind=GRADES, year=year, title=f"{year} 年度管理单位开放共享绩效评价结果公示", window=window, lines=lines, on=on, reason=reason)


# ------------------------------------------------------------------ objections


PHONE = re.compile(r"^\+?\d[\d-]{6,19}$")


def _mask_phone(p: str) -> str:
    digits = p.replace("-", "").lstrip("+")
    return digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


async def raise_objection(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, cipher: FieldCipher, notice_id: str, *, ref: str, name: str, phone: str | None, id_number: str | None, text: str
) -> dict[str, Any]:
    """Anybody, with their real name and a phone or identity number, during the window."""
    name = name.strip()
    if not name:
        raise DomainError("objection.real_name_required", "异议须实名提出", "an objection needs your real name")
    if phone:
        if not PHONE.match(phone.strip()):
            raise DomainError("objection.contact_invalid", "联系电话格式不正确", "the phone number is not valid")
        kind, contact, masked = "phone", phone.strip(), _mask_phone(phone.strip())
    elif id_number:
        if not ric.is_valid(id_number.strip()):
            raise DomainError("objection.contact_invalid", "身份证号码不正确", "the identity number is not valid")
        kind, contact, masked = "id_number", id_number.strip().upper(), mask_id_number(id_number.strip().upper())
    else:
        raise DomainError("objection.real_name_required", "异议须实名提出：请留下电话或身份证号码", "an objection needs a phone or identity number with the name")
    on = today()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        notice = await _notice(s, notice_id)
        if notice["status"] != PUBLISHED or not aw.objections_open(notice["closes_on"], on):
            raise Conflict("objection.window_closed", "公示期已结束，不再受理异议", "the notice's objection window has closed", closes_on=notice["closes_on"].isoformat())
        item = (await s.execute(select(notice_items).where(notice_items.c.notice_id == notice_id, notice_items.c.ref == ref))).mappings().first()
        if item is None or item["state"] == WITHDRAWN:
            raise NotFound("notice_item", "公示条目", ref)
        row = {
            "id": new_event_id(),
            "notice_id": notice_id,
            "ref": ref,
            "unit_id": item["unit_id"],
            "name": name,
            "contact_kind": kind,
            "contact_enc": cipher.encrypt(contact, "objection.contact"),
            "contact_masked": masked,
            "text": text,
            "status": OPEN,
            "raised_at": _now(),
        }
        await s.execute(insert(objections).values(**row))
        await s.execute(update(notice_items).where(notice_items.c.notice_id == notice_id, notice_items.c.ref == ref).values(state=HELD))
        if notice["kind"] == GRADES:
            # the case goes back to the center's decision
            await s.execute(update(applications).where(applications.c.id == ref, applications.c.status == app_rows.GRADED).values(status=app_rows.REOPENED, version=applications.c.version + 1))
        await uow.emit(ev.ObjectionRaised(notice_id=notice_id, objection_id=row["id"], kind=notice["kind"], year=notice["year"], ref=ref, unit_id=item["unit_id"]))
        saved = (await s.execute(select(objections).where(objections.c.id == row["id"]))).mappings().one()
        await uow.audit("objection.raise", "objection", row["id"], after=objection_view(saved))
        return objection_view(saved)


async def list_objections(db: ServiceDatabase, notice_id: str, *, status: str | None, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    where = and_(objections.c.notice_id == notice_id, *([objections.c.status == status] if status else []))
    async with db.read() as s:
        await _notice(s, notice_id)
        total = (await s.execute(select(func.count()).select_from(objections).where(where))).scalar_one()
        rows = (await s.execute(select(objections).where(where).order_by(objections.c.raised_at, objections.c.id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [objection_view(r) for r in rows], total


async def _correct_grade(s: AsyncSession, item: RowMapping, outcome: str) -> dict[str, Any]:
    app = (await s.execute(select(applications).where(applications.c.id == item["ref"]))).mappings().one()
    if outcome == "withdrawn":
        await s.execute(update(applications).where(applications.c.id == app["id"]).values(status=app_rows.WITHDRAWN, version=applications.c.version + 1))
        return {"state": WITHDRAWN}
    if outcome == "upheld_line":
        if app["status"] == app_rows.GRADED and (app["grade"], app["total_centi"]) != (item["grade"], item["total_centi"]):
            raise Conflict("objection.line_changed", "该单位已重新评定，请以“更正”处理", "the case was re-decided with another result; resolve it as corrected", grade=app["grade"], total_centi=app["total_centi"])
        await s.execute(update(applications).where(applications.c.id == app["id"], applications.c.status == app_rows.REOPENED).values(status=app_rows.GRADED, version=applications.c.version + 1))
        return {}
    if app["status"] != app_rows.GRADED:
        raise Conflict("objection.case_not_redecided", "请先重新评定该单位的等次，再更正公示", "decide the reopened case again before correcting the line", current_status=app["status"])
    unit_name = (await s.execute(select(unit_view.c.name).where(unit_view.c.unit_id == app["unit_id"]))).scalar_one_or_none()
    return {"grade": app["grade"], "total_centi": app["total_centi"], "label": f"{unit_name or app['unit_id']}：{GRADE_ZH[app['grade']]}（{app['total_centi'] / 100:.2f} 分）"}


async def _correct_award(s: AsyncSession, item: RowMapping, outcome: str) -> dict[str, Any]:
    award = (await s.execute(select(awards).where(awards.c.id == item["ref"]))).mappings().one()
    if outcome == "upheld_line":
        return {}
    if outcome == "corrected":
        provincial = (await s.execute(select(provincial_awards.c.unit_id).where(provincial_awards.c.unit_id == award["unit_id"], provincial_awards.c.year == award["year"]))).first()
        if provincial is None:
            return {}  # the line was right: the award stands as computed
        await s.execute(update(awards).where(awards.c.id == award["id"]).values(status=WITHDRAWN, amount_fen=0, outcome=aw.PROVINCIAL_AWARD))
        return {"state": WITHDRAWN, "amount_fen": 0}
    await s.execute(update(awards).where(awards.c.id == award["id"]).values(status=WITHDRAWN))
    return {"state": WITHDRAWN}


async def _correct_redemption(s: AsyncSession, item: RowMapping, outcome: str) -> dict[str, Any]:
    if outcome == "upheld_line":
        return {}
    claim = (await s.execute(select(redemption_view).where(redemption_view.c.claim_id == item["ref"]))).mappings().first()
    if outcome == "corrected" and claim is not None and claim["approved"] and claim["approved_fen"] > 0:
        return {"amount_fen": claim["approved_fen"]}
    # off the list; a later review can put the claim on another notice
    await s.execute(update(redemption_view).where(redemption_view.c.claim_id == item["ref"]).values(notice_id=None))
    return {"state": WITHDRAWN}


CORRECTORS: dict[str, Callable[[AsyncSession, RowMapping, str], Any]] = {GRADES: _correct_grade, AWARD_PLAN: _correct_award, REDEMPTION: _correct_redemption}


async def resolve(db: ServiceDatabase, actor: Actor, correlation_id: str | None, objection_id: str, *, outcome: str, reason: str) -> dict[str, Any]:
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        obj = (await s.execute(select(objections).where(objections.c.id == objection_id))).mappings().first()
        if obj is None:
            raise NotFound("objection", "异议", objection_id)
        if obj["status"] != OPEN:
            raise Conflict("objection.already_resolved", "该异议已处理", "the objection is already resolved", outcome=obj["outcome"])
        notice = await _notice(s, obj["notice_id"])
        item = (await s.execute(select(notice_items).where(notice_items.c.notice_id == notice["id"], notice_items.c.ref == obj["ref"]))).mappings().one()
        changes: dict[str, Any] = dict(await CORRECTORS[notice["kind"]](s, item, outcome)) if item["state"] != WITHDRAWN else {}
        done = await s.execute(
            update(objections).where(objections.c.id == objection_id, objections.c.status == OPEN).values(status=RESOLVED, outcome=outcome, resolution=reason, resolved_at=_now(), resolved_by=cy.by(actor))
        )
        if done.rowcount != 1:
            raise Conflict("objection.already_resolved", "该异议已处理", "the objection is already resolved")
        if changes.get("state") != WITHDRAWN and item["state"] != WITHDRAWN and await _open_count(s, notice["id"], obj["ref"]) == 0:
            changes["state"] = LISTED
        if changes:
            await s.execute(update(notice_items).where(notice_items.c.notice_id == notice["id"], notice_items.c.ref == obj["ref"]).values(**changes))
        after = (await s.execute(select(objections).where(objections.c.id == objection_id))).mappings().one()
        await uow.emit(ev.ObjectionResolved(notice_id=notice["id"], objection_id=objection_id, kind=notice["kind"], year=notice["year"], ref=obj["ref"], unit_id=obj["unit_id"], outcome=outcome))  # type: ignore[arg-type]
        new_item = (await s.execute(select(notice_items).where(notice_items.c.notice_id == notice["id"], notice_items.c.ref == obj["ref"]))).mappings().one()
        await uow.audit("objection.resolve", "objection", objection_id, reason=reason, before={**objection_view(obj), "item": item_view(item)}, after={**objection_view(after), "item": item_view(new_item)})
        return objection_view(after)


# ------------------------------------------------------------------ finalization


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
    await _rectify_and_recognise(uow, year, params, on)


async def _rectify_and_recognise(uow: UnitOfWork, year: int, params: ind.YearParameters, on: date) -> None:
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


async def finalize(db: ServiceDatabase, actor: Actor, correlation_id: str | None, notice_id: str, *, on: date | None = None) -> dict[str, Any]:
    """Final when the window has closed and no objection is open; a final notice answers as it is (idempotent)."""
    on = on or today()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        notice = await _notice(s, notice_id)
        if notice["status"] == FINAL:
            return notice_view(notice, await _items(s, notice_id), 0)
        if not aw.window_closed(notice["closes_on"], on):
            raise Conflict("notice.window_open", "公示期尚未结束", "the notice's window has not closed yet", closes_on=notice["closes_on"].isoformat())
        open_count = await _open_count(s, notice_id)
        if open_count:
            raise Conflict("notice.objections_open", "尚有未处理的异议", "objections are still open", open_objections=open_count)
        now = _now()
        done = await s.execute(update(notices).where(notices.c.id == notice_id, notices.c.status == PUBLISHED).values(status=FINAL, finalized_at=now))
        if done.rowcount != 1:
            raise Conflict("notice.concurrent_change", "公示状态已变化，请重试", "the notice changed meanwhile; retry")
        items = await _items(s, notice_id)
        final_items = [i for i in items if i["state"] == LISTED]
        await uow.emit(ev.NoticeFinalized(notice_id=notice_id, kind=notice["kind"], year=notice["year"], finalized_at=now, items=[_contract_item(i) for i in final_items]))
        await AFTER[notice["kind"]](uow, notice, items, on)
        after = await _notice(s, notice_id)
        await uow.audit("notice.finalize", "notice", notice_id, reason="window closed with no open objection", before=notice_view(notice), after=notice_view(after))
        return notice_view(after, items, 0)


async def finalize_due(db: ServiceDatabase, on: date | None = None) -> int:
    """The worker's periodic task: finalize every notice whose window has closed with no open objection."""
    on = on or today()
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


# ------------------------------------------------------------------ redemption reviews (read model) and their notice


async def on_redemption_reviewed(uow: UnitOfWork, e: ve.RedemptionReviewed) -> None:
    """Keep the latest review of each claim (a later review replaces an earlier one)."""
    s = uow.session
    row = (await s.execute(select(redemption_view).where(redemption_view.c.claim_id == e.claim_id))).mappings().first()
    values = {"unit_id": e.unit_id, "year": e.year, "approved": e.approved, "approved_fen": e.approved_fen if e.approved else 0, "reviewed_at": e.occurred_at}
    if row is None:
        await s.execute(insert(redemption_view).values(claim_id=e.claim_id, notice_id=None, **values))
    elif row["reviewed_at"] <= e.occurred_at:
        await s.execute(update(redemption_view).where(redemption_view.c.claim_id == e.claim_id).values(**values))


async def list_redemptions(db: ServiceDatabase, *, year: int, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    where = redemption_view.c.year == year
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(redemption_view).where(where))).scalar_one()
        rows = (await s.execute(select(redemption_view).where(where).order_by(redemption_view.c.reviewed_at, redemption_view.c.claim_id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [dict(r) for r in rows], total


async def publish_redemptions(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, cal: WorkdayCalendar, window: int, *, year: int, reason: str | None, published_on: date | None = None
) -> dict[str, Any]:
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
        lines = [{"ref": r["claim_id"], "unit_id": r["unit_id"], "label": f"{r['name'] or r['unit_id']}：兑现创新券 {r['approved_fen'] / 100:,.2f} 元", "amount_fen": r["approved_fen"]} for r in rows]
        on = aw.publication_day(cal, published_on, today(), window)
        notice = await _publish(uow, cal, kind=REDEMPTION, year=year, title=f"{year} 年度科技创新券兑现公示", window=window, lines=lines, on=on, reason=reason)
        await s.execute(update(redemption_view).where(redemption_view.c.claim_id.in_([r["claim_id"] for r in rows])).values(notice_id=notice["notice_id"]))
        return notice
