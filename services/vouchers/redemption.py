"""Voucher redemption claims (R20): the window, evidence, the claim, the
review, the notice and the settlement.

A unit claims once a year (inside the programme year's window) the vouchers it
received that were used at settlement and are not yet in a live or settled
claim. Each voucher comes with its invoice, the bank receipt of the user's
payment and the service results. Experts or the center approve all, in part or
nothing (``RedemptionReviewed``); the approved amount goes on a public notice
(evaluation); when the notice is final the claim is ``noticed``; when payments
reports the payout paid the claim is ``settled`` and its approved vouchers
``redeemed`` (``RedemptionSettled``).

At most once holds in the database: ``redemption_items.held_voucher_id`` and
``redemption_items.invoice_key`` are unique.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import evaluation as ee
from contracts import payments as pe
from contracts import vouchers as ve
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.clock import local_today
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.case_numbers import next_case_number, normalise_case_number
from services.vouchers.db.models import (
    case_counters,
    redemption_claims,
    redemption_documents,
    redemption_items,
    redemption_windows,
    vouchers,
)
from services.vouchers import redemption_experts as experts
from services.vouchers import schemas
from services.vouchers.domain import redemption as rules
from services.vouchers.redemption_files import EvidenceStore, content_type
from services.vouchers.schemas import Claim, ClaimPage, Document
from services.runtime.http.pagination import read_page

USED = "used"
REDEEMED = "redeemed"

#: a redemption claim's case number: DF (兑付)-<year>-<n>
CLAIM_CASE_PREFIX = "DF"


@dataclass(frozen=True)
class ClaimItem:
    voucher_id: str
    invoice_number: str
    receipt_document_id: str
    results_document_id: str
    invoice_code: str | None = None


# ---------------------------------------------------------------- records


def claim_of(row: RowMapping | dict[str, Any], items: list[Any] | None = None) -> Claim:
    """A claim with ``items`` (its item rows), or without them (None)."""
    return schemas.claim(row, None if items is None else [schemas.claim_item(i) for i in items])


def audited(claim: Claim) -> dict[str, Any]:
    """A claim in the audit trail: with its items where they were read, else without the key."""
    return audit_image(claim, leave_out=("items",) if claim.items is None else ())


def _snapshot(claim: RowMapping | dict[str, Any], voucher_ids: list[str]) -> dict[str, Any]:
    return {"claim_id": claim["id"], "case_no": claim["case_no"], "unit_id": claim["unit_id"], "year": claim["year"], "voucher_ids": voucher_ids, "amount_fen": claim["amount_fen"], "status": claim["status"]}


async def _items(s: AsyncSession, claim_id: str) -> list[RowMapping]:
    return list((await s.execute(select(redemption_items).where(redemption_items.c.claim_id == claim_id).order_by(redemption_items.c.voucher_id))).mappings().all())


# ---------------------------------------------------------------- the window


# ---------------------------------------------------------------- evidence


async def upload_document(
    db: ServiceDatabase, store: EvidenceStore, actor: Actor, correlation_id: str | None, *, unit_id: str, filename: str, data: bytes
) -> Document:
    media = content_type(data)
    digest = await store.put(data)
    row = {
        "id": str(uuid.uuid4()),
        "unit_id": unit_id,
        "sha256": digest,
        "filename": (filename or "document")[:255],
        "content_type": media,
        "size": len(data),
        "uploaded_at": clock.utc_now(),
    }
    async with db.unit_of_work(actor, correlation_id) as uow:
        await uow.session.execute(insert(redemption_documents).values(**row))
        uploaded = schemas.document(row)
        await uow.audit("redemption.document.upload", "redemption_document", row["id"], after=audit_image(uploaded))
    return uploaded


async def document(db: ServiceDatabase, document_id: str, *, unit_id: str | None, expert_id: str | None = None) -> Document:
    """A document's row: the uploading unit's, an expert's when it is evidence in a claim
    assigned to them, or (``unit_id`` and ``expert_id`` None) staff's; 404 otherwise."""
    async with db.read() as s:
        row = (await s.execute(select(redemption_documents).where(redemption_documents.c.id == document_id))).mappings().first()
        if row is None or (unit_id is not None and row["unit_id"] != unit_id) or (expert_id is not None and not await experts.document_assigned(s, document_id, expert_id)):
            raise NotFound("redemption_document", "兑付材料", document_id)
    return schemas.document(row)


# ---------------------------------------------------------------- the claim


def invoice_reused() -> Conflict:
    return Conflict("redemption.invoice_reused", "该发票已用于兑付申报，一张发票只能申报一次", "the invoice was already used in a redemption claim; one invoice backs one claim only")


def voucher_claimed(voucher_id: str) -> Conflict:
    return Conflict("redemption.voucher_claimed", "该创新券已申报兑付或已兑付", "the voucher is already in a redemption claim or redeemed", voucher_id=voucher_id)


def _not_claimable(voucher_id: str, why: str) -> DomainError:
    return DomainError(
        "redemption.voucher_not_claimable",
        "只能申报本单位收取、已在结算时使用的本年度创新券",
        f"voucher {voucher_id} cannot be claimed: {why}",
        status=422,
        voucher_id=voucher_id,
    )


async def _conflict_of(db: ServiceDatabase, keys: list[str], voucher_ids: list[str]) -> DomainError | None:
    async with db.read() as s:
        return await _conflict_of_session(s, keys, voucher_ids)


async def claim(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, unit_id: str, year: int, items: list[ClaimItem], today: date | None = None
) -> Claim:
    today = today or local_today()
    keys = [rules.invoice_key(i.invoice_code, i.invoice_number) for i in items]
    if len(set(keys)) != len(keys):
        raise invalid_duplicate()
    ids = [i.voucher_id for i in items]
    if len(set(ids)) != len(ids):
        raise DomainError("redemption.voucher_repeated", "同一张创新券在申报中重复", "a voucher appears twice in the claim", status=422)
    claim_id = str(uuid.uuid4())
    now = clock.utc_now()
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            w = (await s.execute(select(redemption_windows).where(redemption_windows.c.year == year))).mappings().first()
            window = rules.Window(year, w["opens_on"], w["closes_on"]) if w else None
            if window is None or not window.is_open(today):
                raise rules.window_closed(year, window)
            rows = {r["id"]: r for r in (await s.execute(select(vouchers).where(vouchers.c.id.in_(ids)))).mappings().all()}
            for vid in ids:
                v = rows.get(vid)
                if v is None or v["unit_id"] != unit_id:
                    raise _not_claimable(vid, "it is not a voucher this unit received")
                if v["status"] == REDEEMED:
                    raise voucher_claimed(vid)
                if v["status"] != USED:
                    raise _not_claimable(vid, f"it is {v['status']}, not used at settlement")
                if v["year"] != year:
                    raise _not_claimable(vid, f"it belongs to the {v['year']} programme")
            doc_ids = {i.receipt_document_id for i in items} | {i.results_document_id for i in items}
            docs = set((await s.execute(select(redemption_documents.c.id).where(redemption_documents.c.id.in_(doc_ids), redemption_documents.c.unit_id == unit_id))).scalars())
            missing = sorted(doc_ids - docs)
            if missing:
                raise DomainError("redemption.document_missing", "申报材料不存在，请先上传", "an evidence document does not exist; upload it first", status=422, document_id=missing[0])
            conflict = await _conflict_of_session(s, keys, ids)
            if conflict is not None:
                raise conflict
            amount = sum(rows[v]["amount_fen"] for v in ids)
            row = {
                "id": claim_id,
                # issued last, once every check has passed: a refused claim uses no number
                "case_no": await next_case_number(s, case_counters, CLAIM_CASE_PREFIX, clock.local_year(now)),
                "unit_id": unit_id,
                "year": year,
                "status": rules.CLAIMED,
                "amount_fen": amount,
                "approved_fen": None,
                "paid_fen": None,
                "reasons": [],
                "claimed_at": now,
                "reviewed_at": None,
                "reviewed_by": None,
                "notice_id": None,
                "noticed_at": None,
                "settled_at": None,
            }
            await s.execute(insert(redemption_claims).values(**row))
            item_rows = [
                {
                    "claim_id": claim_id,
                    "voucher_id": i.voucher_id,
                    "held_voucher_id": i.voucher_id,
                    "amount_fen": rows[i.voucher_id]["amount_fen"],
                    "invoice_key": key,
                    "invoice_code": (i.invoice_code or "").strip() or None,
                    "invoice_number": i.invoice_number.strip(),
                    "receipt_document_id": i.receipt_document_id,
                    "results_document_id": i.results_document_id,
                    "approved": None,
                    "reason": None,
                }
                for i, key in zip(items, keys, strict=True)
            ]
            await s.execute(insert(redemption_items), item_rows)
            await uow.emit(ve.RedemptionClaimed(**_snapshot(row, sorted(ids))))
            await uow.audit("redemption.claim", "redemption_claim", claim_id, after=audited(claim_of(row, item_rows)))
    except IntegrityError:
        # a concurrent claim took the invoice or the voucher first
        conflict = await _conflict_of(db, keys, ids)
        if conflict is None:
            raise
        raise conflict from None
    return claim_of(row, sorted(item_rows, key=lambda r: r["voucher_id"]))


def invalid_duplicate() -> Conflict:
    return Conflict("redemption.invoice_reused", "同一发票在申报中重复使用，一张发票只能申报一次", "the same invoice appears twice in the claim; one invoice backs one claim only")


async def _conflict_of_session(s: AsyncSession, keys: list[str], voucher_ids: list[str]) -> DomainError | None:
    if (await s.execute(select(redemption_items.c.invoice_key).where(redemption_items.c.invoice_key.in_(keys)))).first():
        return invoice_reused()
    held = (await s.execute(select(redemption_items.c.held_voucher_id).where(redemption_items.c.held_voucher_id.in_(voucher_ids)))).scalar()
    return voucher_claimed(held) if held else None


# ---------------------------------------------------------------- the review


async def review(db: ServiceDatabase, actor: Actor, correlation_id: str | None, claim_id: str, decisions: list[rules.ItemDecision]) -> Claim:
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        before = (await s.execute(select(redemption_claims).where(redemption_claims.c.id == claim_id))).mappings().first()
        expert_id = experts.expert_of(actor)
        if before is None or (expert_id is not None and not await experts.is_assigned(s, claim_id, expert_id)):
            raise NotFound("redemption_claim", "兑付申报", claim_id)
        items = await _items(s, claim_id)
        if before["status"] != rules.CLAIMED:
            raise Conflict("redemption.not_claimed", "该申报已审核", f"the claim is {before['status']}; only a claimed claim is reviewed", status_now=before["status"])
        outcome = rules.review({i["voucher_id"]: i["amount_fen"] for i in items}, decisions)
        done = await s.execute(
            update(redemption_claims)
            .where(redemption_claims.c.id == claim_id, redemption_claims.c.status == rules.CLAIMED)
            .values(status=outcome.status, approved_fen=outcome.approved_fen, reasons=outcome.reasons, reviewed_at=now, reviewed_by=actor.subject)
        )
        if done.rowcount != 1:
            raise Conflict("redemption.not_claimed", "该申报已审核", "the claim was reviewed concurrently")
        for d in decisions:
            values: dict[str, Any] = {"approved": d.approved, "reason": None if d.approved else d.reason}
            if not d.approved:
                values["held_voucher_id"] = None  # a rejected voucher may be claimed again, with new evidence
            await s.execute(update(redemption_items).where(redemption_items.c.claim_id == claim_id, redemption_items.c.voucher_id == d.voucher_id).values(**values))
        after = (await s.execute(select(redemption_claims).where(redemption_claims.c.id == claim_id))).mappings().one()
        after_items = await _items(s, claim_id)
        await uow.emit(
            ve.RedemptionReviewed(
                **_snapshot(after, [i["voucher_id"] for i in after_items]), approved=outcome.approved, approved_fen=outcome.approved_fen, reasons=outcome.reasons
            )
        )
        reviewed = claim_of(after, after_items)
        await uow.audit("redemption.review", "redemption_claim", claim_id, before=audited(claim_of(before, items)), after=audited(reviewed))
    return reviewed


# ---------------------------------------------------------------- notice and payout (events)


async def on_notice_finalized(uow: UnitOfWork, e: ee.NoticeFinalized) -> None:
    """A redemption notice is final: its approved claims become ``noticed``."""
    if e.kind != "redemption":
        return
    refs = [i.ref for i in e.items]
    if not refs:
        return
    await uow.session.execute(
        update(redemption_claims)
        .where(redemption_claims.c.id.in_(refs), redemption_claims.c.status == rules.APPROVED)
        .values(status=rules.NOTICED, notice_id=e.notice_id, noticed_at=e.finalized_at)
    )


async def on_payout_paid(uow: UnitOfWork, e: pe.PayoutPaid) -> None:
    """Payments paid a redemption payout: the claim is settled, its approved vouchers redeemed."""
    if e.kind != "redemption":
        return
    s = uow.session
    now = clock.utc_now()
    before = (await s.execute(select(redemption_claims).where(redemption_claims.c.id == e.ref))).mappings().first()
    if before is None or before["status"] not in (rules.APPROVED, rules.NOTICED):
        return  # unknown, or already settled (a redelivery)
    await s.execute(
        update(redemption_claims)
        .where(redemption_claims.c.id == e.ref, redemption_claims.c.status.in_((rules.APPROVED, rules.NOTICED)))
        .values(status=rules.SETTLED, paid_fen=e.amount_fen, settled_at=now)
    )
    approved = list(
        (await s.execute(select(redemption_items.c.voucher_id).where(redemption_items.c.claim_id == e.ref, redemption_items.c.approved.is_(True)))).scalars()
    )
    if approved:
        await s.execute(update(vouchers).where(vouchers.c.id.in_(approved), vouchers.c.status == USED).values(status=REDEEMED))
    after = (await s.execute(select(redemption_claims).where(redemption_claims.c.id == e.ref))).mappings().one()
    items = await _items(s, e.ref)
    await uow.emit(ve.RedemptionSettled(**_snapshot(after, [i["voucher_id"] for i in items]), paid_fen=e.amount_fen))
    await uow.audit("redemption.settle", "redemption_claim", e.ref, before=audited(claim_of(before)), after=audited(claim_of(after)))


# ---------------------------------------------------------------- queries


async def get_claim(db: ServiceDatabase, claim_id: str, *, unit_id: str | None, expert_id: str | None = None) -> Claim:
    """A claim with its items: its unit's, an assigned expert's, staff's; 404 otherwise."""
    async with db.read() as s:
        row = (await s.execute(select(redemption_claims).where(redemption_claims.c.id == claim_id, experts.scope(expert_id)))).mappings().first()
        if row is None or (unit_id is not None and row["unit_id"] != unit_id):
            raise NotFound("redemption_claim", "兑付申报", claim_id)
        return claim_of(row, await _items(s, claim_id))


async def list_claims(
    db: ServiceDatabase,
    *,
    unit_id: str | None,
    year: int | None,
    status: str | None,
    page: int,
    page_size: int,
    expert_id: str | None = None,
    case_no: str | None = None,
) -> ClaimPage:
    """Claims, newest first, without their items: a unit's, an expert's assigned ones, or all;
    ``case_no`` finds one by its case number, as typed (case and spaces aside)."""
    q = select(redemption_claims).where(experts.scope(expert_id))
    if case_no is not None:
        q = q.where(redemption_claims.c.case_no == normalise_case_number(case_no))
    if unit_id is not None:
        q = q.where(redemption_claims.c.unit_id == unit_id)
    if year is not None:
        q = q.where(redemption_claims.c.year == year)
    if status is not None:
        q = q.where(redemption_claims.c.status == status)
    async with db.read() as s:
        return await read_page(s, q, order_by=[redemption_claims.c.claimed_at.desc(), redemption_claims.c.id], page=page, page_size=page_size, item=claim_of)
