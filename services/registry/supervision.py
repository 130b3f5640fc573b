"""Supervision use cases (R26, R27): affiliations between users and units, the
credit blacklist, and fraud findings. One transaction each, with the state
change, its outbox event and its audit row."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry.db.party_models import units, users
from services.registry.db.supervision_models import affiliations, blacklist, fraud_findings
from services.registry.domain.parties import (
    AffiliationKind,
    AffiliationSource,
    PartyType,
    UnitAction,
    UnitStatus,
    affiliated,
    check_reason,
)
from services.registry.parties import change_unit_status_in, revoke_acceptance_in
from services.runtime import clock
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.outbox import Actor
from services.runtime.service_db import ServiceDatabase

# --- affiliations (R26) --------------------------------------------------------


def _affiliation(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "affiliation_id": row["id"],
        "user_id": row["user_id"],
        "unit_id": row["unit_id"],
        "kind": row["kind"],
        "source": row["source"],
        "note": row["note"],
        "recorded_by": row["recorded_by"],
        "recorded_at": row["recorded_at"],
        "removed_by": row["removed_by"],
        "removed_at": row["removed_at"],
        "removal_reason": row["removal_reason"],
    }


_DUPLICATE_TIE = ("affiliation.duplicate", "该用户与该单位的同类关联关系已登记", "this tie between the user and the unit is already recorded")


async def record_affiliation(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    user_id: str,
    unit_id: str,
    kind: AffiliationKind,
    source: AffiliationSource,
    note: str | None,
) -> dict[str, Any]:
    """A tie declared by the user or the unit, or recorded by a reviewer. The
    caller decides ``source`` from the role, never from the request body."""
    now = clock.utc_now()
    row = {
        "id": new_event_id(),
        "user_id": user_id,
        "unit_id": unit_id,
        "kind": str(kind),
        "source": str(source),
        "recorded_by": actor.subject,
        "recorded_at": now,
        "note": (note or "").strip() or None,
        "removed_by": None,
        "removed_at": None,
        "removal_reason": None,
    }
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            if (await s.execute(select(users.c.id).where(users.c.id == user_id))).first() is None:
                raise NotFound("user", "用户", user_id)
            if (await s.execute(select(units.c.id).where(units.c.id == unit_id))).first() is None:
                raise NotFound("unit", "单位", unit_id)
            dup = select(affiliations.c.id).where(
                affiliations.c.user_id == user_id, affiliations.c.unit_id == unit_id, affiliations.c.kind == str(kind), affiliations.c.removed_at.is_(None)
            )
            if (await s.execute(dup)).first() is not None:
                raise Conflict(*_DUPLICATE_TIE)
            await s.execute(insert(affiliations).values(**row))
            out = _affiliation(row)
            await uow.emit(ev.AffiliationRecorded(affiliation_id=row["id"], user_id=user_id, unit_id=unit_id, kind=str(kind), source=str(source)))
            await uow.audit("affiliation.record", "affiliation", row["id"], after=_jsonable(out))
    except IntegrityError as exc:  # a concurrent twin won the unique index
        raise Conflict(*_DUPLICATE_TIE) from exc
    return out


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}


async def remove_affiliation(db: ServiceDatabase, actor: Actor, correlation_id: str | None, affiliation_id: str, *, reason: str | None) -> dict[str, Any]:
    text = check_reason(reason, required=True, what_zh="删除关联关系", what_en="removing a tie") or ""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(affiliations).where(affiliations.c.id == affiliation_id))).mappings().first()
        if row is None:
            raise NotFound("affiliation", "关联关系", affiliation_id)
        if row["removed_at"] is not None:
            raise Conflict("affiliation.already_removed", "该关联关系已删除", "the tie was already removed")
        changed = await s.execute(
            update(affiliations)
            .where(affiliations.c.id == affiliation_id, affiliations.c.removed_at.is_(None))
            .values(removed_by=actor.subject, removed_at=now, removal_reason=text)
        )
        if changed.rowcount != 1:
            raise Conflict("affiliation.already_removed", "该关联关系已删除", "the tie was already removed")
        after = (await s.execute(select(affiliations).where(affiliations.c.id == affiliation_id))).mappings().one()
        out = _affiliation(after)
        await uow.emit(ev.AffiliationRemoved(affiliation_id=affiliation_id, user_id=row["user_id"], unit_id=row["unit_id"], kind=row["kind"], reason=text))
        await uow.audit("affiliation.remove", "affiliation", affiliation_id, reason=text, before=_jsonable(_affiliation(row)), after=_jsonable(out))
    return out


async def list_affiliations(
    db: ServiceDatabase, *, user_id: str | None, unit_id: str | None, include_removed: bool, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    conds = []
    if user_id is not None:
        conds.append(affiliations.c.user_id == user_id)
    if unit_id is not None:
        conds.append(affiliations.c.unit_id == unit_id)
    if not include_removed:
        conds.append(affiliations.c.removed_at.is_(None))
    q = select(affiliations).where(*conds)
    c = select(func.count()).select_from(affiliations).where(*conds)
    async with db.read() as s:
        total = (await s.execute(c)).scalar_one()
        rows = (await s.execute(q.order_by(affiliations.c.recorded_at, affiliations.c.id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [_affiliation(r) for r in rows], total


async def is_affiliated(db: ServiceDatabase, user_id: str, unit_id: str) -> bool:
    """Whether the user has an active tie with the unit, its parent or its
    children (R26, R13)."""
    async with db.read() as s:
        ties = (await s.execute(select(affiliations.c.unit_id).where(affiliations.c.user_id == user_id, affiliations.c.removed_at.is_(None)))).scalars().all()
        if not ties:
            return False
        parent_of: dict[str, str | None] = {}
        todo = {unit_id, *ties}
        while todo:  # walk up the parent chains of the unit and every tied unit
            rows = (await s.execute(select(units.c.id, units.c.parent_unit_id).where(units.c.id.in_(todo)))).all()
            parent_of.update({r.id: r.parent_unit_id for r in rows})
            todo = {r.parent_unit_id for r in rows if r.parent_unit_id is not None and r.parent_unit_id not in parent_of}
    return affiliated(ties, unit_id, parent_of)


# --- blacklist (R26, R27) ------------------------------------------------------


def _entry(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "entry_id": row["id"],
        "party_type": row["party_type"],
        "party_id": row["party_id"],
        "party_name": row["party_name"],
        "credit_code": row["credit_code"],
        "reason": row["reason"],
        "added_by": row["added_by"],
        "added_at": row["added_at"],
        "removed_by": row["removed_by"],
        "removed_at": row["removed_at"],
        "removal_reason": row["removal_reason"],
    }


def _snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {"entry_id": row["id"], "party_type": row["party_type"], "party_id": row["party_id"], "party_name": row["party_name"], "credit_code": row["credit_code"]}


_DUPLICATE_ENTRY = ("blacklist.duplicate", "该主体已在黑名单中", "the party is already on the blacklist")


async def add_to_blacklist(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, party_type: PartyType, party_id: str, reason: str | None
) -> dict[str, Any]:
    """The bureau puts a user or unit on the blacklist (R27). A unit also loses
    its voucher acceptance (R18: no bad credit record)."""
    text = check_reason(reason, required=True, what_zh="列入黑名单", what_en="a blacklisting") or ""
    now = clock.utc_now()
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            party = await _party(uow.session, party_type, party_id)
            if await _on_blacklist(uow.session, party_type, party_id):
                raise Conflict(*_DUPLICATE_ENTRY)
            row = await blacklist_in(uow, party_type, party, text, now)
    except IntegrityError as exc:
        raise Conflict(*_DUPLICATE_ENTRY) from exc
    return _entry(row)


async def _party(s: Any, party_type: PartyType, party_id: str) -> RowMapping:
    table = units if party_type is PartyType.UNIT else users
    party = (await s.execute(select(table).where(table.c.id == party_id))).mappings().first()
    if party is None:
        raise NotFound(str(party_type), "单位" if party_type is PartyType.UNIT else "用户", party_id)
    return party


async def _on_blacklist(s: Any, party_type: PartyType, party_id: str) -> bool:
    dup = select(blacklist.c.id).where(blacklist.c.party_type == str(party_type), blacklist.c.party_id == party_id, blacklist.c.removed_at.is_(None))
    return (await s.execute(dup)).first() is not None


async def blacklist_in(uow: Any, party_type: PartyType, party: RowMapping, text: str, now: datetime) -> dict[str, Any]:
    """Inside an open unit of work: the entry, ``BlacklistAdded`` and its audit row;
    a unit also loses its voucher acceptance. The caller checked no entry is active."""
    row = {
        "id": new_event_id(),
        "party_type": str(party_type),
        "party_id": party["id"],
        "party_name": party["name"],
        "credit_code": party["credit_code"],
        "reason": text,
        "added_by": uow.actor.subject,
        "added_at": now,
        "removed_by": None,
        "removed_at": None,
        "removal_reason": None,
    }
    await uow.session.execute(insert(blacklist).values(**row))
    await uow.emit(ev.BlacklistAdded(**_snapshot(row), reason=text))
    await uow.audit("blacklist.add", "blacklist", row["id"], reason=text, after=_jsonable(_entry(row)))
    if party_type is PartyType.UNIT:
        await revoke_acceptance_in(uow, party, f"列入黑名单 / blacklisted: {text}", now)
    return row


async def remove_from_blacklist(db: ServiceDatabase, actor: Actor, correlation_id: str | None, entry_id: str, *, reason: str | None) -> dict[str, Any]:
    """The bureau takes a party off the blacklist. Voucher acceptance is not
    restored: the unit applies again."""
    text = check_reason(reason, required=True, what_zh="移出黑名单", what_en="a removal from the blacklist") or ""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(blacklist).where(blacklist.c.id == entry_id))).mappings().first()
        if row is None:
            raise NotFound("blacklist_entry", "黑名单记录", entry_id)
        if row["removed_at"] is not None:
            raise Conflict("blacklist.already_removed", "该记录已移出黑名单", "the entry was already removed")
        changed = await s.execute(
            update(blacklist).where(blacklist.c.id == entry_id, blacklist.c.removed_at.is_(None)).values(removed_by=actor.subject, removed_at=now, removal_reason=text)
        )
        if changed.rowcount != 1:
            raise Conflict("blacklist.already_removed", "该记录已移出黑名单", "the entry was already removed")
        after = (await s.execute(select(blacklist).where(blacklist.c.id == entry_id))).mappings().one()
        await uow.emit(ev.BlacklistRemoved(**_snapshot(after), reason=text))
        await uow.audit("blacklist.remove", "blacklist", entry_id, reason=text, before=_jsonable(_entry(row)), after=_jsonable(_entry(after)))
    return _entry(after)


async def list_blacklist(db: ServiceDatabase, *, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Active entries, newest first."""
    active = blacklist.c.removed_at.is_(None)
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(blacklist).where(active))).scalar_one()
        rows = (
            await s.execute(select(blacklist).where(active).order_by(blacklist.c.added_at.desc(), blacklist.c.id).offset((page - 1) * page_size).limit(page_size))
        ).mappings().all()
    return [_entry(r) for r in rows], total


# --- fraud findings (R27) -------------------------------------------------------

CRITICISM = "criticism"
DISQUALIFICATION = "disqualification"
BLACKLIST = "blacklist"
SANCTIONS = (CRITICISM, DISQUALIFICATION, BLACKLIST)

_DUPLICATE_FINDING = ("fraud.duplicate", "该主体的同一事项已认定为弄虚作假", "this finding against the party is already recorded")


def _finding(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "finding_id": row["id"],
        "party_type": row["party_type"],
        "party_id": row["party_id"],
        "party_name": row["party_name"],
        "credit_code": row["credit_code"],
        "years": list(row["years"]),
        "voucher_ids": list(row["voucher_ids"]),
        "award_ids": list(row["award_ids"]),
        "sanctions": list(row["sanctions"]),
        "reason": row["reason"],
        "evidence_ref": row["evidence_ref"],
        "blacklist_entry_id": row["blacklist_entry_id"],
        "recorded_by": row["recorded_by"],
        "recorded_at": row["recorded_at"],
    }


def _scope_key(years: list[int], voucher_ids: list[str], award_ids: list[str]) -> str:
    canonical = json.dumps({"years": sorted(set(years)), "vouchers": sorted(set(voucher_ids)), "awards": sorted(set(award_ids))}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def default_sanctions(party_type: PartyType) -> list[str]:
    return [s for s in SANCTIONS if party_type is PartyType.UNIT or s != DISQUALIFICATION]


def check_sanctions(party_type: PartyType, sanctions: list[str]) -> list[str]:
    """R27 (视情节分别给予): the bureau chooses the sanctions per case; clawback
    always follows. A user has no sharing qualification to cancel."""
    chosen = [s for s in SANCTIONS if s in set(sanctions)]
    unknown = sorted(set(sanctions) - set(SANCTIONS))
    if unknown:
        raise DomainError("fraud.sanction_unknown", f"未知的处理措施：{'、'.join(unknown)}", f"unknown sanctions: {', '.join(unknown)}", status=400)
    if party_type is PartyType.USER and DISQUALIFICATION in chosen:
        raise DomainError("fraud.disqualify_user", "取消共享资格只适用于管理单位", "only a unit's sharing qualification can be cancelled", status=400)
    return chosen


async def record_finding(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    party_type: PartyType,
    party_id: str,
    reason: str | None,
    sanctions: list[str],
    years: list[int],
    voucher_ids: list[str],
    award_ids: list[str],
    evidence_ref: str | None,
) -> dict[str, Any]:
    """The bureau records a fraud finding (R27). One transaction: the finding, the
    sanctions chosen (blacklist entry — a unit also loses voucher acceptance —,
    a unit's disqualification, public criticism by the finding itself), the audit
    rows and ``FraudFound``, on which payments claws the funds back. The same
    party and scope twice is refused (409 ``fraud.duplicate``)."""
    text = check_reason(reason, required=True, what_zh="认定弄虚作假", what_en="a fraud finding") or ""
    chosen = check_sanctions(party_type, sanctions)
    now = clock.utc_now()
    years, voucher_ids, award_ids = sorted(set(years)), sorted(set(voucher_ids)), sorted(set(award_ids))
    scope = _scope_key(years, voucher_ids, award_ids)
    dup = select(fraud_findings.c.id).where(fraud_findings.c.party_type == str(party_type), fraud_findings.c.party_id == party_id, fraud_findings.c.scope_key == scope)
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            party = await _party(s, party_type, party_id)
            if (await s.execute(dup)).first() is not None:
                raise Conflict(*_DUPLICATE_FINDING)
            entry_id = None
            if BLACKLIST in chosen and not await _on_blacklist(s, party_type, party_id):
                entry_id = (await blacklist_in(uow, party_type, party, f"弄虚作假 / fraud: {text}", now))["id"]
            if DISQUALIFICATION in chosen and party["status"] != str(UnitStatus.DISQUALIFIED):
                await change_unit_status_in(uow, party_id, action=UnitAction.DISQUALIFY, reason=f"弄虚作假 / fraud: {text}", now=now)
            row = {
                "id": new_event_id(),
                "party_type": str(party_type),
                "party_id": party_id,
                "party_name": party["name"],
                "years": years,
                "voucher_ids": voucher_ids,
                "award_ids": award_ids,
                "scope_key": scope,
                "sanctions": chosen,
                "criticised": CRITICISM in chosen,
                "credit_code": party["credit_code"],
                "reason": text,
                "evidence_ref": (evidence_ref or "").strip() or None,
                "blacklist_entry_id": entry_id,
                "recorded_by": actor.subject,
                "recorded_at": now,
            }
            await s.execute(insert(fraud_findings).values(**row))
            out = _finding(row)
            await uow.emit(
                ev.FraudFound(
                    finding_id=row["id"], party_type=str(party_type), party_id=party_id, years=years, voucher_ids=voucher_ids, award_ids=award_ids,
                    sanctions=chosen, reason=text, evidence_ref=row["evidence_ref"],
                )
            )
            await uow.audit("fraud.find", "fraud_finding", row["id"], reason=text, after=_jsonable(out))
    except IntegrityError as exc:  # a concurrent twin won a unique index (the finding's, or its blacklist entry's)
        async with db.read() as s:
            if (await s.execute(dup)).first() is not None:
                raise Conflict(*_DUPLICATE_FINDING) from exc
            if await _on_blacklist(s, party_type, party_id):
                raise Conflict("fraud.concurrent", "该主体正被同时处理，请刷新后重试", "the party changed meanwhile; reload and retry") from exc
        raise
    return out


async def list_findings(
    db: ServiceDatabase, *, party_type: str | None, party_id: str | None, page: int, page_size: int, criticised_only: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """Findings, newest first (only those with public criticism for the public list)."""
    conds = [c for c in (fraud_findings.c.party_type == party_type if party_type else None, fraud_findings.c.party_id == party_id if party_id else None) if c is not None]
    if criticised_only:
        conds.append(fraud_findings.c.criticised.is_(True))
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(fraud_findings).where(*conds))).scalar_one()
        q = select(fraud_findings).where(*conds).order_by(fraud_findings.c.recorded_at.desc(), fraud_findings.c.id)
        rows = (await s.execute(q.offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [_finding(r) for r in rows], total
