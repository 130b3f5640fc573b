"""Payouts (R14(4), R20): award and redemption payments, posted to the ledger
only once their notice is final, paid by finance through payment orders.

* ``evaluation.cycle.opened`` appropriates the year's award budget (one entry per year);
  ``vouchers.programme.opened`` / ``budget_changed`` tell the voucher budget (newest version wins).
* ``evaluation.award.approved`` and ``evaluation.notice.finalized`` (kind ``redemption``,
  one item per claim) make a payout due and post it as payable. A payout is unique per
  (kind, ref) and its ledger entry per key, so a redelivered event changes nothing.
* Finance puts due payouts of units with payee details on a payment order (the payee is
  copied onto the payout), downloads it as Excel, and confirms each payout paid: the
  ledger moves it from payable to paid and ``PayoutPaid`` goes out.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts import evaluation as ee
from contracts import payments as pe
from contracts import registry as ev
from contracts import vouchers as ve
from services.payments import exports, postings, schemas
from services.payments.db.models import (
    fraud_view,
    payee_accounts,
    case_counters,
    payment_orders,
    payouts,
    programme_view,
    unit_view,
)
from services.payments.domain import ledger
from services.payments.schemas import DueList, Payee, PaymentOrder, PaymentOrderPage, Payout, PayoutPage
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.crypto import FieldCipher, mask_account
from services.runtime.db.case_numbers import next_case_number, normalise_case_number
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.readmodel import upsert_versioned
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page
from services.runtime.http.preconditions import write_versioned

DUE = "due"
ORDERED = "ordered"
PAID = "paid"
#: was due or ordered, cancelled by a fraud finding (its payable reversed)
CANCELLED = "cancelled"
#: became due after a fraud finding against its unit: never payable, nothing posted
BLOCKED = "blocked"
ACCOUNT_FIELD = "payee.account_number"

#: a payout's case number: BF-<year>-<n> (拨付)
PAYOUT_CASE_PREFIX = "BF"
#: a payment order's case number: FK-<year>-<n> (付款单, as the portal names it)
ORDER_CASE_PREFIX = "FK"

#: payout ids are uuid5(kind:ref): the same on every redelivery
PAYOUT_NAMESPACE = uuid.UUID("0b7f2a8e-4c61-5d0a-8e3b-5a9c1d2e7f40")


def payout_id_for(kind: str, ref: str) -> str:
    return str(uuid.uuid5(PAYOUT_NAMESPACE, f"{kind}:{ref}"))


# ---------------------------------------------------------------- consumers


async def on_unit(uow: UnitOfWork, e: ev.UnitSnapshot) -> None:
    await upsert_versioned(uow.session, unit_view, "unit_id", e.unit_id, e.version, {"name": e.name, "updated_at": clock.utc_now()})


async def on_programme(uow: UnitOfWork, e: ve.ProgrammeSnapshot) -> None:
    """The voucher budget as vouchers decided it (newest version wins). It is not
    posted: vouchers alone commits it; the ledger sees the voucher part at settlement."""
    await upsert_versioned(uow.session, programme_view, "year", e.year, e.version, {"budget_fen": e.budget_fen, "updated_at": clock.utc_now()})


async def on_cycle_opened(uow: UnitOfWork, e: ee.CycleOpened) -> None:
    """The year's award budget, appropriated once per year."""
    if e.award_budget_fen > 0:
        entry = ledger.appropriation_entry(key=f"appropriation:award:{e.year}", kind=ledger.AWARD, year=e.year, delta_fen=e.award_budget_fen, memo=f"award budget {e.year}")
        await postings.post_once(uow.session, entry, uow.correlation_id)


async def blocked(s: Any, unit_id: str) -> bool:
    """Whether a fraud finding names the unit (R27): it gets no new payout."""
    q = select(fraud_view.c.finding_id).where(fraud_view.c.party_type == "unit", fraud_view.c.party_id == unit_id).limit(1)
    return (await s.execute(q)).first() is not None


async def _due(uow: UnitOfWork, *, kind: str, ref: str, unit_id: str, year: int, amount_fen: int, notice_id: str | None) -> None:
    s = uow.session
    if amount_fen <= 0:
        return
    pid = payout_id_for(kind, ref)
    if (await s.execute(select(payouts.c.id).where(payouts.c.kind == kind, payouts.c.ref == ref))).first() is not None:
        return  # a redelivery: one payout per (kind, ref)
    # R27: a unit named in a fraud finding gets nothing from that moment: the payout is recorded blocked, nothing posted
    status = BLOCKED if await blocked(s, unit_id) else DUE
    now = clock.utc_now()
    case_no = await next_case_number(s, case_counters, PAYOUT_CASE_PREFIX, clock.local_year(now))
    row = {"id": pid, "case_no": case_no, "kind": kind, "ref": ref, "unit_id": unit_id, "year": year, "amount_fen": amount_fen, "notice_id": notice_id, "status": status,
           "created_at": now}
    await s.execute(insert(payouts).values(**row))
    if status == BLOCKED:
        await uow.audit("payout.block", "payout", pid, reason="fraud finding against the unit", after=_audited(schemas.payout(row)))
        return
    await postings.post_once(s, ledger.payable_entry(kind=kind, ref=ref, unit_id=unit_id, year=year, amount_fen=amount_fen), uow.correlation_id)
    await uow.audit("payout.due", "payout", pid, after=_audited(schemas.payout(row)))


async def on_award_approved(uow: UnitOfWork, e: ee.AwardApproved) -> None:
    await _due(uow, kind=ledger.AWARD, ref=e.award_id, unit_id=e.unit_id, year=e.year, amount_fen=e.amount_fen, notice_id=e.notice_id)


async def on_notice_finalized(uow: UnitOfWork, e: ee.NoticeFinalized) -> None:
    """A final redemption notice: each line (a claim, its approved amount) becomes payable."""
    if e.kind != "redemption":
        return
    for item in e.items:
        await _due(uow, kind=ledger.REDEMPTION, ref=item.ref, unit_id=item.unit_id, year=e.year, amount_fen=item.amount_fen, notice_id=e.notice_id)


# ---------------------------------------------------------------- records


def _audited(p: Payout) -> dict[str, Any]:
    """A payout's state in the audit trail (``blocked`` belongs to the due list only)."""
    return audit_image(p, leave_out=("blocked",))


def _snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {"payout_id": row["id"], "case_no": row["case_no"], "kind": row["kind"], "ref": row["ref"], "unit_id": row["unit_id"], "year": row["year"], "amount_fen": row["amount_fen"]}


# ---------------------------------------------------------------- payee accounts


def _account_number(number: str) -> str:
    digits = number.replace(" ", "")
    if not (digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 32):
        raise DomainError("payee.account_invalid", "银行账号应为8至32位数字", "a bank account number is 8 to 32 digits", status=422)
    return digits


async def set_payee(
    db: ServiceDatabase, cipher: FieldCipher, actor: Actor, correlation_id: str | None, unit_id: str, *, bank_name: str, account_name: str, account_number: str,
    expected_version: int | None = None, if_match_sent: bool = False, only_create: bool = False,
) -> Payee:
    """Set a unit's bank details. ``expected_version`` (an If-Match): only that version
    is replaced (412); the first details take no If-Match (``if_match_sent``: ``*`` too
    is 412); ``only_create`` (If-None-Match: *): details set already are 412
    ``request.record_exists``. The write is conditional on the version read: 409 ``payee.concurrent_change``."""
    number = _account_number(account_number)
    row = {"unit_id": unit_id, "bank_name": bank_name.strip(), "account_name": account_name.strip(), "account_number_enc": cipher.encrypt(number, ACCOUNT_FIELD),
           "account_mask": mask_account(number), "updated_at": clock.utc_now()}
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        # locked (PostgreSQL): a concurrent edit waits, then compares with the version this one writes
        before = (await s.execute(select(payee_accounts).where(payee_accounts.c.unit_id == unit_id).with_for_update())).mappings().first()
        version = await write_versioned(s, payee_accounts, {"unit_id": unit_id}, row, before, expected=expected_version, if_match_sent=if_match_sent, only_create=only_create)
        if version is None:
            raise Conflict("payee.concurrent_change", "收款账户正被他人修改，请刷新后重试", "the bank details changed meanwhile; reload them and apply your change again")
        after = schemas.payee({**row, "version": version})
        await uow.audit("payee.set", "payee_account", unit_id, before=schemas.payee(before) if before else None, after=after)
    return after


async def get_payee(db: ServiceDatabase, unit_id: str) -> Payee:
    async with db.read() as s:
        row = (await s.execute(select(payee_accounts).where(payee_accounts.c.unit_id == unit_id))).mappings().first()
    if row is None:
        raise NotFound("payee_account", "收款账户", unit_id)
    return schemas.payee(row)


# ---------------------------------------------------------------- queries


def _with_order_case_no() -> Select[Any]:
    """Payouts, each with its payment order's case number (``payment_order_case_no``; None until ordered)."""
    on_order = payouts.outerjoin(payment_orders, payment_orders.c.id == payouts.c.order_id)
    return select(payouts, payment_orders.c.case_no.label("payment_order_case_no")).select_from(on_order)


async def list_payouts(
    db: ServiceDatabase, *, unit_id: str | None, kind: str | None, year: int | None, status: str | None, order_id: str | None, page: int, page_size: int,
    case_no: str | None = None,
) -> PayoutPage:
    """Payouts, oldest first; ``case_no`` (as typed, case and spaces aside) finds the payout of that
    number (BF-…) or the payouts of the payment order of that number (FK-…)."""
    q = _with_order_case_no()
    for col, value in ((payouts.c.unit_id, unit_id), (payouts.c.kind, kind), (payouts.c.year, year), (payouts.c.status, status), (payouts.c.order_id, order_id)):
        if value is not None:
            q = q.where(col == value)
    if case_no is not None:
        typed = normalise_case_number(case_no)
        q = q.where(or_(payouts.c.case_no == typed, payment_orders.c.case_no == typed))
    async with db.read() as s:
        return await read_page(s, q, order_by=[payouts.c.created_at, payouts.c.id], page=page, page_size=page_size, item=schemas.payout)


async def due_list(db: ServiceDatabase, *, kind: str | None, year: int | None) -> DueList:
    """Every due payout, each with ``blocked`` = ``payout.payee_missing`` when its unit has no payee
    details, with their total and the part of it blocked."""
    q = select(payouts, payee_accounts.c.unit_id.label("payee_unit")).outerjoin(payee_accounts, payee_accounts.c.unit_id == payouts.c.unit_id).where(payouts.c.status == DUE)
    if kind is not None:
        q = q.where(payouts.c.kind == kind)
    if year is not None:
        q = q.where(payouts.c.year == year)
    async with db.read() as s:
        rows = (await s.execute(q.order_by(payouts.c.created_at, payouts.c.id))).mappings().all()
    items = [schemas.payout(r, blocked=None if r["payee_unit"] else PAYEE_MISSING) for r in rows]
    return DueList(items=items, total_fen=sum(i.amount_fen for i in items), blocked_fen=sum(i.amount_fen for i in items if i.blocked))


async def get_payout(db: ServiceDatabase, payout_id: str) -> Payout:
    async with db.read() as s:
        row = (await s.execute(_with_order_case_no().where(payouts.c.id == payout_id))).mappings().first()
    if row is None:
        raise NotFound("payout", "付款", payout_id)
    return schemas.payout(row)


# ---------------------------------------------------------------- payment orders

PAYEE_MISSING = "payout.payee_missing"


def payee_missing(unit_ids: list[str]) -> DomainError:
    return Conflict(PAYEE_MISSING, "收款单位尚未登记收款账户，不能列入付款单", "the payee unit has not set its bank details; the payout cannot be ordered", unit_ids=unit_ids)


async def create_order(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, payout_ids: list[str] | None, kind: str | None, year: int | None
) -> PaymentOrder:
    """A payment order of due payouts: the given ones (each must be due, its unit with payee
    details: 409 ``payout.payee_missing``), or every due one whose unit has payee details."""
    now = clock.utc_now()
    oid = str(uuid.uuid4())
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        q = select(payouts).where(payouts.c.status == DUE)
        if payout_ids is not None:
            q = q.where(payouts.c.id.in_(payout_ids))
        if kind is not None:
            q = q.where(payouts.c.kind == kind)
        if year is not None:
            q = q.where(payouts.c.year == year)
        rows = list((await s.execute(q.order_by(payouts.c.created_at, payouts.c.id))).mappings().all())
        if payout_ids is not None and len(rows) != len(set(payout_ids)):
            found = {r["id"] for r in rows}
            raise Conflict("payout.not_due", "付款不存在或已列入付款单", "a payout does not exist or is no longer due", payout_ids=sorted(set(payout_ids) - found))
        units = {r["unit_id"] for r in rows}
        payees = {p["unit_id"]: p for p in (await s.execute(select(payee_accounts).where(payee_accounts.c.unit_id.in_(units)))).mappings().all()}
        names = dict((await s.execute(select(unit_view.c.unit_id, unit_view.c.name).where(unit_view.c.unit_id.in_(units)))).all())
        blocked = sorted({r["unit_id"] for r in rows if r["unit_id"] not in payees})
        if payout_ids is not None and blocked:
            raise payee_missing(blocked)
        rows = [r for r in rows if r["unit_id"] in payees]
        if not rows:
            raise Conflict("payment_order.nothing_due", "没有可列入付款单的应付款", "no due payout can be ordered (none due, or their units have no payee details)", blocked_unit_ids=blocked)
        total = sum(r["amount_fen"] for r in rows)
        # numbered once every check that refuses has passed (a refusal rolls the counter back anyway)
        case_no = await next_case_number(s, case_counters, ORDER_CASE_PREFIX, clock.local_year(now))
        order = {"id": oid, "case_no": case_no, "count": len(rows), "total_fen": total, "created_by": actor.subject, "created_at": now}
        await s.execute(insert(payment_orders).values(**order))
        for r in rows:
            p = payees[r["unit_id"]]
            done = await s.execute(
                update(payouts)
                .where(payouts.c.id == r["id"], payouts.c.status == DUE)
                .values(status=ORDERED, order_id=oid, ordered_at=now, payee_name=names.get(r["unit_id"]) or p["account_name"], payee_bank=p["bank_name"],
                        payee_account_name=p["account_name"], payee_account_enc=p["account_number_enc"], payee_account_mask=p["account_mask"])
            )
            if done.rowcount != 1:
                raise Conflict("payout.not_due", "付款已被列入其他付款单", "a payout was ordered concurrently; try again")
            await uow.emit(pe.PayoutOrdered(**_snapshot(r), batch_id=oid, payment_order_case_no=case_no))
        await uow.audit("payment_order.create", "payment_order", oid, after={**audit_image(schemas.payment_order(order), leave_out=("payouts",)), "payout_ids": [r["id"] for r in rows]})
        after = (await s.execute(select(payouts).where(payouts.c.order_id == oid).order_by(payouts.c.created_at, payouts.c.id))).mappings().all()
    return schemas.payment_order(order, [schemas.payout(r, order_case_no=case_no) for r in after])


async def _order_rows(db: ServiceDatabase, order_id: str) -> tuple[RowMapping, list[RowMapping]]:
    async with db.read() as s:
        row = (await s.execute(select(payment_orders).where(payment_orders.c.id == order_id))).mappings().first()
        if row is None:
            raise NotFound("payment_order", "付款单", order_id)
        items = list((await s.execute(select(payouts).where(payouts.c.order_id == order_id).order_by(payouts.c.created_at, payouts.c.id))).mappings().all())
    return row, items


async def get_order(db: ServiceDatabase, order_id: str) -> PaymentOrder:
    """A payment order with its payouts (account numbers masked)."""
    row, items = await _order_rows(db, order_id)
    return schemas.payment_order(row, [schemas.payout(i, order_case_no=row["case_no"]) for i in items])


async def order_file(db: ServiceDatabase, cipher: FieldCipher, order_id: str) -> tuple[str, bytes]:
    """The payment order as the Excel file finance's system imports, with its file name
    (``payment-order-FK-2026-000003.xlsx``): the account numbers decrypted, here only."""
    row, items = await _order_rows(db, order_id)
    lines = ((schemas.payout(i), cipher.decrypt(i["payee_account_enc"], ACCOUNT_FIELD)) for i in items)
    return f"payment-order-{row['case_no']}.xlsx", exports.payment_order_xlsx(row["case_no"], lines)


async def list_orders(db: ServiceDatabase, *, page: int, page_size: int, case_no: str | None = None) -> PaymentOrderPage:
    """Payment orders, newest first; ``case_no`` finds one by its case number, as typed (case and spaces aside)."""
    q = select(payment_orders)
    if case_no is not None:
        q = q.where(payment_orders.c.case_no == normalise_case_number(case_no))
    async with db.read() as s:
        return await read_page(s, q, order_by=[payment_orders.c.created_at.desc(), payment_orders.c.id], page=page, page_size=page_size, item=schemas.payment_order)


# ---------------------------------------------------------------- paid


async def confirm_paid(db: ServiceDatabase, actor: Actor, correlation_id: str | None, payout_id: str, *, bank_reference: str) -> tuple[Payout, bool]:
    """Finance confirms an ordered payout paid: payable → paid in the ledger, ``PayoutPaid``.
    Confirming again returns the payout unchanged (False)."""
    now = clock.utc_now()
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            before = (await s.execute(_with_order_case_no().where(payouts.c.id == payout_id))).mappings().first()
            if before is None:
                raise NotFound("payout", "付款", payout_id)
            if before["status"] == PAID:
                return schemas.payout(before), False
            if before["status"] != ORDERED:
                raise Conflict("payout.not_ordered", "付款尚未列入付款单", "only a payout on a payment order can be confirmed paid")
            done = await s.execute(
                update(payouts).where(payouts.c.id == payout_id, payouts.c.status == ORDERED).values(status=PAID, paid_at=now, bank_reference=bank_reference)
            )
            if done.rowcount != 1:
                raise Conflict("payout.not_ordered", "付款状态已变化", "the payout changed concurrently; try again")
            await postings.post_once(s, ledger.paid_entry(kind=before["kind"], ref=before["ref"], unit_id=before["unit_id"], year=before["year"], amount_fen=before["amount_fen"]),
                       uow.correlation_id)
            after = (await s.execute(_with_order_case_no().where(payouts.c.id == payout_id))).mappings().one()
            await uow.emit(pe.PayoutPaid(**_snapshot(after)))
            await uow.audit("payout.paid", "payout", payout_id, before=_audited(schemas.payout(before)), after=_audited(schemas.payout(after)))
    except IntegrityError:
        async with db.read() as s:
            row = (await s.execute(_with_order_case_no().where(payouts.c.id == payout_id))).mappings().first()
        if row is None or row["status"] != PAID:
            raise
        return schemas.payout(row), False
    return schemas.payout(after), True
