"""Voucher applications, reviews and appeals (R4–R6, R15, R16, R18, R19, R22, R26).

Every check runs on vouchers' own read models. Approval commits the amount to
the programme's budget and the user's cap in one transaction: the programme
and account rows are locked (``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``
locks the database), the checks run on what they hold, and the commitments are
conditional UPDATEs (``... WHERE budget_fen - committed_fen >= :a``) under CHECK
constraints, so no interleaving can overspend."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from contracts import vouchers as ve
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.city import City
from services.runtime.db.case_numbers import normalise_case_number
from services.runtime.errors import Conflict, Forbidden
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers import programmes as prog
from services.vouchers import schemas
from services.vouchers.application_steps import (
    APPEALED,
    REJECTED,
    SUBMITTED,
    checks_failed,
    code,
    commit_and_issue,
    decision_for,
    ensure_within_year,
    load_application,
    locked_rows,
    snapshot,
    still_contracted,
    voucher_id_of,
)
from services.vouchers.db.models import (
    applications,
    user_view,
    vouchers,
)
from services.vouchers.domain.applications import (
    appeal_deadline,
    appeal_open,
    overturned,
)
from services.vouchers.schemas import Application, ApplicationPage
from services.runtime.http.pagination import Page, read_page


async def approve(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, city: City, reason: str | None = None) -> Application:
    """R19(2): the center approves; every check runs again now. A failing check
    answers 422 with all failing codes and changes nothing (R4's words name ``city``).
    Only within the application's year (R21)."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await load_application(s, application_id)
        if app["status"] != SUBMITTED:
            raise Conflict("voucher.application_not_pending", "该申请不在待审状态", "the application is not awaiting review", current_status=app["status"])
        ensure_within_year(app["year"], now)
        await still_contracted(s, app)
        programme, account = await locked_rows(s, app["year"], app["user_id"])
        _, _, decision = await decision_for(s, app, programme, account)
        if not decision.approvable:
            raise checks_failed(decision.failures, city)
        return await commit_and_issue(uow, app, decision.amount_fen, decision.cap_fen, from_status=SUBMITTED, now=now, reason=reason)


async def reject(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, reason: str) -> Application:
    """R19(2): the center rejects with a reason; the event lists the failing checks."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await load_application(s, application_id)
        if app["status"] != SUBMITTED:
            raise Conflict("voucher.application_not_pending", "该申请不在待审状态", "the application is not awaiting review", current_status=app["status"])
        programme = await prog.load(s, app["year"])
        account = await prog.load_account(s, app["user_id"], app["year"])
        _, _, decision = await decision_for(s, app, programme, account)
        reasons = [code(c) for c in decision.failures]
        done = await s.execute(
            update(applications)
            .where(applications.c.id == application_id, applications.c.status == SUBMITTED)
            .values(status=REJECTED, amount_fen=0, failures=reasons, decided_at=now, decided_by=actor.label, decision_reason=reason)
        )
        if done.rowcount != 1:
            raise Conflict("voucher.application_not_pending", "该申请不在待审状态", "the application is not awaiting review")
        after = await load_application(s, application_id)
        rejected = schemas.application(after)
        window = prog.policy_of(programme, app["year"]).appeal_window_days
        await uow.emit(ve.ApplicationRejected(**snapshot(after), reasons=reasons, reason=reason, appeal_until=appeal_deadline(now, window)))
        await uow.audit("application.reject", "application", application_id, reason=reason, before=snapshot(app), after=audit_image(rejected, leave_out=schemas.READ_ALONG))
    return rejected


async def appeal(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, user_id: str, reason: str, now: datetime | None = None) -> Application:
    """R19(2): a rejected user appeals once, within the year's appeal window."""
    now = now or clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await load_application(s, application_id)
        if app["user_id"] != user_id:
            raise Forbidden("只能对本用户的申请提起复议", "you may appeal only your own applications")
        if app["status"] != REJECTED or app["appealed_at"] is not None:
            raise Conflict("voucher.appeal_not_allowed", "只有被驳回且尚未复议的申请可以复议", "only a rejected application not yet appealed can be appealed", current_status=app["status"])
        policy = prog.policy_of(await prog.load(s, app["year"]), app["year"])
        if not appeal_open(app["decided_at"], now, policy.appeal_window_days):
            raise Conflict(
                "voucher.appeal_window_closed",
                f"复议须在驳回后{policy.appeal_window_days}日内提出",
                f"an appeal must be filed within {policy.appeal_window_days} days of the rejection",
                appeal_window_days=policy.appeal_window_days,
            )
        done = await s.execute(
            update(applications)
            .where(applications.c.id == application_id, applications.c.status == REJECTED, applications.c.appealed_at.is_(None))
            .values(status=APPEALED, appealed_at=now, appeal_reason=reason)
        )
        if done.rowcount != 1:
            raise Conflict("voucher.appeal_not_allowed", "只有被驳回且尚未复议的申请可以复议", "only a rejected application not yet appealed can be appealed")
        after = await load_application(s, application_id)
        await uow.emit(ve.AppealFiled(**snapshot(after)))
        await uow.audit("appeal.file", "application", application_id, reason=reason, before=snapshot(app), after=snapshot(after))
    return schemas.application(after)


UPHOLD = "uphold"
OVERTURN = "overturn"


async def decide_appeal(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, outcome: str, reason: str, city: City) -> Application:
    """R19(2): the bureau upholds the rejection or overturns it. An overturn
    sets aside the reviewer's judgement only: every hard rule runs again now
    (``overturned``), and a failing one answers 422 with its code, changing
    nothing; the approval is under the budget and cap as they stand now, within
    the application's year (R21)."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await load_application(s, application_id)
        if app["status"] != APPEALED:
            raise Conflict("voucher.no_appeal_pending", "该申请没有待决的复议", "the application has no pending appeal", current_status=app["status"])
        fields = {"appeal_outcome": outcome, "appeal_decided_at": now, "appeal_decided_by": actor.label, "appeal_decision_reason": reason}
        if outcome == UPHOLD:
            done = await s.execute(update(applications).where(applications.c.id == application_id, applications.c.status == APPEALED).values(status=REJECTED, **fields))
            if done.rowcount != 1:
                raise Conflict("voucher.no_appeal_pending", "该申请没有待决的复议", "the application has no pending appeal")
            after = await load_application(s, application_id)
            upheld = schemas.application(after)
            await uow.emit(ve.AppealDecided(**snapshot(after), outcome=outcome, reason=reason))
            await uow.audit("appeal.decide", "application", application_id, reason=reason, before=snapshot(app), after=audit_image(upheld, leave_out=schemas.READ_ALONG))
            return upheld
        ensure_within_year(app["year"], now)
        await still_contracted(s, app)
        programme, account = await locked_rows(s, app["year"], app["user_id"])
        policy, facts, _ = await decision_for(s, app, programme, account)
        decision = overturned(policy, facts)
        if decision.failures:
            raise checks_failed(decision.failures, city)
        amount, cap = decision.amount_fen, decision.cap_fen
        await s.execute(update(applications).where(applications.c.id == application_id).values(**fields))
        app = await load_application(s, application_id)
        result = await commit_and_issue(uow, app, amount, cap, from_status=APPEALED, now=now, reason=reason)
        after = await load_application(s, application_id)
        await uow.emit(ve.AppealDecided(**snapshot(after), outcome=outcome, reason=reason))
        await uow.audit("appeal.decide", "application", application_id, reason=reason, after=audit_image(result, leave_out=schemas.READ_ALONG))
        return result


async def get_application(db: ServiceDatabase, application_id: str, *, user_id: str | None) -> Application:
    async with db.read() as s:
        app = await load_application(s, application_id)
        if user_id is not None and app["user_id"] != user_id:
            raise Forbidden()
        name = (await s.execute(select(user_view.c.name).where(user_view.c.user_id == app["user_id"]))).scalar_one_or_none()
        return schemas.application(app, await voucher_id_of(s, application_id), name)


async def list_applications(
    db: ServiceDatabase, *, user_id: str | None, status: str | None, page: int, page_size: int, case_no: str | None = None, order_id: str | None = None
) -> ApplicationPage:
    """Applications, newest first, each with its voucher's id and its applicant's name (read
    with the page, one query): ``user_id``'s own, or all; ``case_no`` finds one by its case
    number, as typed (case and spaces aside); ``order_id`` the one of that order (unique)."""
    q = select(applications, user_view.c.name.label("user_name")).select_from(applications.outerjoin(user_view, user_view.c.user_id == applications.c.user_id))
    if case_no is not None:
        q = q.where(applications.c.case_no == normalise_case_number(case_no))
    if order_id is not None:
        q = q.where(applications.c.order_id == order_id)
    if user_id is not None:
        q = q.where(applications.c.user_id == user_id)
    if status is not None:
        q = q.where(applications.c.status == status)
    async with db.read() as s:
        rows = await read_page(s, q, order_by=[applications.c.submitted_at.desc(), applications.c.id], page=page, page_size=page_size, item=lambda r: r)
        ids = dict((await s.execute(select(vouchers.c.application_id, vouchers.c.id).where(vouchers.c.application_id.in_([r["id"] for r in rows.items])))).all()) if rows.items else {}
    return Page(items=[schemas.application(r, ids.get(r["id"]), r["user_name"]) for r in rows.items], total=rows.total, page=page, page_size=page_size)
