"""Payments' read models: orders whose results were delivered, and vouchers by order."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from contracts import registry as ev
from contracts import vouchers as ve
from services.payments.db.models import application_view, order_view, voucher_view
from services.runtime.outbox import UnitOfWork
from services.runtime.readmodel import upsert_versioned

RESULTS_DELIVERED = "results_delivered"

#: a voucher is issued once and then ends once (used, expired or revoked)
_RANK = {"issued": 0, "used": 1, "expired": 1, "revoked": 1}


async def on_results_delivered(uow: UnitOfWork, e: ev.OrderResultsDelivered) -> None:
    await upsert_versioned(
        uow.session,
        order_view,
        "order_id",
        e.order_id,
        e.version,
        {"user_id": e.user_id, "unit_id": e.unit_id, "fee_fen": e.amount_fen, "status": RESULTS_DELIVERED, "updated_at": datetime.now(UTC)},
    )


async def on_voucher(uow: UnitOfWork, e: ve.VoucherSnapshot) -> None:
    """Voucher events carry no version: a later state never goes back to ``issued``."""
    s = uow.session
    values = {
        "order_id": e.order_id,
        "user_id": e.user_id,
        "unit_id": e.unit_id,
        "year": e.year,
        "amount_fen": e.amount_fen,
        "expires_at": e.expires_at,
        "status": e.status,
        "updated_at": datetime.now(UTC),
    }
    current = (await s.execute(select(voucher_view.c.status).where(voucher_view.c.voucher_id == e.voucher_id))).scalar_one_or_none()
    if current is None:
        await s.execute(insert(voucher_view).values(voucher_id=e.voucher_id, **values))
    elif _RANK.get(e.status, 1) > _RANK.get(current, 1):
        await s.execute(update(voucher_view).where(voucher_view.c.voucher_id == e.voucher_id, voucher_view.c.status == current).values(**values))


#: an application's life, in order: a later state never goes back
_APP_RANK = {"submitted": 0, "rejected": 1, "appealed": 2, "approved": 3, "closed": 3}
#: a voucher may still be issued for the order
PENDING = ("submitted", "appealed", "approved")


def _app_status(e: ve.ApplicationSnapshot) -> str:
    if isinstance(e, ve.AppealDecided) and e.status != "approved":
        return "closed"
    return e.status if e.status in _APP_RANK else "submitted"


async def on_application(uow: UnitOfWork, e: ve.ApplicationSnapshot) -> None:
    s = uow.session
    status = _app_status(e)
    current = (await s.execute(select(application_view.c.status).where(application_view.c.application_id == e.application_id))).scalar_one_or_none()
    if current is None:
        await s.execute(insert(application_view).values(application_id=e.application_id, order_id=e.order_id, status=status, updated_at=datetime.now(UTC)))
    elif _APP_RANK[status] > _APP_RANK.get(current, 0):
        await s.execute(
            update(application_view)
            .where(application_view.c.application_id == e.application_id, application_view.c.status == current)
            .values(status=status, updated_at=datetime.now(UTC))
        )
