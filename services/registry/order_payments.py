"""What the registry learns from payments about an order: the settlement and
its voucher deduction, part payments, and settlement once paid in full
(``OrderSettled``). Events that cannot apply (an unknown order, other parties,
a closed order) are logged and ignored, never parked."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from contracts import payments as pay
from contracts import registry as ev
from services.registry.db.order_models import orders
from services.registry.domain.orders import OrderAction, OrderStatus, next_status, settlement_voucher
from services.registry.order_rows import change_order, order_snapshot
from services.runtime import clock
from services.runtime.bus.consumers import Subscription
from services.runtime.db.unit_of_work import UnitOfWork

log = logging.getLogger("xciss.registry.orders")


_CLOSED = (str(OrderStatus.settled), str(OrderStatus.rated), str(OrderStatus.cancelled))


async def _payments_order(s: Any, event: pay.SettlementCompleted | pay.PaymentReceived) -> RowMapping | None:
    """The order a payments event is about, or None (logged) when the event
    cannot apply: an unknown order, other parties, or an order already closed."""
    row = (await s.execute(select(orders).where(orders.c.id == event.order_id))).mappings().first()
    name = type(event).__name__
    if row is None:
        log.warning("%s %s: no order %s; ignored", name, event.event_id, event.order_id)
        return None
    if row["user_id"] != event.user_id or row["unit_id"] != event.unit_id:
        log.warning("%s %s: order %s has other parties; ignored", name, event.event_id, event.order_id)
        return None
    if row["status"] in _CLOSED:
        log.info("%s %s: order %s is %s; ignored", name, event.event_id, event.order_id, row["status"])
        return None
    return row


async def on_settlement_completed(uow: UnitOfWork, event: pay.SettlementCompleted) -> None:
    """Payments settled the order: remember the settlement and the voucher deduction."""
    s = uow.session
    row = await _payments_order(s, event)
    if row is None:
        return
    await change_order(s, row, clock.utc_now(), settlement_id=event.settlement_id, voucher_fen=event.voucher_fen)
    await uow.audit(
        "order.settlement",
        "order",
        row["id"],
        after={"settlement_id": event.settlement_id, "fee_fen": event.fee_fen, "voucher_fen": event.voucher_fen, "payable_fen": event.payable_fen},
    )


async def on_payment_received(uow: UnitOfWork, event: pay.PaymentReceived) -> None:
    """The user paid (part of) the rest. Paid in full, a delivered order is
    settled and OrderSettled carries the voucher deduction (SettlementCompleted's
    if it has arrived, else the amount less what was payable)."""
    s = uow.session
    row = await _payments_order(s, event)
    if row is None:
        return
    now = clock.utc_now()
    paid = max(row["paid_fen"] or 0, event.paid_fen)
    if not event.paid_in_full:
        if paid != row["paid_fen"]:
            await change_order(s, row, now, paid_fen=paid, settlement_id=row["settlement_id"] or event.settlement_id)
            await uow.audit("order.payment", "order", row["id"], after={"settlement_id": event.settlement_id, "paid_fen": paid, "payable_fen": event.payable_fen})
        return
    if row["status"] != str(OrderStatus.results_delivered):
        # paid before the results were delivered: payments settles after delivery, so this cannot settle
        log.warning("PaymentReceived %s: order %s is %s, not results_delivered; ignored", event.event_id, row["id"], row["status"])
        return
    status = next_status(row["status"], OrderAction.settle)
    voucher = settlement_voucher(row["voucher_fen"], row["amount_fen"], event.payable_fen)
    after = await change_order(
        s, row, now, status=str(status), paid_fen=paid, voucher_fen=voucher, settlement_id=row["settlement_id"] or event.settlement_id, settled_at=now
    )
    await uow.audit(
        "order.settle",
        "order",
        row["id"],
        before={"status": row["status"]},
        after={"status": str(status), "settlement_id": after["settlement_id"], "voucher_fen": voucher, "paid_fen": paid},
    )
    await uow.emit(ev.OrderSettled(**await order_snapshot(s, after), voucher_fen=voucher))


def subscriptions() -> list[Subscription]:
    """The registry worker's handlers for the payments of orders."""
    return [
        Subscription(pay.SettlementCompleted, on_settlement_completed),
        Subscription(pay.PaymentReceived, on_payment_received),
    ]
