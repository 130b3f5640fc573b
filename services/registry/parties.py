"""Registry use cases for units and users: one transaction each, with the
state change, its outbox event and its audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry import credit_codes as codes
from services.registry.db.party_models import units, users, voucher_acceptance
from services.registry.db.supervision_models import blacklist
from services.registry.domain import identifiers, service_info
from services.registry.domain.parties import (
    AcceptanceEvidence,
    AcceptancePolicies,
    PartyType,
    SpecialClass,
    UnitAction,
    UnitKind,
    UnitStatus,
    UserClass,
    UserKind,
    check_acceptance,
    check_county,
    check_decidable,
    check_reason,
    check_unit_reason,
    unit_transition,
)
from services.registry.schemas.parties import Unit, UnitPage
from services.registry.unit_rows import unit_event, unit_image, unit_view
from services.registry.schemas.users import User
from services.registry.user_rows import as_seen, new_user_row, user_image, user_snapshot, user_view
from services.runtime import clock
from services.runtime.city import City
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.http.idempotency import Idempotency, remember
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


def _credit_code(raw: str, field: str = "credit_code") -> str:
    return identifiers.validate_credit_code(raw, field=field)


async def apply_unit(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    name: str,
    credit_code: str,
    kind: UnitKind,
    parent_unit_id: str | None,
    county_code: str | None,
    department: str | None,
    city: City,
    published: dict[str, Any] | None = None,
    idempotency: Idempotency | None = None,
) -> Unit:
    """``published``: the R18 service information the unit publishes now (may come later);
    ``county_code`` one of ``city``'s divisions (422 ``unit.unknown_county`` otherwise)."""
    now = clock.utc_now()
    county_code = check_county(county_code, city)
    info = service_info.clean(published or {})
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        if parent_unit_id is not None:
            parent = (await s.execute(select(units).where(units.c.id == parent_unit_id))).mappings().first()
            if parent is None:
                raise NotFound("unit", "单位", parent_unit_id)
            if parent["kind"] != UnitKind.UNIVERSITY or kind is not UnitKind.COLLEGE:
                raise DomainError(
                    "unit.parent_not_university",
                    "只有高校的二级学院可以作为独立管理单位登记在高校之下（细则第十三条）",
                    "only a university's college may be registered under a parent unit (R13)",
                )
            code = parent["credit_code"]
        else:
            if kind is UnitKind.COLLEGE:
                raise DomainError("unit.college_needs_parent", "二级学院必须指明所属高校", "a college must name its university")
            code = _credit_code(credit_code)
            taken = await s.execute(select(units.c.id).where(units.c.credit_code == code, units.c.parent_unit_id.is_(None)))
            if taken.first() is not None:
                raise Conflict("unit.duplicate_credit_code", f"统一社会信用代码 {code} 已登记", f"credit code {code} is already registered")
        row = {
            "id": new_event_id(),
            "name": name,
            "credit_code": code,
            "kind": str(kind),
            "parent_unit_id": parent_unit_id,
            "county_code": county_code,
            "department": department,
            "status": str(UnitStatus.APPLIED),
            "accepts_vouchers": False,
            **{f: info.get(f) for f in service_info.UNIT_FIELDS},
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        await s.execute(insert(units).values(**row))
        unit = unit_view(row)
        await uow.emit(ev.UnitApplied(**unit_event(unit)))
        await uow.audit("unit.apply", "unit", row["id"], after=unit_image(unit))
        await remember(uow, idempotency, unit)
    return unit


async def decide_unit(db: ServiceDatabase, actor: Actor, correlation_id: str | None, unit_id: str, *, approve: bool, reason: str | None) -> Unit:
    reason = check_reason(reason, required=not approve)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(units).where(units.c.id == unit_id))).mappings().first()
        if row is None:
            raise NotFound("unit", "单位", unit_id)
        check_decidable(row["status"])
        status = UnitStatus.APPROVED if approve else UnitStatus.REJECTED
        changed = await s.execute(
            update(units)
            .where(units.c.id == unit_id, units.c.version == row["version"])
            .values(status=str(status), version=row["version"] + 1, updated_at=now, decided_by=actor.subject, decided_at=now, decision_reason=reason)
        )
        if changed.rowcount != 1:
            raise Conflict("unit.concurrent_change", "该单位正被他人修改，请刷新后重试", "the unit changed meanwhile; reload and retry")
        after = (await s.execute(select(units).where(units.c.id == unit_id))).mappings().one()
        unit = unit_view(after)
        await uow.emit(ev.UnitApproved(**unit_event(unit), reason=reason) if approve else ev.UnitRejected(**unit_event(unit), reason=reason or ""))
        await uow.audit("unit.approve" if approve else "unit.reject", "unit", unit_id, reason=reason, before=unit_image(unit_view(row)), after=unit_image(unit))
    return unit


async def get_unit(db: ServiceDatabase, unit_id: str) -> Unit:
    async with db.read() as s:
        row = (await s.execute(select(units).where(units.c.id == unit_id))).mappings().first()
    if row is None:
        raise NotFound("unit", "单位", unit_id)
    return unit_view(row)


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its wildcards taken literally (escape ``\\``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def name_or_code_contains(table: Any, text: str) -> Any:
    """The condition of a search by part of a party's name (case-insensitive) or of its unified
    social credit code (stored upper case): a unit's or a user's."""
    return or_(table.c.name.ilike(_like(text), escape="\\"), table.c.credit_code.like(_like(text.upper()), escape="\\"))


async def list_units(db: ServiceDatabase, *, status: str | None, page: int, page_size: int, text: str | None = None) -> UnitPage:
    """``text``: part of the unit's name (case-insensitive) or of its credit code (which is upper case)."""
    q = select(units).where(units.c.status == status) if status else select(units)
    if text := (text or "").strip():
        q = q.where(name_or_code_contains(units, text))
    async with db.read() as s:
        return await read_page(s, q, order_by=[units.c.created_at, units.c.id], page=page, page_size=page_size, item=unit_view)


async def register_user(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    pii_key: str,
    city_prefix: str,
    name: str,
    kind: UserKind,
    credit_code: str | None,
    classes: list[UserClass],
    special_classes: list[SpecialClass],
    leader_name: str | None,
    leader_id_number: str | None,
    incubator_credit_code: str | None,
    by_staff: bool,
    idempotency: Idempotency | None = None,
) -> User:
    """``by_staff``: the caller is the center or the bureau, who see ``duplicate_of`` (``user_rows.as_seen``)."""
    row = new_user_row(
        pii_key=pii_key,
        city_prefix=city_prefix,
        name=name,
        kind=kind,
        credit_code=credit_code,
        classes=classes,
        special_classes=special_classes,
        leader_name=leader_name,
        leader_id_number=leader_id_number,
        incubator_credit_code=incubator_credit_code,
    )
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            # a code another user gave does not lock the real enterprise out: the center decides
            row["duplicate_of"] = await codes.holder(uow.session, row["credit_code"])
            await uow.session.execute(insert(users).values(**row))
            snap = user_snapshot(row)  # type: ignore[arg-type]
            await uow.emit(ev.UserRegistered(**snap))
            user = user_view(row)
            await uow.audit("user.register", "user", row["id"], after=user_image(user))
            shown = as_seen(user, by_staff=by_staff)
            await remember(uow, idempotency, shown)
    except IntegrityError as exc:
        raise Conflict("user.duplicate", "该团队负责人已注册", "this team leader is already registered") from exc
    return shown


# --- unit lifecycle (R7, R27) and voucher acceptance (R18) ---------------------


async def _unit_row(s: Any, unit_id: str) -> RowMapping:
    row = (await s.execute(select(units).where(units.c.id == unit_id))).mappings().first()
    if row is None:
        raise NotFound("unit", "单位", unit_id)
    return row


async def user_row(s: Any, user_id: str) -> RowMapping:
    row = (await s.execute(select(users).where(users.c.id == user_id))).mappings().first()
    if row is None:
        raise NotFound("user", "用户", user_id)
    return row


async def update_user(s: Any, row: RowMapping, **values: Any) -> RowMapping:
    """One optimistic step on a user: the row must still be at ``row``'s version."""
    changed = await s.execute(
        update(users).where(users.c.id == row["id"], users.c.version == row["version"]).values(version=row["version"] + 1, **values)
    )
    if changed.rowcount != 1:
        raise Conflict("user.concurrent_change", "该用户正被他人修改，请刷新后重试", "the user changed meanwhile; reload and retry")
    return (await s.execute(select(users).where(users.c.id == row["id"]))).mappings().one()


async def _update_unit(s: Any, row: RowMapping, **values: Any) -> RowMapping:
    """One optimistic step: the row must still be at ``row``'s version."""
    changed = await s.execute(
        update(units).where(units.c.id == row["id"], units.c.version == row["version"]).values(version=row["version"] + 1, **values)
    )
    if changed.rowcount != 1:
        raise Conflict("unit.concurrent_change", "该单位正被他人修改，请刷新后重试", "the unit changed meanwhile; reload and retry")
    return (await s.execute(select(units).where(units.c.id == row["id"]))).mappings().one()


async def revoke_acceptance_in(uow: Any, row: RowMapping, reason: str, now: datetime) -> RowMapping:
    """Inside an open unit of work: the unit stops accepting vouchers (R18, R27).
    Emits UnitVoucherAcceptanceRevoked and audits; returns the updated row.
    A unit that does not accept vouchers is returned unchanged."""
    if not row["accepts_vouchers"]:
        return row
    s = uow.session
    after = await _update_unit(s, row, accepts_vouchers=False, updated_at=now)
    await s.execute(
        update(voucher_acceptance)
        .where(voucher_acceptance.c.unit_id == row["id"])
        .values(granted=False, decided_by=uow.actor.subject, decided_at=now, reason=reason)
    )
    unit = unit_view(after)
    await uow.emit(ev.UnitVoucherAcceptanceRevoked(**unit_event(unit), reason=reason))
    await uow.audit("unit.voucher_acceptance_revoke", "unit", row["id"], reason=reason, before=unit_image(unit_view(row)), after=unit_image(unit))
    return after


_LIFECYCLE_EVENTS = {
    UnitAction.SUSPEND: ev.UnitSuspended,
    UnitAction.REINSTATE: ev.UnitReinstated,
    UnitAction.DISQUALIFY: ev.UnitDisqualified,
}


async def change_unit_status(db: ServiceDatabase, actor: Actor, correlation_id: str | None, unit_id: str, *, action: UnitAction, reason: str | None) -> Unit:
    """Suspend, reinstate or disqualify an approved unit (R27). Disqualification
    is final and also revokes the unit's voucher acceptance."""
    reason = check_unit_reason(action, reason)
    async with db.unit_of_work(actor, correlation_id) as uow:
        return await change_unit_status_in(uow, unit_id, action=action, reason=reason, now=clock.utc_now())


async def change_unit_status_in(uow: Any, unit_id: str, *, action: UnitAction, reason: str | None, now: datetime) -> Unit:
    """Inside an open unit of work (also a fraud finding's): the status change,
    its event and its audit row; returns the unit."""
    s = uow.session
    row = await _unit_row(s, unit_id)
    target = unit_transition(row["status"], action)
    before = row
    if action is UnitAction.DISQUALIFY:
        row = await revoke_acceptance_in(uow, row, reason or "", now)
    after = await _update_unit(s, row, status=str(target), updated_at=now, decided_by=uow.actor.subject, decided_at=now, decision_reason=reason)
    unit = unit_view(after)
    await uow.emit(_LIFECYCLE_EVENTS[action](**unit_event(unit), reason=reason))
    await uow.audit(f"unit.{action}", "unit", unit_id, reason=reason, before=unit_image(unit_view(before)), after=unit_image(unit))
    return unit


async def _blacklisted(s: Any, party_type: PartyType, party_id: str) -> bool:
    q = select(blacklist.c.id).where(blacklist.c.party_type == str(party_type), blacklist.c.party_id == party_id, blacklist.c.removed_at.is_(None))
    return (await s.execute(q)).first() is not None


async def grant_voucher_acceptance(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    unit_id: str,
    *,
    evidence: AcceptanceEvidence,
    policy: AcceptancePolicies,
    reason: str | None,
) -> Unit:
    """Approve a unit to accept vouchers on its R18 evidence, by the numbers of
    this year (Asia/Shanghai). Every failing condition is reported at once (422, ``details.codes``)."""
    reason = check_reason(reason, required=False)
    now = clock.utc_now()
    year_policy = policy.for_year(clock.local_year(now))
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _unit_row(s, unit_id)
        if row["accepts_vouchers"]:
            raise Conflict("acceptance.already_granted", "该单位已获准接收科技创新券", "the unit already accepts vouchers")
        blacklisted = await _blacklisted(s, PartyType.UNIT, unit_id)
        check_acceptance(row["status"], evidence, year_policy, blacklisted=blacklisted, unpublished=service_info.missing(row))
        values = {
            "full_time_staff": evidence.full_time_staff,
            "service_content": evidence.service_content.strip(),
            "service_norms": evidence.service_norms.strip(),
            "fees_published": evidence.fees_published,
            "no_bad_credit": evidence.no_bad_credit,
            "granted": True,
            "decided_by": actor.subject,
            "decided_at": now,
            "reason": reason,
        }
        exists = (await s.execute(select(voucher_acceptance.c.unit_id).where(voucher_acceptance.c.unit_id == unit_id))).first()
        if exists:
            await s.execute(update(voucher_acceptance).where(voucher_acceptance.c.unit_id == unit_id).values(**values))
        else:
            await s.execute(insert(voucher_acceptance).values(unit_id=unit_id, **values))
        after = await _update_unit(s, row, accepts_vouchers=True, updated_at=now)
        unit = unit_view(after)
        await uow.emit(ev.UnitVoucherAcceptanceGranted(**unit_event(unit), reason=reason))
        evidence_record = {k: v for k, v in values.items() if k not in ("decided_by", "decided_at", "reason", "granted")}
        await uow.audit("unit.voucher_acceptance_grant", "unit", unit_id, reason=reason, before=unit_image(unit_view(row)), after={**unit_image(unit), "evidence": evidence_record})
    return unit


async def revoke_voucher_acceptance(db: ServiceDatabase, actor: Actor, correlation_id: str | None, unit_id: str, *, reason: str | None) -> Unit:
    text = check_reason(reason, required=True, what_zh="撤销接收科技创新券资格", what_en="a revocation") or ""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        row = await _unit_row(uow.session, unit_id)
        if not row["accepts_vouchers"]:
            raise Conflict("acceptance.not_granted", "该单位未获准接收科技创新券", "the unit does not accept vouchers")
        after = await revoke_acceptance_in(uow, row, text, now)
    return unit_view(after)


# --- users: classes and credit status (R4, R16, R26) ---------------------------
