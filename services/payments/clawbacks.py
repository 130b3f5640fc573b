"""Clawbacks (R27: 追回): on a fraud finding, payments alone decides from its
own records what the party owes back, and posts each as a receivable — the
settlement and payout entries stay as they were.

* a **user**: the voucher part of each of its settlements (kind ``voucher``,
  ref = settlement id) within the finding's scope;
* a **unit**: each award or redemption payout already paid to it (ref = payout
  id); its payouts not yet paid are cancelled (the payable reversed by a new
  entry), and it gets no new payout (:func:`services.payments.payouts.blocked`).
  A finding scoped by voucher ids reaches the redemption payout of every claim
  holding one of them (the claim was backed by false material: the whole
  payout), as ``vouchers.redemption.claimed`` told which vouchers a claim holds.

A voucher deduction or payout is clawed back once, whichever finding names it
(unique (kind, ref) and the entry key), so a redelivered event changes nothing.
Finance records repayments, once per idempotency key.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts import payments as pe
from contracts import registry as ev
from contracts import vouchers as ve
from services.payments import postings, schemas
from services.payments.payouts import CANCELLED, DUE, ORDERED, PAID
from services.payments.db.models import case_counters, clawback_repayments, clawbacks, fraud_view, payouts, redemption_vouchers, settlements
from services.payments.domain import ledger
from services.payments.schemas import Clawback, ClawbackPage
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.case_numbers import next_case_number
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page

#: a clawback's case number, ZH-<year>-<n> (追回), issued in the transaction that records it
CLAWBACK_CASE_PREFIX = "ZH"
OUTSTANDING = "outstanding"
REPAID = "repaid"

CLAWBACK_NAMESPACE = uuid.UUID("6d1c3f0e-9a1b-5e8f-b2c4-7f3a0d9e1b62")


def clawback_id_for(kind: str, ref: str) -> str:
    return str(uuid.uuid5(CLAWBACK_NAMESPACE, f"{kind}:{ref}"))


def _snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    keys = ("case_no", "finding_id", "party_type", "party_id", "kind", "ref", "year", "amount_fen")
    return {"clawback_id": row["id"], **{k: row[k] for k in keys}}


# ---------------------------------------------------------------- the finding


def _in_scope(e: ev.FraudFound, *, year: int, ids: tuple[str | None, ...], named: list[str]) -> bool:
    if not (e.years or e.voucher_ids or e.award_ids):
        return True  # all of the party's
    return year in e.years or any(i is not None and i in named for i in ids)


async def on_fraud_found(uow: UnitOfWork, e: ev.FraudFound) -> None:
    s = uow.session
    if (await s.execute(select(fraud_view.c.finding_id).where(fraud_view.c.finding_id == e.finding_id))).first() is None:
        await s.execute(insert(fraud_view).values(finding_id=e.finding_id, party_type=e.party_type, party_id=e.party_id, created_at=clock.utc_now()))
    if e.party_type == "user":
        q = select(settlements).where(settlements.c.user_id == e.party_id, settlements.c.voucher_fen > 0).order_by(settlements.c.created_at, settlements.c.id)
        for st in (await s.execute(q)).mappings().all():
            if _in_scope(e, year=st["year"], ids=(st["voucher_id"],), named=e.voucher_ids):
                await _claw(uow, e, kind=ledger.VOUCHER, ref=st["id"], year=st["year"], amount_fen=st["voucher_fen"])
        return
    q = select(payouts).where(payouts.c.unit_id == e.party_id).order_by(payouts.c.created_at, payouts.c.id)
    for po in (await s.execute(q)).mappings().all():
        if po["kind"] == ledger.AWARD:
            in_scope = _in_scope(e, year=po["year"], ids=(po["ref"],), named=e.award_ids)
        else:
            in_scope = _in_scope(e, year=po["year"], ids=tuple(await _claim_vouchers(s, po["ref"])), named=e.voucher_ids)
        if not in_scope:
            continue
        if po["status"] == PAID:
            await _claw(uow, e, kind=po["kind"], ref=po["id"], year=po["year"], amount_fen=po["amount_fen"])
        elif po["status"] in (DUE, ORDERED):
            await cancel_payout(uow, po, e.finding_id)


async def _claim_vouchers(s: Any, claim_id: str) -> list[str]:
    return list((await s.execute(select(redemption_vouchers.c.voucher_id).where(redemption_vouchers.c.claim_id == claim_id))).scalars())


async def on_redemption_claimed(uow: UnitOfWork, e: ve.RedemptionClaimed) -> None:
    """Remember which vouchers the claim holds (a redelivery adds nothing)."""
    s = uow.session
    known = set(await _claim_vouchers(s, e.claim_id))
    for vid in sorted(set(e.voucher_ids) - known):
        await s.execute(insert(redemption_vouchers).values(claim_id=e.claim_id, voucher_id=vid))


async def _claw(uow: UnitOfWork, e: ev.FraudFound, *, kind: str, ref: str, year: int, amount_fen: int) -> None:
    s = uow.session
    if (await s.execute(select(clawbacks.c.id).where(clawbacks.c.kind == kind, clawbacks.c.ref == ref))).first() is not None:
        return  # a redelivery, or an earlier finding already claws it back
    now = clock.utc_now()
    case_no = await next_case_number(s, case_counters, CLAWBACK_CASE_PREFIX, clock.local_year(now))
    row = {"id": clawback_id_for(kind, ref), "case_no": case_no, "finding_id": e.finding_id, "party_type": e.party_type, "party_id": e.party_id, "kind": kind, "ref": ref,
           "year": year, "amount_fen": amount_fen, "repaid_fen": 0, "status": OUTSTANDING, "created_at": now, "updated_at": now}
    await s.execute(insert(clawbacks).values(**row))
    entry = ledger.clawback_entry(kind=kind, ref=ref, party_type=e.party_type, party_id=e.party_id, year=year, amount_fen=amount_fen, finding_id=e.finding_id)
    await postings.write(s, entry, uow.correlation_id)
    await uow.emit(pe.ClawbackRecorded(**_snapshot(row)))
    await uow.audit("clawback.record", "clawback", row["id"], reason=e.reason, after=schemas.clawback(row))


async def cancel_payout(uow: UnitOfWork, po: RowMapping, finding_id: str) -> None:
    """A payout not yet paid: cancelled, its payable reversed by a new entry."""
    s = uow.session
    done = await s.execute(update(payouts).where(payouts.c.id == po["id"], payouts.c.status.in_((DUE, ORDERED))).values(status=CANCELLED))
    if done.rowcount != 1:
        return
    entry = ledger.cancel_payable_entry(kind=po["kind"], ref=po["ref"], unit_id=po["unit_id"], year=po["year"], amount_fen=po["amount_fen"])
    await postings.post_once(s, entry, uow.correlation_id)
    snap = {"payout_id": po["id"], "case_no": po["case_no"], "kind": po["kind"], "ref": po["ref"], "unit_id": po["unit_id"], "year": po["year"], "amount_fen": po["amount_fen"]}
    await uow.emit(pe.PayoutCancelled(**snap, finding_id=finding_id))
    await uow.audit("payout.cancel", "payout", po["id"], reason=f"fraud finding {finding_id}", before={"status": po["status"]}, after={"status": CANCELLED})


# ---------------------------------------------------------------- repayments


async def _repayment_by_key(s: Any, key: str) -> RowMapping | None:
    return (await s.execute(select(clawback_repayments).where(clawback_repayments.c.idempotency_key == key))).mappings().first()


def _same(existing: RowMapping, clawback_id: str, amount_fen: int) -> None:
    if existing["clawback_id"] != clawback_id or existing["amount_fen"] != amount_fen:
        raise Conflict("clawback.idempotency_key_reused", "该幂等键已用于另一笔还款", "the idempotency key was used for a different repayment")


async def repay(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, clawback_id: str, *, amount_fen: int, bank_reference: str, idempotency_key: str
) -> tuple[Clawback, bool]:
    """Finance records money the party paid back; the same key again returns the
    clawback unchanged (False). More than is outstanding: 409 ``clawback.exceeds_outstanding``."""
    if amount_fen <= 0:
        raise DomainError("clawback.amount_invalid", "还款金额应大于零", "a repayment is above zero", status=400)
    now = clock.utc_now()
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            existing = await _repayment_by_key(s, idempotency_key)
            if existing is not None:
                _same(existing, clawback_id, amount_fen)
                return schemas.clawback((await s.execute(select(clawbacks).where(clawbacks.c.id == clawback_id))).mappings().one()), False
            before = (await s.execute(select(clawbacks).where(clawbacks.c.id == clawback_id))).mappings().first()
            if before is None:
                raise NotFound("clawback", "追回款", clawback_id)
            left = before["amount_fen"] - before["repaid_fen"]
            if amount_fen > left:
                raise Conflict("clawback.exceeds_outstanding", "还款金额超过尚未追回的金额", "the repayment exceeds what is outstanding", outstanding_fen=left)
            repaid = before["repaid_fen"] + amount_fen
            done = await s.execute(
                update(clawbacks)
                .where(clawbacks.c.id == clawback_id, clawbacks.c.repaid_fen == before["repaid_fen"])
                .values(repaid_fen=repaid, status=REPAID if repaid == before["amount_fen"] else OUTSTANDING, updated_at=now)
            )
            if done.rowcount != 1:
                raise Conflict("clawback.concurrent_change", "追回款正被他人修改，请重试", "the clawback changed meanwhile; try again")
            await s.execute(
                insert(clawback_repayments).values(id=str(uuid.uuid4()), clawback_id=clawback_id, amount_fen=amount_fen, bank_reference=bank_reference,
                                                   idempotency_key=idempotency_key, recorded_by=actor.subject, created_at=now)
            )
            entry = ledger.repayment_entry(idempotency_key=idempotency_key, kind=before["kind"], party_type=before["party_type"], party_id=before["party_id"],
                                           year=before["year"], amount_fen=amount_fen, clawback_id=clawback_id)
            await postings.write(s, entry, uow.correlation_id)
            after = (await s.execute(select(clawbacks).where(clawbacks.c.id == clawback_id))).mappings().one()
            await uow.emit(pe.ClawbackRepaid(**_snapshot(after), repaid_fen=amount_fen, outstanding_fen=after["amount_fen"] - after["repaid_fen"]))
            await uow.audit("clawback.repay", "clawback", clawback_id, before=schemas.clawback(before), after={**audit_image(schemas.clawback(after)), "bank_reference": bank_reference})
    except IntegrityError:  # the same key committed concurrently
        async with db.read() as s:
            existing = await _repayment_by_key(s, idempotency_key)
            if existing is None:
                raise
            _same(existing, clawback_id, amount_fen)
            return schemas.clawback((await s.execute(select(clawbacks).where(clawbacks.c.id == clawback_id))).mappings().one()), False
    return schemas.clawback(after), True


# ---------------------------------------------------------------- queries


async def list_clawbacks(
    db: ServiceDatabase, *, party_id: str | None, finding_id: str | None, status: str | None, page: int, page_size: int
) -> ClawbackPage:
    q = select(clawbacks)
    for col, value in ((clawbacks.c.party_id, party_id), (clawbacks.c.finding_id, finding_id), (clawbacks.c.status, status)):
        if value is not None:
            q = q.where(col == value)
    async with db.read() as s:
        return await read_page(s, q, order_by=[clawbacks.c.created_at, clawbacks.c.id], page=page, page_size=page_size, item=schemas.clawback)


async def get_clawback(db: ServiceDatabase, clawback_id: str) -> Clawback:
    async with db.read() as s:
        row = (await s.execute(select(clawbacks).where(clawbacks.c.id == clawback_id))).mappings().first()
    if row is None:
        raise NotFound("clawback", "追回款", clawback_id)
    return schemas.clawback(row)

