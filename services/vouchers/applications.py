"""Voucher applications, reviews and appeals (R4–R6, R15, R16, R18, R19, R22, R26).

Every check runs on vouchers' own read models. Approval commits the amount to
the programme's budget and the user's cap in one transaction: the programme
and account rows are locked (``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``
locks the database), the checks run on what they hold, and the commitments are
conditional UPDATEs (``... WHERE budget_fen - committed_fen >= :a``) under CHECK
constraints, so no interleaving can overspend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import vouchers as ve
from contracts.envelope import new_event_id
from services.runtime.errors import Conflict, DomainError, Forbidden, NotFound
from services.runtime.outbox import Actor, UnitOfWork
from services.runtime.service_db import ServiceDatabase
from services.vouchers import programmes as prog
from services.vouchers import readmodel
from services.vouchers.db.models import accounts, applications, order_view, programmes, unit_view, user_view, vouchers
from services.vouchers.domain.applications import MESSAGES, ApplicationFacts, Check, Decision, decide, expires_at, overturned, programme_year
from services.vouchers.domain.policy import VoucherPolicy

SUBMITTED = "submitted"
APPROVED = "approved"
REJECTED = "rejected"
APPEALED = "appealed"
ISSUED = "issued"

STATUTORY_TESTING = "statutory_testing"

#: applications that hold their contract (R22: one contract, one voucher)
HOLDING = (SUBMITTED, APPROVED, APPEALED)


def code(check: Check | str) -> str:
    return f"voucher.{check}"


def failure(check: Check) -> dict[str, str]:
    zh, en = MESSAGES[check]
    return {"code": code(check), "message_zh": zh, "message_en": en}


def checks_failed(failures: tuple[Check, ...] | list[Check]) -> DomainError:
    """422 whose code is the first failing check; ``details.failures`` has them all."""
    first = failures[0]
    zh, en = MESSAGES[first]
    return DomainError(code(first), zh, en, status=422, failures=[failure(c) for c in failures])


def _by(actor: Actor) -> str:
    return f"{actor.role}:{actor.subject}"[:200]


def _snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "application_id": row["id"],
        "user_id": row["user_id"],
        "unit_id": row["unit_id"],
        "order_id": row["order_id"],
        "year": row["year"],
        "status": row["status"],
        "amount_fen": row["amount_fen"],
    }


def view(row: RowMapping | dict[str, Any], voucher_id: str | None = None) -> dict[str, Any]:
    return {
        **_snapshot(row),
        "failures": list(row["failures"]),
        "submitted_at": row["submitted_at"],
        "decided_at": row["decided_at"],
        "decision_reason": row["decision_reason"],
        "appealed_at": row["appealed_at"],
        "appeal_reason": row["appeal_reason"],
        "appeal_outcome": row["appeal_outcome"],
        "appeal_decided_at": row["appeal_decided_at"],
        "appeal_decision_reason": row["appeal_decision_reason"],
        "voucher_id": voucher_id,
    }


def voucher_snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "voucher_id": row["id"],
        "application_id": row["application_id"],
        "user_id": row["user_id"],
        "unit_id": row["unit_id"],
        "order_id": row["order_id"],
        "year": row["year"],
        "amount_fen": row["amount_fen"],
        "expires_at": row["expires_at"],
        "status": row["status"],
    }


async def _load(s: AsyncSession, application_id: str) -> RowMapping:
    row = (await s.execute(select(applications).where(applications.c.id == application_id))).mappings().first()
    if row is None:
        raise NotFound("application", "创新券申请", application_id)
    return row


async def _voucher_id(s: AsyncSession, application_id: str) -> str | None:
    return (await s.execute(select(vouchers.c.id).where(vouchers.c.application_id == application_id))).scalar_one_or_none()


async def _facts(
    s: AsyncSession, *, user_id: str, unit_id: str, order: RowMapping | None, contract_sha256: str | None, application_id: str | None, programme: RowMapping | None, account: RowMapping | None
) -> ApplicationFacts:
    """Everything the checks need, from the read models and the vouchers tables."""
    user = (await s.execute(select(user_view).where(user_view.c.user_id == user_id))).mappings().first()
    unit = (await s.execute(select(unit_view).where(unit_view.c.unit_id == unit_id))).mappings().first()
    others = select(applications.c.id).where(applications.c.status.in_(HOLDING))
    if application_id is not None:
        # the first application on a contract holds it; a later one does not block it
        mine = (await s.execute(select(applications.c.submitted_at).where(applications.c.id == application_id))).scalar_one()
        earlier = or_(
            applications.c.submitted_at < mine,
            and_(applications.c.submitted_at == mine, applications.c.id < application_id),
        )
        others = others.where(applications.c.id != application_id, or_(applications.c.status == APPROVED, earlier))
    same = [applications.c.order_id == (order["order_id"] if order is not None else "")]
    if contract_sha256:
        same.append(applications.c.contract_sha256 == contract_sha256)
    contract_used = (await s.execute(others.where(or_(*same)).limit(1))).first() is not None
    # a programme closed because its budget is committed is still this year's: it reports budget_exhausted
    programme_open = programme is not None and (programme["open"] or programme["closed_reason"] == prog.BUDGET_COMMITTED)
    return ApplicationFacts(
        user_verified=bool(user and user["verified"]),
        user_in_city=bool(user and user["in_xuchang"]),
        user_classes=tuple(user["classes"]) if user else (),
        user_special_classes=tuple(user["special_classes"]) if user else (),
        user_blacklisted=await readmodel.blacklisted(s, "user", user_id),
        user_sound_finances=bool(user["sound_finances"]) if user else True,
        affiliated=await readmodel.affiliated(s, user_id, unit_id, unit["parent_unit_id"] if unit else None),
        unit_accepts_vouchers=bool(unit and unit["accepts_vouchers"] and unit["status"] == readmodel.UNIT_APPROVED),
        unit_blacklisted=await readmodel.blacklisted(s, "unit", unit_id),
        statutory_testing=order is not None and order["purpose"] == STATUTORY_TESTING,
        testing_fee_fen=order["testing_fee_fen"] if order is not None else 0,
        contract_used=contract_used,
        provincial_subsidy=bool(order is not None and order["provincial_subsidy"]),
        programme_open=programme_open,
        budget_remaining_fen=(programme["budget_fen"] - programme["committed_fen"]) if programme is not None else 0,
        user_committed_fen=account["committed_fen"] if account is not None else 0,
    )


async def _order(s: AsyncSession, order_id: str) -> RowMapping | None:
    return (await s.execute(select(order_view).where(order_view.c.order_id == order_id))).mappings().first()


async def _decision(s: AsyncSession, app: RowMapping, programme: RowMapping | None, account: RowMapping | None) -> tuple[VoucherPolicy, ApplicationFacts, Decision]:
    policy = prog.policy_of(programme, app["year"])
    facts = await _facts(
        s,
        user_id=app["user_id"],
        unit_id=app["unit_id"],
        order=await _order(s, app["order_id"]),
        contract_sha256=app["contract_sha256"],
        application_id=app["id"],
        programme=programme,
        account=account,
    )
    return policy, facts, decide(policy, facts)


async def _commit_and_issue(uow: UnitOfWork, app: RowMapping, amount: int, cap: int, *, from_status: str, now: datetime, reason: str | None) -> dict[str, Any]:
    """Reserve ``amount`` from the budget and the cap, approve, issue the voucher.
    The caller holds the programme and account locks; every step is still a
    conditional UPDATE, and any miss rolls the whole transaction back."""
    s = uow.session
    year, user_id = app["year"], app["user_id"]
    done = await s.execute(
        update(applications)
        .where(applications.c.id == app["id"], applications.c.status == from_status)
        .values(status=APPROVED, amount_fen=amount, failures=[], decided_at=now, decided_by=_by(uow.actor), decision_reason=reason)
    )
    if done.rowcount != 1:
        raise Conflict("voucher.application_not_pending", "该申请不在待审状态", "the application is not awaiting this decision", application_id=app["id"])
    # a user who became an innovation leader or gazelle gets the higher cap (R16)
    await s.execute(update(accounts).where(accounts.c.user_id == user_id, accounts.c.year == year, accounts.c.cap_fen < cap).values(cap_fen=cap))
    done = await s.execute(
        update(programmes)
        .where(programmes.c.year == year, programmes.c.open.is_(True), programmes.c.budget_fen - programmes.c.committed_fen >= amount)
        .values(committed_fen=programmes.c.committed_fen + amount, version=programmes.c.version + 1, updated_at=now)
    )
    if done.rowcount != 1:
        raise checks_failed([Check.BUDGET_EXHAUSTED])
    done = await s.execute(
        update(accounts)
        .where(accounts.c.user_id == user_id, accounts.c.year == year, accounts.c.cap_fen - accounts.c.committed_fen >= amount)
        .values(committed_fen=accounts.c.committed_fen + amount)
    )
    if done.rowcount != 1:
        raise checks_failed([Check.CAP_EXHAUSTED])
    await prog.close_if_committed(uow, year)
    voucher = {
        "id": new_event_id(),
        "application_id": app["id"],
        "user_id": user_id,
        "unit_id": app["unit_id"],
        "order_id": app["order_id"],
        "year": year,
        "amount_fen": amount,
        "expires_at": expires_at(year),
        "status": ISSUED,
        "issued_at": now,
    }
    await s.execute(insert(vouchers).values(**voucher))
    approved = await _load(s, app["id"])
    await uow.emit(ve.ApplicationApproved(**_snapshot(approved)))
    await uow.emit(ve.VoucherIssued(**voucher_snapshot(voucher)))
    await uow.audit("application.approve", "application", app["id"], reason=reason, before=_snapshot(app), after=_snapshot(approved))
    await uow.audit("voucher.issue", "voucher", voucher["id"], after=voucher_snapshot(voucher))
    return view(approved, voucher["id"])


async def _locked(s: AsyncSession, year: int, user_id: str) -> tuple[RowMapping | None, RowMapping | None]:
    """Lock order everywhere: programme, then account."""
    return await prog.load(s, year, lock=True), await prog.load_account(s, user_id, year, lock=True)


async def submit(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, user_id: str, order_id: str, now: datetime | None = None) -> dict[str, Any]:
    """R19(1): apply on one contracted order of the user's own. With the
    year's ``auto_approve``, an application passing every check is approved
    in the same transaction."""
    now = now or datetime.now(UTC)
    year = programme_year(now)
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            programme = await prog.load(s, year)
            if programme is not None and programme["auto_approve"]:
                programme = await prog.load(s, year, lock=True)
            account = await prog.load_account(s, user_id, year, lock=programme is not None and programme["auto_approve"])
            if account is None:
                raise Conflict("voucher.account_not_active", "请先开通本年度创新券账户", "open your voucher account for the year first", year=year)
            order = await _order(s, order_id)
            if order is None or order["user_id"] != user_id:
                raise NotFound("order", "订单", order_id)
            if order["status"] != readmodel.ORDER_CONTRACTED:
                raise Conflict("voucher.order_not_contracted", "订单尚未签订合同或已取消", "the order is not (or no longer) contracted", order_status=order["status"])
            if (await s.execute(select(applications.c.id).where(applications.c.order_id == order_id))).first() is not None:
                zh, en = MESSAGES[Check.CONTRACT_ALREADY_USED]
                raise Conflict(code(Check.CONTRACT_ALREADY_USED), zh, en, order_id=order_id)
            facts = await _facts(
                s, user_id=user_id, unit_id=order["unit_id"], order=order, contract_sha256=order["contract_sha256"], application_id=None, programme=programme, account=account
            )
            policy = prog.policy_of(programme, year)
            decision = decide(policy, facts)
            row = {
                "id": new_event_id(),
                "user_id": user_id,
                "unit_id": order["unit_id"],
                "order_id": order_id,
                "contract_sha256": order["contract_sha256"],
                "year": year,
                "status": SUBMITTED,
                "amount_fen": decision.amount_fen,
                "failures": [code(c) for c in decision.failures],
                "submitted_at": now,
            }
            await s.execute(insert(applications).values(**row))
            app = await _load(s, row["id"])
            await uow.emit(ve.ApplicationSubmitted(**_snapshot(app)))
            await uow.audit("application.submit", "application", row["id"], after=view(app))
            if policy.auto_approve and decision.approvable:
                return await _commit_and_issue(uow, app, decision.amount_fen, decision.cap_fen, from_status=SUBMITTED, now=now, reason="auto_approve")
            return view(app)
    except IntegrityError as exc:  # a concurrent application on the same order
        zh, en = MESSAGES[Check.CONTRACT_ALREADY_USED]
        raise Conflict(code(Check.CONTRACT_ALREADY_USED), zh, en, order_id=order_id) from exc


async def approve(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, reason: str | None = None) -> dict[str, Any]:
    """R19(2): the center approves; every check runs again now. A failing check
    answers 422 with all failing codes and changes nothing."""
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await _load(s, application_id)
        if app["status"] != SUBMITTED:
            raise Conflict("voucher.application_not_pending", "该申请不在待审状态", "the application is not awaiting review", current_status=app["status"])
        programme, account = await _locked(s, app["year"], app["user_id"])
        _, _, decision = await _decision(s, app, programme, account)
        if not decision.approvable:
            raise checks_failed(decision.failures)
        return await _commit_and_issue(uow, app, decision.amount_fen, decision.cap_fen, from_status=SUBMITTED, now=now, reason=reason)


async def reject(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, reason: str) -> dict[str, Any]:
    """R19(2): the center rejects with a reason; the event lists the failing checks."""
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await _load(s, application_id)
        if app["status"] != SUBMITTED:
            raise Conflict("voucher.application_not_pending", "该申请不在待审状态", "the application is not awaiting review", current_status=app["status"])
        programme = await prog.load(s, app["year"])
        account = await prog.load_account(s, app["user_id"], app["year"])
        _, _, decision = await _decision(s, app, programme, account)
        reasons = [code(c) for c in decision.failures]
        done = await s.execute(
            update(applications)
            .where(applications.c.id == application_id, applications.c.status == SUBMITTED)
            .values(status=REJECTED, amount_fen=0, failures=reasons, decided_at=now, decided_by=_by(actor), decision_reason=reason)
        )
        if done.rowcount != 1:
            raise Conflict("voucher.application_not_pending", "该申请不在待审状态", "the application is not awaiting review")
        after = await _load(s, application_id)
        await uow.emit(ve.ApplicationRejected(**_snapshot(after), reasons=reasons))
        await uow.audit("application.reject", "application", application_id, reason=reason, before=_snapshot(app), after=view(after))
    return view(after)


async def appeal(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, user_id: str, reason: str, now: datetime | None = None) -> dict[str, Any]:
    """R19(2): a rejected user appeals once, within the year's appeal window."""
    now = now or datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await _load(s, application_id)
        if app["user_id"] != user_id:
            raise Forbidden("只能对本用户的申请提起复议", "you may appeal only your own applications")
        if app["status"] != REJECTED or app["appealed_at"] is not None:
            raise Conflict("voucher.appeal_not_allowed", "只有被驳回且尚未复议的申请可以复议", "only a rejected application not yet appealed can be appealed", current_status=app["status"])
        policy = prog.policy_of(await prog.load(s, app["year"]), app["year"])
        if now - app["decided_at"] > timedelta(days=policy.appeal_window_days):
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
        after = await _load(s, application_id)
        await uow.emit(ve.AppealFiled(**_snapshot(after)))
        await uow.audit("appeal.file", "application", application_id, reason=reason, before=_snapshot(app), after=_snapshot(after))
    return view(after)


UPHOLD = "uphold"
OVERTURN = "overturn"


async def decide_appeal(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, outcome: str, reason: str) -> dict[str, Any]:
    """R19(2): the bureau upholds the rejection or overturns it; an overturned
    rejection is approved under the budget and cap as they stand now."""
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await _load(s, application_id)
        if app["status"] != APPEALED:
            raise Conflict("voucher.no_appeal_pending", "该申请没有待决的复议", "the application has no pending appeal", current_status=app["status"])
        fields = {"appeal_outcome": outcome, "appeal_decided_at": now, "appeal_decided_by": _by(actor), "appeal_decision_reason": reason}
        if outcome == UPHOLD:
            done = await s.execute(update(applications).where(applications.c.id == application_id, applications.c.status == APPEALED).values(status=REJECTED, **fields))
            if done.rowcount != 1:
                raise Conflict("voucher.no_appeal_pending", "该申请没有待决的复议", "the application has no pending appeal")
            after = await _load(s, application_id)
            await uow.emit(ve.AppealDecided(**_snapshot(after), outcome=outcome))
            await uow.audit("appeal.decide", "application", application_id, reason=reason, before=_snapshot(app), after=view(after))
            return view(after)
        programme, account = await _locked(s, app["year"], app["user_id"])
        policy, facts, _ = await _decision(s, app, programme, account)
        decision = overturned(policy, facts)
        if decision.failures:
            raise checks_failed(decision.failures)
        amount, cap = decision.amount_fen, decision.cap_fen
        await s.execute(update(applications).where(applications.c.id == application_id).values(**fields))
        app = await _load(s, application_id)
        result = await _commit_and_issue(uow, app, amount, cap, from_status=APPEALED, now=now, reason=reason)
        after = await _load(s, application_id)
        await uow.emit(ve.AppealDecided(**_snapshot(after), outcome=outcome))
        await uow.audit("appeal.decide", "application", application_id, reason=reason, after=result)
        return result


async def get_application(db: ServiceDatabase, application_id: str, *, user_id: str | None) -> dict[str, Any]:
    async with db.read() as s:
        app = await _load(s, application_id)
        if user_id is not None and app["user_id"] != user_id:
            raise Forbidden()
        return view(app, await _voucher_id(s, application_id))


async def list_applications(db: ServiceDatabase, *, user_id: str | None, status: str | None, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    q = select(applications)
    if user_id is not None:
        q = q.where(applications.c.user_id == user_id)
    if status is not None:
        q = q.where(applications.c.status == status)
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
        rows = (await s.execute(q.order_by(applications.c.submitted_at.desc(), applications.c.id).limit(page_size).offset((page - 1) * page_size))).mappings().all()
        ids = dict((await s.execute(select(vouchers.c.application_id, vouchers.c.id).where(vouchers.c.application_id.in_([r["id"] for r in rows])))).all()) if rows else {}
    return [view(r, ids.get(r["id"])) for r in rows], total
