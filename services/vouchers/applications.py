"""Voucher applications, reviews and appeals (R4–R6, R15, R16, R18, R19, R22, R26).

Every check runs on vouchers' own read models. Approval commits the amount to
the programme's budget and the user's cap in one transaction: the programme
and account rows are locked (``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``
locks the database), the checks run on what they hold, and the commitments are
conditional UPDATEs (``... WHERE budget_fen - committed_fen >= :a``) under CHECK
constraints, so no interleaving can overspend."""

from __future__ import annotations

import asyncio
import weakref
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import MetaData, and_, case, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import vouchers as ve
from contracts.envelope import encode, new_event_id
from services.runtime import audit as audit_chain
from services.runtime import clock
from services.runtime import telemetry
from services.runtime.errors import Conflict, DomainError, Forbidden, NotFound
from services.runtime.outbox import Actor, UnitOfWork
from services.runtime.service_db import ServiceDatabase
from services.vouchers import programmes as prog
from services.vouchers import readmodel
from services.vouchers.db.models import (
    accounts,
    affiliation_view,
    applications,
    blacklist_view,
    order_view,
    programmes,
    unit_view,
    user_view,
    vouchers,
)
from services.vouchers.domain.applications import (
    MESSAGES,
    ApplicationFacts,
    Check,
    Decision,
    PriorApplication,
    appeal_open,
    budget_committed,
    contract_applied,
    decide,
    expires_at,
    overturned,
    programme_year,
    within_year,
)
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


def contract_used_up(order_id: str) -> Conflict:
    """R22: the contract already had its one application."""
    zh, en = MESSAGES[Check.CONTRACT_ALREADY_USED]
    return Conflict(code(Check.CONTRACT_ALREADY_USED), zh, en, order_id=order_id)


def stopped(programme: RowMapping | dict[str, Any] | None) -> Conflict | None:
    """R15 停止申用: the refusal of a submission once the year's budget is committed."""
    if programme is None or not budget_committed(programme["budget_fen"], programme["committed_fen"]):
        return None
    zh, en = MESSAGES[Check.BUDGET_EXHAUSTED]
    return Conflict(code(Check.BUDGET_EXHAUSTED), zh, en, year=programme["year"], remaining_fen=0)


def ensure_within_year(year: int, now: datetime) -> None:
    """R21: approval and issue happen within the application's natural year."""
    if not within_year(year, now):
        raise Conflict(
            "voucher.year_ended",
            f"{year}年度已结束，该年度的创新券申请不能再批准或发券",
            f"the year {year} has ended: its applications can no longer be approved or get a voucher",
            year=year,
        )


def _prior(rows: Any) -> list[PriorApplication]:
    return [PriorApplication(order_id=o, contract_sha256=c, user_id=u, unit_id=n) for o, c, u, n in rows]


_PRIOR_COLUMNS = (applications.c.order_id, applications.c.contract_sha256, applications.c.user_id, applications.c.unit_id)


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


class _Lookup:
    """The read-model rows the checks need for a set of users and units, read
    with a fixed number of queries however many applications share them."""

    def __init__(self) -> None:
        self.users: dict[str, RowMapping] = {}
        self.units: dict[str, RowMapping] = {}
        self.children: dict[str, set[str]] = {}
        self.blacklisted: set[tuple[str, str]] = set()
        self.affiliations: dict[str, set[str]] = {}

    @classmethod
    async def read(cls, s: AsyncSession, user_ids: set[str], unit_ids: set[str]) -> _Lookup:
        lk = cls()
        users, units = sorted(user_ids), sorted(unit_ids)
        if users:
            lk.users = {r["user_id"]: r for r in (await s.execute(select(user_view).where(user_view.c.user_id.in_(users)))).mappings()}
        if units:
            lk.units = {r["unit_id"]: r for r in (await s.execute(select(unit_view).where(unit_view.c.unit_id.in_(units)))).mappings()}
            for child, parent in (await s.execute(select(unit_view.c.unit_id, unit_view.c.parent_unit_id).where(unit_view.c.parent_unit_id.in_(units)))).all():
                lk.children.setdefault(parent, set()).add(child)
        parties = [and_(blacklist_view.c.party_type == t, blacklist_view.c.party_id.in_(ids)) for t, ids in (("user", users), ("unit", units)) if ids]
        if parties:
            q = select(blacklist_view.c.party_type, blacklist_view.c.party_id).where(blacklist_view.c.active.is_(True), or_(*parties))
            lk.blacklisted = {(t, i) for t, i in (await s.execute(q)).all()}
        if users:
            q = select(affiliation_view.c.user_id, affiliation_view.c.unit_id).where(affiliation_view.c.user_id.in_(users), affiliation_view.c.active.is_(True))
            for u, unit in (await s.execute(q)).all():
                lk.affiliations.setdefault(u, set()).add(unit)
        return lk

    def affiliated(self, user_id: str, unit_id: str) -> bool:
        """A tie with the unit, its parent (a college's university) or one of
        its colleges counts (R26). Registry applies the same rule to the ties
        it records; vouchers decides from its own read model of them."""
        unit = self.units.get(unit_id)
        related = {unit_id, *self.children.get(unit_id, ())}
        if unit is not None and unit["parent_unit_id"]:
            related.add(unit["parent_unit_id"])
        return bool(self.affiliations.get(user_id, set()) & related)

    def facts(
        self, *, user_id: str, unit_id: str, order: RowMapping | dict[str, Any] | None, contract_used: bool, programme: RowMapping | dict[str, Any] | None, account: RowMapping | dict[str, Any] | None
    ) -> ApplicationFacts:
        user = self.users.get(user_id)
        unit = self.units.get(unit_id)
        # a programme closed because its budget is committed is still this year's: it reports budget_exhausted
        programme_open = programme is not None and (programme["open"] or programme["closed_reason"] == prog.BUDGET_COMMITTED)
        return ApplicationFacts(
            user_verified=bool(user and user["verified"]),
            user_in_city=bool(user and user["in_xuchang"]),
            user_classes=tuple(user["classes"]) if user else (),
            user_special_classes=tuple(user["special_classes"]) if user else (),
            user_blacklisted=("user", user_id) in self.blacklisted,
            user_sound_finances=bool(user["sound_finances"]) if user else True,
            affiliated=self.affiliated(user_id, unit_id),
            unit_accepts_vouchers=bool(unit and unit["accepts_vouchers"] and unit["status"] == readmodel.UNIT_APPROVED),
            unit_blacklisted=("unit", unit_id) in self.blacklisted,
            statutory_testing=order is not None and order["purpose"] == STATUTORY_TESTING,
            testing_fee_fen=order["testing_fee_fen"] if order is not None else 0,
            contract_used=contract_used,
            provincial_subsidy=bool(order is not None and order["provincial_subsidy"]),
            programme_open=programme_open,
            budget_remaining_fen=(programme["budget_fen"] - programme["committed_fen"]) if programme is not None else 0,
            user_committed_fen=account["committed_fen"] if account is not None else 0,
        )


async def _facts(
    s: AsyncSession, *, user_id: str, unit_id: str, order: RowMapping | None, contract_sha256: str | None, application_id: str | None, programme: RowMapping | None, account: RowMapping | None
) -> ApplicationFacts:
    """Everything the checks need, from the read models and the vouchers tables."""
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
    lookup = await _Lookup.read(s, {user_id}, {unit_id})
    return lookup.facts(user_id=user_id, unit_id=unit_id, order=order, contract_used=contract_used, programme=programme, account=account)


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
    ensure_within_year(year, now)
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


async def _still_contracted(s: AsyncSession, app: RowMapping) -> None:
    """An order cancelled after the application was submitted gets no voucher
    (its revocation has already run): approval and overturn refuse it. The
    order's row stays locked to the commit, so a cancellation arriving
    meanwhile waits and then revokes the voucher issued here."""
    order = (await s.execute(select(order_view).where(order_view.c.order_id == app["order_id"]).with_for_update())).mappings().first()
    if order is None or order["status"] != readmodel.ORDER_CONTRACTED:
        raise Conflict("voucher.order_not_contracted", "订单尚未签订合同或已取消", "the order is not (or no longer) contracted", order_status=order["status"] if order else None)


async def _locked(s: AsyncSession, year: int, user_id: str) -> tuple[RowMapping | None, RowMapping | None]:
    """Lock order everywhere: programme, then account."""
    return await prog.load(s, year, lock=True), await prog.load_account(s, user_id, year, lock=True)


async def _checked_order(s: AsyncSession, *, user_id: str, order_id: str, year: int, account: RowMapping | dict[str, Any] | None) -> RowMapping:
    """The request-level checks of a submission: an account, the user's own
    contracted order, no application on it yet. Each raises its own error."""
    if account is None:
        raise Conflict("voucher.account_not_active", "请先开通本年度创新券账户", "open your voucher account for the year first", year=year)
    order = await _order(s, order_id)
    if order is None or order["user_id"] != user_id:
        raise NotFound("order", "订单", order_id)
    if order["status"] != readmodel.ORDER_CONTRACTED:
        raise Conflict("voucher.order_not_contracted", "订单尚未签订合同或已取消", "the order is not (or no longer) contracted", order_status=order["status"])
    same = [applications.c.order_id == order_id]
    if order["contract_sha256"]:
        same.append(applications.c.contract_sha256 == order["contract_sha256"])
    prior = _prior((await s.execute(select(*_PRIOR_COLUMNS).where(or_(*same)))).all())
    if contract_applied(order_id=order_id, contract_sha256=order["contract_sha256"], user_id=user_id, unit_id=order["unit_id"], prior=prior):
        raise contract_used_up(order_id)
    return order


async def submit(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, user_id: str, order_id: str, now: datetime | None = None) -> dict[str, Any]:
    """R19(1): apply on one contracted order of the user's own. With the
    year's ``auto_approve``, an application passing every check is approved
    in the same transaction; concurrent auto-approved submissions are decided
    together, many per transaction (``_Batcher``)."""
    now = now or clock.utc_now()
    year = programme_year(now)
    if await _auto_approving(db, year):
        return await _batcher(db, year).submit(_Job(actor, correlation_id, user_id, order_id, now, telemetry.current_carrier()))
    return await submit_one(db, actor, correlation_id, user_id=user_id, order_id=order_id, now=now)


#: years known to auto-approve, per database (a programme's ``auto_approve`` never changes once open)
_AUTO_APPROVING: weakref.WeakKeyDictionary[ServiceDatabase, set[int]] = weakref.WeakKeyDictionary()


async def _auto_approving(db: ServiceDatabase, year: int) -> bool:
    """Whether to take the batched path; the batch re-reads the programme under its lock."""
    known = _AUTO_APPROVING.setdefault(db, set())
    if year in known:
        return True
    async with db.read() as s:
        row = await prog.load(s, year)
    if row is not None and row["auto_approve"]:
        known.add(year)
        return True
    return False


async def submit_one(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, user_id: str, order_id: str, now: datetime) -> dict[str, Any]:
    """One submission in its own transaction (the path without batching, and
    the fallback of a batch that could not commit as a whole)."""
    year = programme_year(now)
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            programme = await prog.load(s, year)
            if programme is not None and programme["auto_approve"]:
                programme = await prog.load(s, year, lock=True)
            account = await prog.load_account(s, user_id, year, lock=programme is not None and programme["auto_approve"])
            order = await _checked_order(s, user_id=user_id, order_id=order_id, year=year, account=account)
            if (refusal := stopped(programme)) is not None:
                raise refusal
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
        raise contract_used_up(order_id) from exc


async def approve(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, reason: str | None = None) -> dict[str, Any]:
    """R19(2): the center approves; every check runs again now. A failing check
    answers 422 with all failing codes and changes nothing. Only within the
    application's year (R21)."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await _load(s, application_id)
        if app["status"] != SUBMITTED:
            raise Conflict("voucher.application_not_pending", "该申请不在待审状态", "the application is not awaiting review", current_status=app["status"])
        ensure_within_year(app["year"], now)
        await _still_contracted(s, app)
        programme, account = await _locked(s, app["year"], app["user_id"])
        _, _, decision = await _decision(s, app, programme, account)
        if not decision.approvable:
            raise checks_failed(decision.failures)
        return await _commit_and_issue(uow, app, decision.amount_fen, decision.cap_fen, from_status=SUBMITTED, now=now, reason=reason)


async def reject(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, reason: str) -> dict[str, Any]:
    """R19(2): the center rejects with a reason; the event lists the failing checks."""
    now = clock.utc_now()
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
    now = now or clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await _load(s, application_id)
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
        after = await _load(s, application_id)
        await uow.emit(ve.AppealFiled(**_snapshot(after)))
        await uow.audit("appeal.file", "application", application_id, reason=reason, before=_snapshot(app), after=_snapshot(after))
    return view(after)


UPHOLD = "uphold"
OVERTURN = "overturn"


async def decide_appeal(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, outcome: str, reason: str) -> dict[str, Any]:
    """R19(2): the bureau upholds the rejection or overturns it. An overturn
    sets aside the reviewer's judgement only: every hard rule runs again now
    (``overturned``), and a failing one answers 422 with its code, changing
    nothing; the approval is under the budget and cap as they stand now, within
    the application's year (R21)."""
    now = clock.utc_now()
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
        ensure_within_year(app["year"], now)
        await _still_contracted(s, app)
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


# --- auto-approval in batches -------------------------------------------------
#
# Under a rush every auto-approved submission wants the programme row: one
# transaction per application queues them all on that lock. Instead the
# submissions of one process wait on a queue, and one task decides up to
# ``BATCH_MAX`` of them per transaction: the programme row is locked once, each
# application runs the same checks (``decide``) on fresh facts and on the
# budget left by the ones before it, the budget is debited once for the batch
# total by a conditional UPDATE (the CHECK constraints still stand behind it),
# and vouchers, outbox and audit rows are written in bulk. Across processes the
# programme lock and the conditional UPDATE still serialize batches. If a batch
# cannot commit as a whole (a concurrent process took an order, a guard
# refused), every application in it is retried on its own (``submit_one``), so
# each gets exactly the answer the unbatched path would give.

#: the most applications decided in one transaction
BATCH_MAX = 200


class _Job:
    __slots__ = ("actor", "correlation_id", "user_id", "order_id", "now", "carrier", "future")

    def __init__(self, actor: Actor, correlation_id: str | None, user_id: str, order_id: str, now: datetime, carrier: dict[str, str]):
        self.actor = actor
        self.correlation_id = correlation_id
        self.user_id = user_id
        self.order_id = order_id
        self.now = now
        self.carrier = carrier
        self.future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()


class _BatchUnit:
    """What ``UnitOfWork`` does for one application, collected for bulk inserts:
    its events (with the request's trace context) and its audit rows."""

    def __init__(self, session: AsyncSession, job: _Job, outbox_rows: list[dict[str, Any]], audit_rows: list[dict[str, Any]]):
        self.session = session
        self.actor = job.actor
        self.job = job
        self.outbox_rows = outbox_rows
        self.audit_rows = audit_rows

    async def emit(self, event: Any) -> Any:
        if event.correlation_id is None and self.job.correlation_id:
            event = msgspec.structs.replace(event, correlation_id=self.job.correlation_id)
        self.outbox_rows.append(
            {"event_id": event.event_id, "subject": type(event).subject, "payload": encode(event), "headers": self.job.carrier, "created_at": datetime.now(UTC), "attempts": 0}
        )
        return event

    async def audit(self, action: str, object_type: str, object_id: str, *, reason: str | None = None, before: Any = None, after: Any = None) -> None:
        self.audit_rows.append(
            {
                "at": datetime.now(UTC),
                "actor": self.actor.subject,
                "actor_role": self.actor.role,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "reason": reason,
                "before": msgspec.to_builtins(before) if before is not None else None,
                "after": msgspec.to_builtins(after) if after is not None else None,
                "correlation_id": self.job.correlation_id,
            }
        )


class _BatchRefused(Exception):
    """A database guard refused the batch total: retry each application alone."""


_BATCHERS: weakref.WeakKeyDictionary[ServiceDatabase, dict[tuple[int, int], _Batcher]] = weakref.WeakKeyDictionary()


def _batcher(db: ServiceDatabase, year: int) -> _Batcher:
    loop_id = id(asyncio.get_running_loop())
    per_db = _BATCHERS.setdefault(db, {})
    b = per_db.get((loop_id, year))
    if b is None:
        b = per_db[(loop_id, year)] = _Batcher(db, year)
    return b


class _Batcher:
    """One per database, event loop and programme year. A drain task runs only
    while applications are waiting, so nothing lingers between rushes."""

    def __init__(self, db: ServiceDatabase, year: int):
        self.db = db
        self.year = year
        self.pending: list[_Job] = []
        self.draining: asyncio.Task[None] | None = None
        self.batches = 0

    async def submit(self, job: _Job) -> dict[str, Any]:
        self.pending.append(job)
        if self.draining is None or self.draining.done():
            self.draining = asyncio.create_task(self._drain())
        return await asyncio.shield(job.future)

    async def _drain(self) -> None:
        while self.pending:
            jobs, self.pending = self.pending[:BATCH_MAX], self.pending[BATCH_MAX:]
            try:
                await self._decide_batch(jobs)
            except (IntegrityError, _BatchRefused):
                await self._one_by_one(jobs)
            except BaseException as exc:  # the transaction failed as a whole: each job gets its own answer
                if isinstance(exc, asyncio.CancelledError):
                    for j in jobs + self.pending:
                        if not j.future.done():
                            j.future.cancel()
                    raise
                await self._one_by_one(jobs)

    async def _one_by_one(self, jobs: list[_Job]) -> None:
        for j in jobs:
            if j.future.done():
                continue
            try:
                j.future.set_result(await submit_one(self.db, j.actor, j.correlation_id, user_id=j.user_id, order_id=j.order_id, now=j.now))
            except Exception as exc:  # noqa: BLE001 - handed to the waiting request
                j.future.set_exception(exc)

    async def _decide_batch(self, jobs: list[_Job]) -> None:
        outcomes: list[tuple[_Job, dict[str, Any] | BaseException]] = []
        outbox_rows: list[dict[str, Any]] = []
        audit_rows: list[dict[str, Any]] = []
        year = self.year
        async with self.db.sessions() as s:
            async with s.begin():
                programme = await prog.load(s, year, lock=True)
                batch = _Batch(s, self.db.metadata, year, programme)
                await batch.read(jobs)
                for job in jobs:
                    unit = _BatchUnit(s, job, outbox_rows, audit_rows)
                    try:
                        outcomes.append((job, await batch.decide(unit)))
                    except DomainError as exc:
                        outcomes.append((job, exc))
                await batch.write(outbox_rows, audit_rows)
        self.batches += 1
        if outbox_rows:
            for cb in self.db.on_events:
                cb()
        for job, outcome in outcomes:
            if job.future.done():
                continue
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)


class _Batch:
    """The applications of one batch, decided in order inside one transaction
    that holds the programme row: each sees the budget the ones before it
    left, their orders and contracts as held, and their users' caps as used."""

    def __init__(self, s: AsyncSession, metadata: MetaData, year: int, programme: RowMapping | None):
        self.s = s
        self.metadata = metadata
        self.year = year
        self.programme = programme
        self.running = dict(programme) if programme is not None else None
        self.policy = prog.policy_of(programme, year)
        self.debit = 0
        self.approvals = 0
        self.added: dict[str, int] = {}  # user -> amount the batch committed to its cap
        self.caps: dict[str, int] = {}  # user -> the cap its decisions used
        self.app_rows: list[dict[str, Any]] = []
        self.voucher_rows: list[dict[str, Any]] = []
        self.closing_unit: _BatchUnit | None = None

    async def read(self, jobs: list[_Job]) -> None:
        s = self.s
        users = sorted({j.user_id for j in jobs})
        order_ids = sorted({j.order_id for j in jobs})
        lock = self.programme is not None and self.programme["auto_approve"]
        q = select(accounts).where(accounts.c.year == self.year, accounts.c.user_id.in_(users)).order_by(accounts.c.user_id)
        self.accounts = {r["user_id"]: r for r in (await s.execute(q.with_for_update() if lock else q)).mappings()}
        self.orders = {r["order_id"]: r for r in (await s.execute(select(order_view).where(order_view.c.order_id.in_(order_ids)))).mappings()}
        contracts = sorted({o["contract_sha256"] for o in self.orders.values() if o["contract_sha256"]})
        same = [applications.c.order_id.in_(order_ids)]
        if contracts:
            same.append(applications.c.contract_sha256.in_(contracts))
        existing = (await s.execute(select(*_PRIOR_COLUMNS, applications.c.status).where(or_(*same)))).all()
        #: every application on these orders and contracts, whatever its status (R22: one per contract)
        self.prior = _prior(r[:4] for r in existing)
        #: orders and contracts held by a pending or approved application (R22)
        self.held_orders = {o for o, _, _, _, st in existing if st in HOLDING}
        self.held_contracts = {c for _, c, _, _, st in existing if st in HOLDING and c}
        self.lookup = await _Lookup.read(s, set(users), {o["unit_id"] for o in self.orders.values()})

    async def decide(self, unit: _BatchUnit) -> dict[str, Any]:
        """``submit_one``'s checks and decision for one application."""
        job, year = unit.job, self.year
        account = self.accounts.get(job.user_id)
        if account is None:
            raise Conflict("voucher.account_not_active", "请先开通本年度创新券账户", "open your voucher account for the year first", year=year)
        order = self.orders.get(job.order_id)
        if order is None or order["user_id"] != job.user_id:
            raise NotFound("order", "订单", job.order_id)
        if order["status"] != readmodel.ORDER_CONTRACTED:
            raise Conflict("voucher.order_not_contracted", "订单尚未签订合同或已取消", "the order is not (or no longer) contracted", order_status=order["status"])
        contract = order["contract_sha256"]
        if contract_applied(order_id=job.order_id, contract_sha256=contract, user_id=job.user_id, unit_id=order["unit_id"], prior=self.prior):
            raise contract_used_up(job.order_id)
        if (refusal := stopped(self.running)) is not None:
            raise refusal
        added = self.added.get(job.user_id, 0)
        facts = self.lookup.facts(
            user_id=job.user_id,
            unit_id=order["unit_id"],
            order=order,
            contract_used=job.order_id in self.held_orders or bool(contract and contract in self.held_contracts),
            programme=self.running,
            account={**account, "committed_fen": account["committed_fen"] + added},
        )
        decision = decide(self.policy, facts)
        approved = self.policy.auto_approve and decision.approvable
        now = job.now
        row: dict[str, Any] = {
            "id": new_event_id(),
            "user_id": job.user_id,
            "unit_id": order["unit_id"],
            "order_id": job.order_id,
            "contract_sha256": contract,
            "year": year,
            "status": SUBMITTED,
            "amount_fen": decision.amount_fen,
            "failures": [code(c) for c in decision.failures],
            "submitted_at": now,
            "decided_at": None,
            "decided_by": None,
            "decision_reason": None,
            "appealed_at": None,
            "appeal_reason": None,
            "appeal_outcome": None,
            "appeal_decided_at": None,
            "appeal_decided_by": None,
            "appeal_decision_reason": None,
        }
        submitted = dict(row)
        if approved:
            row.update(status=APPROVED, failures=[], decided_at=now, decided_by=_by(job.actor), decision_reason="auto_approve")
        self.app_rows.append(row)
        self.prior.append(PriorApplication(order_id=job.order_id, contract_sha256=contract, user_id=job.user_id, unit_id=order["unit_id"]))
        self.held_orders.add(job.order_id)
        if contract:
            self.held_contracts.add(contract)
        await unit.emit(ve.ApplicationSubmitted(**_snapshot(submitted)))
        await unit.audit("application.submit", "application", row["id"], after=view(submitted))
        if not approved:
            return view(submitted)
        amount = decision.amount_fen
        assert self.running is not None
        self.running["committed_fen"] += amount
        self.debit += amount
        self.approvals += 1
        self.added[job.user_id] = added + amount
        self.caps[job.user_id] = max(self.caps.get(job.user_id, 0), decision.cap_fen)
        self.closing_unit = unit
        voucher = {
            "id": new_event_id(),
            "application_id": row["id"],
            "user_id": job.user_id,
            "unit_id": order["unit_id"],
            "order_id": job.order_id,
            "year": year,
            "amount_fen": amount,
            "expires_at": expires_at(year),
            "status": ISSUED,
            "issued_at": now,
        }
        self.voucher_rows.append(voucher)
        await unit.emit(ve.ApplicationApproved(**_snapshot(row)))
        await unit.emit(ve.VoucherIssued(**voucher_snapshot(voucher)))
        await unit.audit("application.approve", "application", row["id"], reason="auto_approve", before=_snapshot(submitted), after=_snapshot(row))
        await unit.audit("voucher.issue", "voucher", voucher["id"], after=voucher_snapshot(voucher))
        return view(row, voucher["id"])

    async def write(self, outbox_rows: list[dict[str, Any]], audit_rows: list[dict[str, Any]]) -> None:
        """Everything in bulk; the caps and the budget through conditional
        UPDATEs, so a guard that refuses rolls the whole batch back."""
        s, year = self.s, self.year
        if self.app_rows:
            await s.execute(insert(applications), self.app_rows)
        if self.added:
            # every user's cap in one conditional UPDATE; a user who became an innovation
            # leader or gazelle gets the higher cap (R16) before the guard is checked
            users = sorted(self.added)
            amount = case(self.added, value=accounts.c.user_id)
            wanted = case(self.caps, value=accounts.c.user_id)
            cap = case((accounts.c.cap_fen < wanted, wanted), else_=accounts.c.cap_fen)
            done = await s.execute(
                update(accounts)
                .where(accounts.c.year == year, accounts.c.user_id.in_(users), cap - accounts.c.committed_fen >= amount)
                .values(cap_fen=cap, committed_fen=accounts.c.committed_fen + amount)
            )
            if done.rowcount != len(users):
                raise _BatchRefused("the cap guard refused the batch")
        if self.debit:
            done = await s.execute(
                update(programmes)
                .where(programmes.c.year == year, programmes.c.open.is_(True), programmes.c.budget_fen - programmes.c.committed_fen >= self.debit)
                .values(committed_fen=programmes.c.committed_fen + self.debit, version=programmes.c.version + self.approvals, updated_at=datetime.now(UTC))
            )
            if done.rowcount != 1:
                raise _BatchRefused("the budget guard refused the batch total")
            assert self.closing_unit is not None
            await prog.close_if_committed(self.closing_unit, year)  # type: ignore[arg-type]
        if self.voucher_rows:
            await s.execute(insert(vouchers), self.voucher_rows)
        if outbox_rows:
            await s.execute(insert(self.metadata.tables["outbox"]), outbox_rows)
        if audit_rows:
            await audit_chain.append(s, self.metadata, audit_rows)  # last: holds the chain head until COMMIT
