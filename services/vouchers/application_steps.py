"""The steps every voucher application path shares: its statuses, the
refusals it answers, its snapshots, the facts its checks run on,
and committing the budget and issuing the voucher (``commit_and_issue``).
The use cases are in ``applications.py`` (review, appeal, reading) and
``application_submissions.py`` (submission, single and batched)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import vouchers as ve
from contracts.envelope import new_event_id
from services.runtime.city import City
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import UnitOfWork
from services.vouchers import programmes as prog
from services.vouchers import readmodel, schemas
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
from services.vouchers.domain.affiliation import UnitNode, affiliated
from services.vouchers.domain.applications import (
    MESSAGES,
    words,
    ApplicationFacts,
    Check,
    ContractClaim,
    ContractUse,
    Decision,
    budget_committed,
    contract_applied,
    decide,
    expires_at,
    within_year,
)
from services.vouchers.domain.policy import VoucherPolicy
from services.vouchers.schemas import Application

SUBMITTED = "submitted"
APPROVED = "approved"
REJECTED = "rejected"
APPEALED = "appealed"
ISSUED = "issued"

#: an application's case number: SQ (申请)-<year>-<n>; its year is the programme year, the Beijing year it was submitted in
APPLICATION_CASE_PREFIX = "SQ"

STATUTORY_TESTING = "statutory_testing"

#: applications that hold their contract (R22: one contract, one voucher)
HOLDING = (SUBMITTED, APPROVED, APPEALED)



def code(check: Check | str) -> str:
    return f"voucher.{check}"


def failure(check: Check, city: City) -> dict[str, str]:
    zh, en = words(check, city.name.zh, city.name.en)
    return {"code": code(check), "message_zh": zh, "message_en": en}


def checks_failed(failures: tuple[Check, ...] | list[Check], city: City) -> DomainError:
    """422 whose code is the first failing check; ``details.failures`` has them all. The
    words of R4 name ``city`` (the settings' city file)."""
    first = failures[0]
    zh, en = words(first, city.name.zh, city.name.en)
    return DomainError(code(first), zh, en, status=422, failures=[failure(c, city) for c in failures])


def exhausted(check: Check) -> DomainError:
    """422 of the budget or the cap running out under an approval (R15, R16): words naming no city."""
    zh, en = MESSAGES[check]
    return DomainError(code(check), zh, en, status=422, failures=[{"code": code(check), "message_zh": zh, "message_en": en}])


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


def claim_of(row: RowMapping | dict[str, Any]) -> ContractClaim:
    """An application row as its claim on its contract (R22)."""
    return ContractClaim(
        order_id=row["order_id"],
        contract_sha256=row["contract_sha256"],
        user_id=row["user_id"],
        unit_id=row["unit_id"],
        id=row["id"],
        submitted_at=row["submitted_at"],
        holding=row["status"] in HOLDING,
        approved=row["status"] == APPROVED,
    )


def new_claim(order: RowMapping | dict[str, Any]) -> ContractClaim:
    """The claim of an application being submitted on ``order`` (R22)."""
    return ContractClaim(order_id=order["order_id"], contract_sha256=order["contract_sha256"], user_id=order["user_id"], unit_id=order["unit_id"])


CLAIM_COLUMNS = (
    applications.c.id,
    applications.c.order_id,
    applications.c.contract_sha256,
    applications.c.user_id,
    applications.c.unit_id,
    applications.c.submitted_at,
    applications.c.status,
)


async def claims_on(s: AsyncSession, order_ids: Iterable[str], contracts: Iterable[str | None]) -> list[ContractClaim]:
    """Every application on these orders or contract files, whatever its
    status: what :func:`contract_applied` decides R22 from."""
    same = [applications.c.order_id.in_(sorted(set(order_ids)))]
    files = sorted({c for c in contracts if c})
    if files:
        same.append(applications.c.contract_sha256.in_(files))
    return [claim_of(r) for r in (await s.execute(select(*CLAIM_COLUMNS).where(or_(*same)))).mappings()]


def snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "application_id": row["id"],
        "case_no": row["case_no"],
        "user_id": row["user_id"],
        "unit_id": row["unit_id"],
        "order_id": row["order_id"],
        "year": row["year"],
        "status": row["status"],
        "amount_fen": row["amount_fen"],
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


async def load_application(s: AsyncSession, application_id: str) -> RowMapping:
    row = (await s.execute(select(applications).where(applications.c.id == application_id))).mappings().first()
    if row is None:
        raise NotFound("application", "创新券申请", application_id)
    return row


async def voucher_id_of(s: AsyncSession, application_id: str) -> str | None:
    return (await s.execute(select(vouchers.c.id).where(vouchers.c.application_id == application_id))).scalar_one_or_none()


class Lookup:
    """The read-model rows the checks need for a set of users and units, read
    with a fixed number of queries however many applications share them."""

    def __init__(self) -> None:
        self.users: dict[str, RowMapping] = {}
        self.units: dict[str, RowMapping] = {}
        self.relatives: list[UnitNode] = []
        self.blacklisted: set[tuple[str, str]] = set()
        self.affiliations: dict[str, set[str]] = {}

    @classmethod
    async def read(cls, s: AsyncSession, user_ids: set[str], unit_ids: set[str]) -> Lookup:
        lk = cls()
        users, units = sorted(user_ids), sorted(unit_ids)
        if users:
            lk.users = {r["user_id"]: r for r in (await s.execute(select(user_view).where(user_view.c.user_id.in_(users)))).mappings()}
        if units:
            lk.units = {r["unit_id"]: r for r in (await s.execute(select(unit_view).where(unit_view.c.unit_id.in_(units)))).mappings()}
            # the units' parents and colleges, with their credit codes (R26: a user with one of those codes is the unit)
            parents = sorted({r["parent_unit_id"] for r in lk.units.values() if r["parent_unit_id"]})
            near = or_(unit_view.c.parent_unit_id.in_(units), unit_view.c.unit_id.in_(parents)) if parents else unit_view.c.parent_unit_id.in_(units)
            q = select(unit_view.c.unit_id, unit_view.c.credit_code, unit_view.c.parent_unit_id).where(near)
            lk.relatives = [UnitNode(unit_id=i, credit_code=c, parent_unit_id=pa) for i, c, pa in (await s.execute(q)).all()]
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
        """R26, decided by :func:`services.vouchers.domain.affiliation.affiliated`:
        the user's credit code is the unit's, its parent's or a college's, or
        a recorded tie names one of them. Vouchers decides from its own read
        models of the registry's units, users and ties."""
        user, unit = self.users.get(user_id), self.units.get(unit_id)
        node = UnitNode(unit_id=unit_id, credit_code=unit["credit_code"] if unit else None, parent_unit_id=unit["parent_unit_id"] if unit else None)
        return affiliated(
            user_credit_code=user["credit_code"] if user else None, tied_unit_ids=self.affiliations.get(user_id, set()), unit=node, others=self.relatives
        )

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


async def facts_for(s: AsyncSession, claim: ContractClaim, *, order: RowMapping | None, programme: RowMapping | None, account: RowMapping | None) -> ApplicationFacts:
    """Everything the checks need for the application ``claim`` (being
    submitted, or made), from the read models and the vouchers tables."""
    contract_used = contract_applied(claim, await claims_on(s, [claim.order_id], [claim.contract_sha256])) is not None
    lookup = await Lookup.read(s, {claim.user_id}, {claim.unit_id})
    return lookup.facts(user_id=claim.user_id, unit_id=claim.unit_id, order=order, contract_used=contract_used, programme=programme, account=account)


async def order_of(s: AsyncSession, order_id: str) -> RowMapping | None:
    return (await s.execute(select(order_view).where(order_view.c.order_id == order_id))).mappings().first()


async def decision_for(s: AsyncSession, app: RowMapping, programme: RowMapping | None, account: RowMapping | None) -> tuple[VoucherPolicy, ApplicationFacts, Decision]:
    policy = prog.policy_of(programme, app["year"])
    facts = await facts_for(s, claim_of(app), order=await order_of(s, app["order_id"]), programme=programme, account=account)
    return policy, facts, decide(policy, facts)


async def commit_and_issue(uow: UnitOfWork, app: RowMapping, amount: int, cap: int, *, from_status: str, now: datetime, reason: str | None) -> Application:
    """Reserve ``amount`` from the budget and the cap, approve, issue the voucher.
    The caller holds the programme and account locks; every step is still a
    conditional UPDATE, and any miss rolls the whole transaction back."""
    s = uow.session
    year, user_id = app["year"], app["user_id"]
    ensure_within_year(year, now)
    done = await s.execute(
        update(applications)
        .where(applications.c.id == app["id"], applications.c.status == from_status)
        .values(status=APPROVED, amount_fen=amount, failures=[], decided_at=now, decided_by=uow.actor.label, decision_reason=reason)
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
        raise exhausted(Check.BUDGET_EXHAUSTED)
    done = await s.execute(
        update(accounts)
        .where(accounts.c.user_id == user_id, accounts.c.year == year, accounts.c.cap_fen - accounts.c.committed_fen >= amount)
        .values(committed_fen=accounts.c.committed_fen + amount)
    )
    if done.rowcount != 1:
        raise exhausted(Check.CAP_EXHAUSTED)
    await prog.close_if_committed(uow, year)
    voucher = {
        "id": new_event_id(),
        "application_id": app["id"],
        "user_id": user_id,
        "unit_id": app["unit_id"],
        "order_id": app["order_id"],
        "order_case_no": app["order_case_no"],
        "year": year,
        "amount_fen": amount,
        "expires_at": expires_at(year),
        "status": ISSUED,
        "issued_at": now,
    }
    await s.execute(insert(vouchers).values(**voucher))
    approved = await load_application(s, app["id"])
    await uow.emit(ve.ApplicationApproved(**snapshot(approved)))
    await uow.emit(ve.VoucherIssued(**voucher_snapshot(voucher)))
    await uow.audit("application.approve", "application", app["id"], reason=reason, before=snapshot(app), after=snapshot(approved))
    await uow.audit("voucher.issue", "voucher", voucher["id"], after=voucher_snapshot(voucher))
    return schemas.application(approved, voucher["id"])


async def still_contracted(s: AsyncSession, app: RowMapping) -> None:
    """An order cancelled after the application was submitted gets no voucher
    (its revocation has already run): approval and overturn refuse it. The
    order's row stays locked to the commit, so a cancellation arriving
    meanwhile waits and then revokes the voucher issued here."""
    order = (await s.execute(select(order_view).where(order_view.c.order_id == app["order_id"]).with_for_update())).mappings().first()
    if order is None or order["status"] != readmodel.ORDER_CONTRACTED:
        raise Conflict("voucher.order_not_contracted", "订单尚未签订合同或已取消", "the order is not (or no longer) contracted", order_status=order["status"] if order else None)


async def locked_rows(s: AsyncSession, year: int, user_id: str) -> tuple[RowMapping | None, RowMapping | None]:
    """Lock order everywhere: programme, then account."""
    return await prog.load(s, year, lock=True), await prog.load_account(s, user_id, year, lock=True)


async def checked_order(s: AsyncSession, *, user_id: str, order_id: str, year: int, account: RowMapping | dict[str, Any] | None) -> RowMapping:
    """The request-level checks of a submission: an account, the user's own
    contracted order, no application on its contract yet (R22). Each raises
    its own error."""
    if account is None:
        raise Conflict("voucher.account_not_active", "请先开通本年度创新券账户", "open your voucher account for the year first", year=year)
    order = await order_of(s, order_id)
    if order is None or order["user_id"] != user_id:
        raise NotFound("order", "订单", order_id)
    if order["status"] != readmodel.ORDER_CONTRACTED:
        raise Conflict("voucher.order_not_contracted", "订单尚未签订合同或已取消", "the order is not (or no longer) contracted", order_status=order["status"])
    if contract_applied(new_claim(order), await claims_on(s, [order_id], [order["contract_sha256"]])) is ContractUse.APPLIED:
        raise contract_used_up(order_id)
    return order
