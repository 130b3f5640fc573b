"""Payouts made due and ordered in the payments service alone (no evaluation
service, no bus): an award payout made due as payments' consumer of
``evaluation.award.approved`` makes it, a unit's payee details, finance's
payment order, and the events payments wrote to its outbox."""

from __future__ import annotations

from typing import Any

from contracts import payments as pe
from contracts.evaluation import AwardApproved
from services.payments import payouts
from services.runtime.roles import Role
from tests.support import outbox
from tests.support.platform import Platform
from tests.support.vouchers import uid

#: the year of the awards made here
AWARD_YEAR = 2025
PAYEE = {"bank_name": "中国银行许昌分行", "account_name": "许昌某研究院", "account_number": "104123456789012"}


def award(unit: str) -> AwardApproved:
    """A ¥50,000.00 excellent award of ``unit`` for :data:`AWARD_YEAR`."""
    return AwardApproved(award_id=uid(), unit_id=unit, year=AWARD_YEAR, grade="excellent", amount_fen=5_000_000, notice_id="n-award")


async def make_due(p: Platform, e: AwardApproved) -> None:
    """The award made due, as the consumer of ``evaluation.award.approved`` does."""
    async with p["payments"].db.unit_of_work() as uow:
        await payouts.on_award_approved(uow, e)


async def due_award(p: Platform, unit: str) -> str:
    """A due award payout of ``unit``: its id."""
    e = award(unit)
    await make_due(p, e)
    found = await p.call("payments", "GET", "/v1/payouts/", role=Role.FINANCE, params={"unit_id": unit, "status": "due"})
    return next(i["payout_id"] for i in found.json()["items"] if i["ref"] == e.award_id)


async def save_payee(p: Platform, unit: str) -> None:
    """``unit`` saves its bank details (:data:`PAYEE`)."""
    r = await p.call("payments", "PUT", f"/v1/payees/{unit}", role=Role.UNIT, org=unit, json=PAYEE)
    assert r.status_code == 200, r.text


async def payment_order(p: Platform, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    """Finance creates a payment order from ``body``; the answer, asserted to be ``status``."""
    r = await p.call("payments", "POST", "/v1/payment-orders/", role=Role.FINANCE, json=body)
    assert r.status_code == status, r.text
    return dict(r.json())


async def emitted(p: Platform, event_type: type[pe.PayoutSnapshot]) -> list[pe.PayoutSnapshot]:
    """The events of ``event_type`` payments wrote to its outbox, in order."""
    return await outbox.emitted(p, "payments", event_type)
