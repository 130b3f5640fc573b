"""Payments' read models: orders whose results were delivered, and vouchers by order."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts import registry as ev
from contracts import vouchers as ve
from services.payments.db.models import application_view, order_view, voucher_view
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.db.readmodel import advance_status, upsert_versioned

RESULTS_DELIVERED = "results_delivered"

#: a voucher is issued once and then ends once (used, expired or revoked)
_VOUCHER_RANK = {"issued": 0, "used": 1, "expired": 1, "revoked": 1, "redeemed": 2}


async def on_results_delivered(uow: UnitOfWork, e: ev.OrderResultsDelivered) -> None:
    await upsert_versioned(
        uow.session,
        order_view,
        "order_id",
        e.order_id,
        e.version,
        {"user_id": e.user_id, "unit_id": e.unit_id, "amount_fen": e.amount_fen, "status": RESULTS_DELIVERED, "updated_at": datetime.now(UTC)},
    )


async def on_voucher(uow: UnitOfWork, e: ve.VoucherSnapshot) -> None:
    """Voucher events carry no version: a later state never goes back to ``issued``."""
    values = {"order_id": e.order_id, "user_id": e.user_id, "unit_id": e.unit_id, "year": e.year, "amount_fen": e.amount_fen, "expires_at": e.expires_at}
    values["updated_at"] = datetime.now(UTC)
    await advance_status(uow.session, voucher_view, "voucher_id", e.voucher_id, e.status, _VOUCHER_RANK, values, insert_values={})


#: an application's life, in order: a later state never goes back
_APP_RANK = {"submitted": 0, "rejected": 1, "appealed": 2, "approved": 3, "closed": 3}
#: a voucher may still be issued for the order
PENDING = ("submitted", "appealed", "approved")


def _app_status(e: ve.ApplicationSnapshot) -> str:
    if isinstance(e, ve.AppealDecided) and e.status != "approved":
        return "closed"
    return e.status if e.status in _APP_RANK else "submitted"


async def on_application(uow: UnitOfWork, e: ve.ApplicationSnapshot) -> None:
    await advance_status(
        uow.session, application_view, "application_id", e.application_id, _app_status(e), _APP_RANK, {"updated_at": datetime.now(UTC)}, insert_values={"order_id": e.order_id}
    )
