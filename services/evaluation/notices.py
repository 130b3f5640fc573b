"""Public notices (公示) and the three lists that go on them: grades (R14(3)),
the award plan (R14(4)) and voucher redemptions (R20(3)).

A notice is published with a window of N working days (see
:mod:`services.evaluation.domain.awards` for the rule). Anybody may object to a
line during the window; an objection holds its line and reopens the case
behind it until the center resolves it (:mod:`~services.evaluation.objections`).
A notice becomes final only when its window has closed and no objection is
open; the final list goes out in ``NoticeFinalized``
(:mod:`~services.evaluation.notice_finalization`).

Here: what a notice is, reading it, publishing one, and the grade notice. The
award plan's notice: :mod:`~services.evaluation.award_approval`; the
redemption notice: :mod:`~services.evaluation.redemption_notices`. All of them
read the day from :func:`today` here, so a test moves them all through a window.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import evaluation as ev
from contracts.envelope import new_event_id
from services.evaluation import application_rows as app_rows
from services.evaluation import cycle as cy
from services.evaluation import schemas
from services.evaluation.application_rows import pending_count
from services.evaluation.db.models import applications, case_counters, notice_items, notices, objections, unit_view
from services.evaluation.domain import awards as aw
from services.evaluation.schemas import Notice, NoticePage
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.db.case_numbers import next_case_number, normalise_case_number
from services.runtime.clock import local_today
from services.runtime.errors import Conflict, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar
from services.runtime.http.pagination import read_page

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

#: a notice's case number: GS-<year>-<n> (公示)
NOTICE_CASE_PREFIX = "GS"

GRADE_ZH = {"excellent": "优秀", "good": "良好", "unqualified": "不合格"}


def today() -> date:
    """The policy's date today (Asia/Shanghai); tests replace it to move through a window."""
    return local_today()


# ------------------------------------------------------------------ records


def audited(notice: Notice) -> dict[str, Any]:
    """A notice's state in the audit trail: without its lines (audited with the publication)
    and its open objections (audited one by one)."""
    return audit_image(notice, leave_out=("items", "open_objections"))


def contract_item(row: RowMapping | dict[str, Any]) -> ev.NoticeItem:
    return ev.NoticeItem(ref=row["ref"], unit_id=row["unit_id"], label=row["label"], amount_fen=row["amount_fen"], grade=row["grade"])


async def load_notice(s: AsyncSession, notice_id: str) -> RowMapping:
    row = (await s.execute(select(notices).where(notices.c.id == notice_id))).mappings().first()
    if row is None:
        raise NotFound("notice", "公示", notice_id)
    return row


async def items_of(s: AsyncSession, notice_id: str) -> list[RowMapping]:
    return list((await s.execute(select(notice_items).where(notice_items.c.notice_id == notice_id).order_by(notice_items.c.position))).mappings().all())


async def open_objection_count(s: AsyncSession, notice_id: str, ref: str | None = None) -> int:
    q = select(func.count()).select_from(objections).where(objections.c.notice_id == notice_id, objections.c.status == OPEN)
    if ref is not None:
        q = q.where(objections.c.ref == ref)
    return (await s.execute(q)).scalar_one()


async def get_notice(db: ServiceDatabase, notice_id: str) -> Notice:
    async with db.read() as s:
        row = await load_notice(s, notice_id)
        return schemas.notice(row, await items_of(s, notice_id), await open_objection_count(s, notice_id))


async def list_notices(
    db: ServiceDatabase, *, kind: str | None, year: int | None, status: str | None, page: int, page_size: int, case_no: str | None = None
) -> NoticePage:
    """Notices, newest first; ``case_no`` finds one by its case number, as typed (case and spaces aside)."""
    conds = [c for c in (notices.c.kind == kind if kind else None, notices.c.year == year if year is not None else None, notices.c.status == status if status else None) if c is not None]
    if case_no is not None:
        conds.append(notices.c.case_no == normalise_case_number(case_no))
    where = and_(True, *conds)
    async with db.read() as s:
        return await read_page(s, select(notices).where(where), order_by=[notices.c.published_at.desc(), notices.c.id], page=page, page_size=page_size, item=schemas.notice)


# ------------------------------------------------------------------ publishing


async def publish(
    uow: UnitOfWork, cal: WorkdayCalendar, *, kind: str, year: int, title: str, window: int, lines: list[dict[str, Any]], on: date, reason: str | None
) -> Notice:
    """Put ``lines`` on a new notice of ``kind``; the notice with its lines."""
    if not lines:
        raise Conflict("notice.nothing_to_publish", "没有可公示的内容", "there is nothing to put on the notice", kind=kind, year=year)
    opens_on, closes_on = aw.notice_window(cal, on, window)
    now = clock.utc_now()
    case_no = await next_case_number(uow.session, case_counters, NOTICE_CASE_PREFIX, clock.local_year(now))
    row = {
        "id": new_event_id(), "case_no": case_no, "kind": kind, "year": year, "title": title, "status": PUBLISHED,
        "published_on": on, "opens_on": opens_on, "closes_on": closes_on, "published_at": now, "finalized_at": None,
    }
    await uow.session.execute(insert(notices).values(**row))
    items = [{"notice_id": row["id"], "position": n, "state": LISTED, "grade": None, "total_centi": None, "amount_fen": 0, **line} for n, line in enumerate(lines)]
    await uow.session.execute(insert(notice_items), items)
    await uow.emit(ev.NoticePublished(notice_id=row["id"], case_no=case_no, kind=kind, year=year, title=title, opens_on=opens_on, closes_on=closes_on, items=[contract_item(i) for i in items]))
    published = schemas.notice(row, items, 0)
    await uow.audit("notice.publish", "notice", row["id"], reason=reason, after={**audited(published), "items": [audit_image(i) for i in published.items or []]})
    return published


async def _one_per_year(s: AsyncSession, kind: str, year: int) -> None:
    if (await s.execute(select(notices.c.id).where(notices.c.kind == kind, notices.c.year == year))).first() is not None:
        raise Conflict("notice.already_published", "本年度该类公示已发布", "this year's notice of that kind is already published", kind=kind, year=year)


async def publish_grades(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, cal: WorkdayCalendar, *, year: int, reason: str | None, published_on: date | None = None
) -> Notice:
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
        return await publish(uow, cal, kind=GRADES, year=year, title=f"{year} 年度管理单位开放共享绩效评价结果公示", window=window, lines=lines, on=on, reason=reason)
