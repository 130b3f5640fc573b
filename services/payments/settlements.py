"""Settlement and payment use cases (R19(2), R19(4)).

Settling an order asks vouchers to use the order's voucher (a NATS command:
vouchers alone decides a voucher's state) and deducts it only on its answer.
Then one transaction writes the settlement, its balanced ledger entry, the
``SettlementCompleted`` event and the audit row. Retrying is safe: the
settlement id is derived from the order id, vouchers answers a repeated
request with the same result, and the order id and the entry key are unique.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import payments as pe
from contracts.commands import UseVoucher, UseVoucherReply
from services.payments import postings, schemas
from services.payments.db.models import (
    application_view,
    ledger_entries,
    ledger_lines,
    order_view,
    payments,
    settlements,
    voucher_view,
)
from services.payments.domain import ledger
from services.payments.domain.settlement import PAID, SETTLED, KnownVoucher, VoucherPending, settlement_terms
from services.payments.readmodel import PENDING
from services.payments.schemas import BalanceTotals, Balances, Payment, PaymentResult, Settlement, SettlementPage, TrialBalance
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.clock import local_year
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


#: settlement ids are uuid5(order id) in this namespace: the same on every retry
SETTLEMENT_NAMESPACE = uuid.UUID("6f1d3c52-2b8e-5c1e-9a57-1f0a4e6c2d10")

#: sends USE_VOUCHER and returns the reply (raises when vouchers cannot answer)
AskVoucher = Callable[[UseVoucher], Awaitable[UseVoucherReply]]


def settlement_id_for(order_id: str) -> str:
    return str(uuid.uuid5(SETTLEMENT_NAMESPACE, order_id))


def _audited(st: Settlement) -> dict[str, Any]:
    """A settlement's state in the audit trail (its payments are audited one by one)."""
    return audit_image(st, leave_out=("payments",))


def _payment(row: RowMapping | dict[str, Any], *, reveal_bank_reference: bool) -> Payment:
    p = schemas.payment(row)
    return p if reveal_bank_reference else msgspec.structs.replace(p, bank_reference=mask(p.bank_reference))


def _not_delivered(order_id: str) -> DomainError:
    return Conflict("settlement.results_not_delivered", "该订单尚未交付服务结果，不能结算", f"order {order_id} has no delivered results yet; it cannot be settled")


async def _post(uow: UnitOfWork, entry: ledger.Entry) -> None:
    await postings.write(uow.session, entry, uow.correlation_id)


async def _settlement_by_order(s: AsyncSession, order_id: str) -> RowMapping | None:
    return (await s.execute(select(settlements).where(settlements.c.order_id == order_id))).mappings().first()


async def settle(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, *, user_id: str | None, ask_voucher: AskVoucher
) -> tuple[Settlement, bool]:
    """Settle an order once; returns (settlement, created). ``user_id`` set:
    the caller is that user and may settle only its own orders."""
    async with db.read() as s:
        order = (await s.execute(select(order_view).where(order_view.c.order_id == order_id))).mappings().first()
        if order is None:
            raise _not_delivered(order_id)
        if user_id is not None and order["user_id"] != user_id:
            raise NotFound("order", "订单", order_id)
        existing = await _settlement_by_order(s, order_id)
        if existing is not None:
            return schemas.settlement(existing), False
        voucher = (
            (await s.execute(select(voucher_view).where(voucher_view.c.order_id == order_id).order_by(voucher_view.c.updated_at.desc()))).mappings().first()
        )
        if voucher is None:
            pending = (
                await s.execute(select(application_view.c.application_id).where(application_view.c.order_id == order_id, application_view.c.status.in_(PENDING)))
            ).first()
            if pending is not None:
                # settling now would bill the user in full and strand the voucher
                raise Conflict(
                    "settlement.voucher_pending",
                    "该订单的创新券申请尚未办结，请稍后结算",
                    "the order's voucher application is not decided yet (or its voucher is not known here yet); settle later",
                )

    sid = settlement_id_for(order_id)
    order_amount = order["amount_fen"]
    # vouchers decides; a refusal settles without the voucher, an error settles
    # nothing. When this read model knows of no voucher, vouchers is still
    # asked: the voucher may have been issued before its events reached us
    # (docs/faults.md, finding 1), and billing the user in full would strand it.
    reply = await ask_voucher(UseVoucher(voucher_id=voucher["voucher_id"] if voucher is not None else None, order_id=order_id, unit_id=order["unit_id"], settlement_id=sid))
    known = KnownVoucher(voucher_id=voucher["voucher_id"], year=voucher["year"]) if voucher is not None else None
    try:
        terms = settlement_terms(order_amount, reply, known, local_year())
    except VoucherPending:
        raise Conflict(
            "settlement.voucher_pending",
            "该订单的创新券申请尚未办结，请稍后结算",
            "the order's voucher application is not decided yet; settle later",
        ) from None
    voucher_fen, voucher_id, year, refusal, payable = terms.voucher_fen, terms.voucher_id, terms.year, terms.voucher_refusal, terms.payable_fen
    entry = ledger.settlement_entry(order_id=order_id, user_id=order["user_id"], unit_id=order["unit_id"], year=year, order_amount_fen=order_amount, voucher_fen=voucher_fen)
    now = clock.utc_now()
    row = {
        "id": sid,
        "order_id": order_id,
        "user_id": order["user_id"],
        "unit_id": order["unit_id"],
        "order_amount_fen": order_amount,
        "voucher_fen": voucher_fen,
        "payable_fen": payable,
        "paid_fen": 0,
        "voucher_id": voucher_id,
        "voucher_refusal": refusal,
        "year": year,
        "status": terms.status,
        "created_at": now,
        "updated_at": now,
    }
    settled = schemas.settlement(row)
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            await uow.session.execute(insert(settlements).values(**row))
            await _post(uow, entry)
            await uow.emit(
                pe.SettlementCompleted(
                    settlement_id=sid,
                    order_id=order_id,
                    user_id=row["user_id"],
                    unit_id=row["unit_id"],
                    fee_fen=order_amount,  # the published event's name for the order's amount
                    voucher_fen=voucher_fen,
                    payable_fen=payable,
                    voucher_id=voucher_id,
                )
            )
            if payable == 0:
                # the voucher covered the whole amount: nothing is left to pay, and
                # the order is settled now (registry settles on paid_in_full)
                await uow.emit(
                    pe.PaymentReceived(
                        settlement_id=sid,
                        order_id=order_id,
                        user_id=row["user_id"],
                        unit_id=row["unit_id"],
                        amount_fen=0,
                        paid_fen=0,
                        payable_fen=0,
                        paid_in_full=True,
                    )
                )
            await uow.audit("settlement.complete", "settlement", sid, reason=refusal, after=_audited(settled))
    except IntegrityError:
        # a concurrent request for the same order committed first
        async with db.read() as s:
            existing = await _settlement_by_order(s, order_id)
        if existing is None:
            raise
        return schemas.settlement(existing), False
    return settled, True


def _overpaid(remaining: int) -> DomainError:
    return DomainError(
        "payment.exceeds_remaining",
        "付款金额超过应付余额",
        f"the payment exceeds what is left to pay ({remaining} fen)",
        remaining_fen=remaining,
    )


async def _payment_by_key(s: AsyncSession, key: str) -> RowMapping | None:
    return (await s.execute(select(payments).where(payments.c.idempotency_key == key))).mappings().first()


def _replay(existing: RowMapping, settlement: RowMapping, amount_fen: int, reveal_bank_reference: bool) -> PaymentResult:
    if existing["settlement_id"] != settlement["id"] or existing["amount_fen"] != amount_fen:
        raise Conflict("payment.idempotency_key_reused", "该幂等键已用于另一笔付款", "the idempotency key was used for a different payment")
    return _result(existing, settlement, reveal_bank_reference)


def _result(payment: RowMapping | dict[str, Any], settlement: RowMapping, reveal_bank_reference: bool) -> PaymentResult:
    st = schemas.settlement(settlement)
    return PaymentResult(payment=_payment(payment, reveal_bank_reference=reveal_bank_reference), settlement=st, paid_in_full=st.remaining_fen == 0)


async def pay(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    settlement_id: str,
    *,
    user_id: str,
    amount_fen: int,
    bank_reference: str,
    idempotency_key: str,
    reveal_bank_reference: bool = False,
) -> tuple[PaymentResult, bool]:
    """Record the user's payment once per idempotency key; returns (the payment with
    the settlement after it, created). The bank reference comes back masked
    unless ``reveal_bank_reference``."""
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            before = (await s.execute(select(settlements).where(settlements.c.id == settlement_id))).mappings().first()
            if before is None or before["user_id"] != user_id:
                raise NotFound("settlement", "结算单", settlement_id)
            existing = await _payment_by_key(s, idempotency_key)
            if existing is not None:
                return _replay(existing, before, amount_fen, reveal_bank_reference), False
            now = clock.utc_now()
            done = await s.execute(
                update(settlements)
                .where(settlements.c.id == settlement_id, settlements.c.paid_fen + amount_fen <= settlements.c.payable_fen)
                .values(
                    paid_fen=settlements.c.paid_fen + amount_fen,
                    status=case((settlements.c.paid_fen + amount_fen == settlements.c.payable_fen, PAID), else_=SETTLED),
                    updated_at=now,
                )
            )
            if done.rowcount != 1:
                current = (await s.execute(select(settlements).where(settlements.c.id == settlement_id))).mappings().one()
                raise _overpaid(current["payable_fen"] - current["paid_fen"])
            after = (await s.execute(select(settlements).where(settlements.c.id == settlement_id))).mappings().one()
            payment = {
                "id": str(uuid.uuid4()),
                "settlement_id": settlement_id,
                "amount_fen": amount_fen,
                "bank_reference": bank_reference,
                "idempotency_key": idempotency_key,
                "created_at": now,
            }
            await s.execute(insert(payments).values(**payment))
            await _post(
                uow,
                ledger.payment_entry(
                    idempotency_key=idempotency_key, user_id=after["user_id"], unit_id=after["unit_id"], amount_fen=amount_fen, memo=f"settlement {settlement_id}"
                ),
            )
            await uow.emit(
                pe.PaymentReceived(
                    settlement_id=settlement_id,
                    order_id=after["order_id"],
                    user_id=after["user_id"],
                    unit_id=after["unit_id"],
                    amount_fen=amount_fen,
                    paid_fen=after["paid_fen"],
                    payable_fen=after["payable_fen"],
                    paid_in_full=after["paid_fen"] == after["payable_fen"],
                )
            )
            audit_payment = _payment(payment, reveal_bank_reference=False)
            await uow.audit("payment.receive", "settlement", settlement_id, before=_audited(schemas.settlement(before)),
                            after={**_audited(schemas.settlement(after)), "payment": audit_payment})
    except IntegrityError:
        # the same idempotency key committed concurrently
        async with db.read() as s:
            existing = await _payment_by_key(s, idempotency_key)
            if existing is None:
                raise
            current = (await s.execute(select(settlements).where(settlements.c.id == settlement_id))).mappings().one()
        return _replay(existing, current, amount_fen, reveal_bank_reference), False
    return _result(payment, after, reveal_bank_reference), True


def mask(reference: str) -> str:
    """Only the last four characters of a bank reference are shown."""
    return "*" * max(len(reference) - 4, 4) + reference[-4:] if len(reference) > 4 else "****"


async def get_settlement(db: ServiceDatabase, settlement_id: str, *, reveal_bank_reference: bool = False) -> Settlement:
    """One settlement with its payments (bank references masked unless ``reveal_bank_reference``)."""
    async with db.read() as s:
        row = (await s.execute(select(settlements).where(settlements.c.id == settlement_id))).mappings().first()
        if row is None:
            raise NotFound("settlement", "结算单", settlement_id)
        pays = (await s.execute(select(payments).where(payments.c.settlement_id == settlement_id).order_by(payments.c.created_at, payments.c.id))).mappings().all()
    return schemas.settlement(row, [_payment(p, reveal_bank_reference=reveal_bank_reference) for p in pays])


async def list_settlements(
    db: ServiceDatabase, *, order_id: str | None, user_id: str | None, unit_id: str | None, page: int, page_size: int
) -> SettlementPage:
    q = select(settlements)
    if order_id is not None:
        q = q.where(settlements.c.order_id == order_id)
    if user_id is not None:
        q = q.where(settlements.c.user_id == user_id)
    if unit_id is not None:
        q = q.where(settlements.c.unit_id == unit_id)
    async with db.read() as s:
        return await read_page(s, q, order_by=[settlements.c.created_at.desc(), settlements.c.id], page=page, page_size=page_size, item=schemas.settlement)


async def balances(db: ServiceDatabase, account: str | None, *, page: int = 1, page_size: int = 20) -> Balances:
    """Σdebit, Σcredit and debit − credit per account, a page of them in the accounts' order,
    with the sums of every account (``account`` alone: zeros when it has no line)."""
    where = [ledger_lines.c.account == account] if account is not None else []
    q = (
        select(ledger_lines.c.account, func.sum(ledger_lines.c.debit_fen).label("debit_fen"), func.sum(ledger_lines.c.credit_fen).label("credit_fen"))
        .where(*where)
        .group_by(ledger_lines.c.account)
    )
    async with db.read() as s:
        got = await read_page(s, q, order_by=[ledger_lines.c.account], page=page, page_size=page_size, item=lambda r: schemas.balance(r["account"], int(r["debit_fen"] or 0), int(r["credit_fen"] or 0)))
        d, c = (await s.execute(select(func.sum(ledger_lines.c.debit_fen), func.sum(ledger_lines.c.credit_fen)).where(*where))).one()
    items, total = got.items, got.total
    if account is not None and not total:
        items, total = ([schemas.balance(account, 0, 0)] if page == 1 else []), 1
    return Balances(items=items, total=total, page=page, page_size=page_size, totals=BalanceTotals(debit_fen=int(d or 0), credit_fen=int(c or 0)))


async def trial_balance(db: ServiceDatabase, as_of: datetime | None = None) -> TrialBalance:
    """Σdebit and Σcredit of the entries booked up to ``as_of`` (default: all)."""
    booked = [ledger_entries.c.created_at <= as_of] if as_of is not None else []
    async with db.read() as s:
        lines = select(func.sum(ledger_lines.c.debit_fen), func.sum(ledger_lines.c.credit_fen)).select_from(
            ledger_lines.join(ledger_entries, ledger_entries.c.key == ledger_lines.c.entry_key)
        )
        d, c = (await s.execute(lines.where(*booked))).one()
        entries = (await s.execute(select(func.count()).select_from(ledger_entries).where(*booked))).scalar_one()
    d, c = int(d or 0), int(c or 0)
    return TrialBalance(debit_fen=d, credit_fen=c, balanced=d == c, entries=entries, as_of=as_of)
