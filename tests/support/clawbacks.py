"""Clawbacks in the payments service alone (no registry, no bus): an award payout paid,
a fraud finding against a unit, and a finding applied as payments' consumer of
``registry.fraud.found`` applies it."""

from __future__ import annotations

from contracts import registry as ev
from services.payments import clawbacks
from services.runtime.roles import Role
from tests.support.payout_orders import due_award, payment_order, save_payee
from tests.support.platform import Platform
from tests.support.vouchers import uid


async def paid_award(p: Platform, unit: str) -> str:
    """An award payout of ``unit`` paid: its id."""
    await save_payee(p, unit)
    payout_id = await due_award(p, unit)
    await payment_order(p, {"payout_ids": [payout_id]})
    r = await p.call("payments", "POST", f"/v1/payouts/{payout_id}/paid", role=Role.FINANCE, json={"bank_reference": f"BOC-{payout_id[:8]}"})
    assert r.status_code == 201, r.text
    return payout_id


async def apply_finding(p: Platform, finding: ev.FraudFound) -> None:
    """The finding applied, as the consumer of ``registry.fraud.found`` does."""
    async with p["payments"].db.unit_of_work() as uow:
        await clawbacks.on_fraud_found(uow, finding)


def unit_finding(unit: str) -> ev.FraudFound:
    """A fraud finding against ``unit`` (its awards are clawed back)."""
    return ev.FraudFound(finding_id=uid(), party_type="unit", party_id=unit, reason="以不实材料申领奖励")
