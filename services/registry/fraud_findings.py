"""Fraud findings (R27): the bureau records a finding against a user or
unit, with the sanctions it chooses (public criticism, a unit's
disqualification, the blacklist); ``FraudFound`` lets payments claw the funds
back and vouchers revoke what is unused. One transaction per finding."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry.audited import audited
from services.registry.blacklist import blacklist_in, on_blacklist, party_row
from services.registry.db.supervision_models import fraud_findings
from services.registry.domain.parties import PartyType, UnitAction, UnitStatus, check_reason
from services.registry.parties import change_unit_status_in
from services.registry.schemas.fraud_findings import FraudFinding, FraudFindingPage, PublicCriticism, PublicCriticismPage
from services.runtime import clock
from services.runtime.clock import POLICY_ZONE
from services.runtime.errors import Conflict, DomainError
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page

CRITICISM = "criticism"
DISQUALIFICATION = "disqualification"
BLACKLIST = "blacklist"
SANCTIONS = (CRITICISM, DISQUALIFICATION, BLACKLIST)

_DUPLICATE_FINDING = ("fraud.duplicate", "该主体的同一事项已认定为弄虚作假", "this finding against the party is already recorded")


def _finding(row: RowMapping | dict[str, Any]) -> FraudFinding:
    return FraudFinding(
        finding_id=row["id"],
        party_type=row["party_type"],
        party_id=row["party_id"],
        party_name=row["party_name"],
        credit_code=row["credit_code"],
        years=list(row["years"]),
        voucher_ids=list(row["voucher_ids"]),
        award_ids=list(row["award_ids"]),
        sanctions=list(row["sanctions"]),
        reason=row["reason"],
        evidence_ref=row["evidence_ref"],
        blacklist_entry_id=row["blacklist_entry_id"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
    )


def _criticism(row: RowMapping) -> PublicCriticism:
    """A finding as the public list shows it: the party's name and credit code,
    the reason and the day (Beijing time); no ids of persons, no evidence."""
    return PublicCriticism(
        finding_id=row["id"],
        party_type=row["party_type"],
        party_name=row["party_name"],
        credit_code=row["credit_code"],
        reason=row["reason"],
        found_on=row["recorded_at"].astimezone(POLICY_ZONE).date(),
    )


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
) -> FraudFinding:
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
            party = await party_row(s, party_type, party_id)
            if (await s.execute(dup)).first() is not None:
                raise Conflict(*_DUPLICATE_FINDING)
            entry_id = None
            if BLACKLIST in chosen and not await on_blacklist(s, party_type, party_id):
                entry_id = (await blacklist_in(uow, party_type, party, f"弄虚作假 / fraud: {text}", now)).entry_id
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
            await uow.audit("fraud.find", "fraud_finding", row["id"], reason=text, after=audited(msgspec.structs.asdict(out)))
    except IntegrityError as exc:  # a concurrent twin won a unique index (the finding's, or its blacklist entry's)
        async with db.read() as s:
            if (await s.execute(dup)).first() is not None:
                raise Conflict(*_DUPLICATE_FINDING) from exc
            if await on_blacklist(s, party_type, party_id):
                raise Conflict("fraud.concurrent", "该主体正被同时处理，请刷新后重试", "the party changed meanwhile; reload and retry") from exc
        raise
    return out


_NEWEST_FIRST = [fraud_findings.c.recorded_at.desc(), fraud_findings.c.id]


async def list_findings(db: ServiceDatabase, *, party_type: PartyType | None, party_id: str | None, page: int, page_size: int) -> FraudFindingPage:
    """Findings, newest first, of one kind of party or one party when given."""
    conds = [c for c in (fraud_findings.c.party_type == str(party_type) if party_type else None, fraud_findings.c.party_id == party_id if party_id else None) if c is not None]
    async with db.read() as s:
        return await read_page(s, select(fraud_findings).where(*conds), order_by=_NEWEST_FIRST, page=page, page_size=page_size, item=_finding)


async def list_public_criticisms(db: ServiceDatabase, *, page: int, page_size: int) -> PublicCriticismPage:
    """通报批评 (R27): the findings whose sanctions include public criticism, newest first."""
    async with db.read() as s:
        return await read_page(s, select(fraud_findings).where(fraud_findings.c.criticised.is_(True)), order_by=_NEWEST_FIRST, page=page, page_size=page_size, item=_criticism)
