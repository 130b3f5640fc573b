"""Programme years and voucher accounts (R15, R16, R19(1)).

The bureau opens a year with its budget; bureau or finance change the budget
(never below what is committed). Commitments move only through conditional
UPDATEs guarded by the table's CHECK constraints (see ``commit_budget``)."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import vouchers as ve
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.preconditions import check_version
from services.vouchers import readmodel, schemas
from services.vouchers.db.models import accounts, programmes, user_view
from services.vouchers.domain.policy import ProgrammeDefaults, ProgrammeParameters, UserFacts, VoucherPolicy, eligibility, yearly_cap
from services.vouchers.schemas import Account, EligibilityView, Programme

#: why a programme closes itself
BUDGET_COMMITTED = "budget_committed"
#: R21: the natural year is over (computed on read from the policy clock, never stored)
YEAR_ENDED = "year_ended"


def snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("year", "version", "budget_fen", "committed_fen", "rate_bp", "cap_fen", "special_cap_fen", "open")}


def read(row: RowMapping | dict[str, Any]) -> Programme:
    """The programme as clients and the audit trail see it. R21: a programme
    closes itself when its natural year ends (Asia/Shanghai, on the policy
    clock): it then reads closed, ``year_ended``, whatever is stored."""
    programme = schemas.programme(row)
    if clock.local_year() > programme.year:
        return msgspec.structs.replace(programme, open=False, closed_reason=YEAR_ENDED)
    return programme


def policy_of(row: RowMapping | dict[str, Any] | None, year: int) -> VoucherPolicy:
    """The numbers of the year's programme row (an account, an application or
    an appeal exists only under an opened programme: without one, 404)."""
    if row is None:
        raise NotFound("programme", "年度创新券计划", str(year))
    return VoucherPolicy(
        rate_bp=row["rate_bp"],
        cap_fen=row["cap_fen"],
        special_cap_fen=row["special_cap_fen"],
        appeal_window_days=row["appeal_window_days"],
        auto_approve=row["auto_approve"],
        eligible_classes=tuple(row["eligible_classes"]),
        special_classes=tuple(row["special_classes"]),
    )


async def year_policy(db: ServiceDatabase, year: int, defaults: ProgrammeDefaults) -> VoucherPolicy:
    """The numbers a user of ``year`` is held to: its programme's once the bureau
    opened it, before that the policy file's for the year."""
    async with db.read() as s:
        row = await load(s, year)
    if row is None:
        return defaults.policy_for(year)
    return policy_of(row, year)


async def load(s: AsyncSession, year: int, *, lock: bool = False) -> RowMapping | None:
    q = select(programmes).where(programmes.c.year == year)
    if lock:
        q = q.with_for_update()
    return (await s.execute(q)).mappings().first()


async def open_programme(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    year: int,
    budget_fen: int,
    rate_bp: int | None = None,
    cap_fen: int | None = None,
    special_cap_fen: int | None = None,
    appeal_window_days: int | None = None,
    auto_approve: bool | None = None,
    eligible_classes: list[str] | None = None,
    special_classes: list[str] | None = None,
    defaults: ProgrammeDefaults,
) -> Programme:
    """R15: publish the year's budget and open the programme; a parameter left
    out takes the year's number (or classes) from the policy file (``defaults``)."""
    given = {
        "rate_bp": rate_bp, "cap_fen": cap_fen, "special_cap_fen": special_cap_fen, "appeal_window_days": appeal_window_days, "auto_approve": auto_approve,
        "eligible_classes": tuple(eligible_classes) if eligible_classes is not None else None,
        "special_classes": tuple(special_classes) if special_classes is not None else None,
    }
    try:
        policy = ProgrammeParameters(**{**msgspec.structs.asdict(defaults.for_year(year)), **{k: v for k, v in given.items() if v is not None}})
    except ValueError as exc:
        raise DomainError("voucher.policy_invalid", "创新券年度参数不合法", str(exc)) from exc
    if budget_fen < 0:
        raise DomainError("voucher.budget_invalid", "预算必须为非负整数（分）", "the budget must be a non-negative number of fen")
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        if await load(uow.session, year) is not None:
            raise Conflict("voucher.programme_exists", f"{year}年度创新券已开放", f"the {year} programme already exists", year=year)
        row = {
            "year": year,
            "budget_fen": budget_fen,
            "committed_fen": 0,
            "rate_bp": policy.rate_bp,
            "cap_fen": policy.cap_fen,
            "special_cap_fen": policy.special_cap_fen,
            "appeal_window_days": policy.appeal_window_days,
            "auto_approve": policy.auto_approve,
            "eligible_classes": list(policy.eligible_classes),
            "special_classes": list(policy.special_classes),
            "open": budget_fen > 0,
            "closed_reason": None if budget_fen > 0 else BUDGET_COMMITTED,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        await uow.session.execute(insert(programmes).values(**row))
        await uow.emit(ve.ProgrammeOpened(**snapshot(row)))
        opened = read(row)
        await uow.audit("programme.open", "programme", str(year), after=audit_image(opened))
    return opened


async def change_budget(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, year: int, *, budget_fen: int, reason: str, expected_version: int | None = None
) -> Programme:
    """Change the budget, never below what is committed; a raise reopens a
    programme closed because its budget was committed. ``expected_version`` (an
    If-Match): only the version read (412; every commitment changes it too). The
    write is conditional on the version read: 409 ``programme.concurrent_change``."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        before = await load(s, year, lock=True)
        if before is None:
            raise NotFound("programme", "年度创新券计划", str(year))
        check_version(before["version"], expected_version)
        if budget_fen < before["committed_fen"]:
            raise Conflict(
                "voucher.budget_below_committed",
                "预算不能低于已承诺的金额",
                "the budget cannot go below what is already committed",
                committed_fen=before["committed_fen"],
            )
        done = await s.execute(
            update(programmes)
            .where(programmes.c.year == year, programmes.c.version == before["version"], programmes.c.committed_fen <= budget_fen)
            .values(budget_fen=budget_fen, version=before["version"] + 1, updated_at=clock.utc_now())
        )
        if done.rowcount != 1:
            raise Conflict("programme.concurrent_change", "年度计划正被他人修改，请刷新后重试", "the programme changed meanwhile; reload it and apply your change again")
        row = await load(s, year)
        assert row is not None
        await uow.emit(ve.ProgrammeBudgetChanged(**snapshot(row)))
        remaining = row["budget_fen"] - row["committed_fen"]
        if remaining > 0 and not row["open"] and row["closed_reason"] == BUDGET_COMMITTED:
            await s.execute(update(programmes).where(programmes.c.year == year).values(open=True, closed_reason=None, version=programmes.c.version + 1))
            row = await load(s, year)
            assert row is not None
            await uow.emit(ve.ProgrammeOpened(**snapshot(row)))
        else:
            row = await close_if_committed(uow, year) or row
        changed = read(row)
        await uow.audit("programme.budget", "programme", str(year), reason=reason, before=audit_image(read(before)), after=audit_image(changed))
    return changed


async def close_if_committed(uow: UnitOfWork, year: int) -> RowMapping | None:
    """R15: when nothing is left, the programme closes itself."""
    s = uow.session
    done = await s.execute(
        update(programmes)
        .where(programmes.c.year == year, programmes.c.open.is_(True), programmes.c.committed_fen >= programmes.c.budget_fen)
        .values(open=False, closed_reason=BUDGET_COMMITTED, version=programmes.c.version + 1, updated_at=clock.utc_now())
    )
    if done.rowcount != 1:
        return None
    row = await load(s, year)
    assert row is not None
    await uow.emit(ve.ProgrammeClosed(**snapshot(row), reason=BUDGET_COMMITTED))
    await uow.audit("programme.close", "programme", str(year), reason=BUDGET_COMMITTED, after=audit_image(read(row)))
    return row


async def reopen_if_released(uow: UnitOfWork, year: int) -> RowMapping | None:
    """R15: money released into a programme closed because its budget was
    committed (a revoked voucher) reopens it, as a raised budget does."""
    s = uow.session
    done = await s.execute(
        update(programmes)
        .where(
            programmes.c.year == year,
            programmes.c.open.is_(False),
            programmes.c.closed_reason == BUDGET_COMMITTED,
            programmes.c.committed_fen < programmes.c.budget_fen,
        )
        .values(open=True, closed_reason=None, version=programmes.c.version + 1, updated_at=clock.utc_now())
    )
    if done.rowcount != 1:
        return None
    row = await load(s, year)
    assert row is not None
    await uow.emit(ve.ProgrammeOpened(**snapshot(row)))
    await uow.audit("programme.reopen", "programme", str(year), reason="reservation released", after=audit_image(read(row)))
    return row


async def get_programme(db: ServiceDatabase, year: int) -> Programme:
    async with db.read() as s:
        row = await load(s, year)
    if row is None:
        raise NotFound("programme", "年度创新券计划", str(year))
    return read(row)


async def load_account(s: AsyncSession, user_id: str, year: int, *, lock: bool = False) -> RowMapping | None:
    q = select(accounts).where(accounts.c.user_id == user_id, accounts.c.year == year)
    if lock:
        q = q.with_for_update()
    return (await s.execute(q)).mappings().first()


def user_facts_of(row: RowMapping | None) -> UserFacts | None:
    if row is None:
        return None
    return UserFacts(verified=row["verified"], in_xuchang=row["in_xuchang"], classes=tuple(row["classes"]), special_classes=tuple(row["special_classes"]))


async def activate_account(db: ServiceDatabase, actor: Actor, correlation_id: str | None, user_id: str, year: int) -> Account:
    """R19(1): a verified user opens its voucher account for the year, with its cap (R16)."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        prog = await load(s, year)
        if prog is None:
            raise NotFound("programme", "年度创新券计划", str(year))
        user = (await s.execute(select(user_view).where(user_view.c.user_id == user_id))).mappings().first()
        if user is None or not user["verified"]:
            raise DomainError("voucher.user_not_verified", "用户尚未通过平台审核", "the user has not been verified by the center")
        existing = await load_account(s, user_id, year)
        if existing is not None:
            raise Conflict("voucher.account_exists", "本年度创新券账户已开通", "the account for this year is already active", year=year)
        facts = user_facts_of(user)
        assert facts is not None
        cap = yearly_cap(policy_of(prog, year), facts)
        row = {"user_id": user_id, "year": year, "cap_fen": cap, "committed_fen": 0, "activated_at": clock.utc_now()}
        await s.execute(insert(accounts).values(**row))
        await uow.emit(ve.AccountActivated(user_id=user_id, year=year, cap_fen=cap))
        activated = schemas.account(row)
        await uow.audit("account.activate", "account", f"{user_id}:{year}", after=audit_image(activated))
    return activated


async def get_account(db: ServiceDatabase, user_id: str, year: int) -> Account:
    async with db.read() as s:
        row = await load_account(s, user_id, year)
    if row is None:
        raise NotFound("account", "创新券账户", f"{user_id}:{year}")
    return schemas.account(row)


async def eligibility_of(db: ServiceDatabase, user_id: str, year: int, defaults: ProgrammeDefaults) -> EligibilityView:
    """Can the user apply for vouchers in ``year``, and up to what cap (R4, R16)?
    From vouchers' read model of the user and the year's numbers (``year_policy``)."""
    facts = await readmodel.user_facts(db, user_id)
    result = eligibility(await year_policy(db, year, defaults), facts)
    return EligibilityView(
        user_id=user_id,
        year=year,
        known=facts is not None,
        eligible=result.eligible,
        reasons=[f"voucher.{r}" for r in result.reasons],
        yearly_cap_fen=result.yearly_cap_fen,
    )
