"""Payments' events for an order, as the payments relay would publish them
(a settlement and a payment of a ``World``'s order, published straight into
JetStream), and the registry's events about one order read back from the
REGISTRY stream; an order so settled, and rated by its user."""

from __future__ import annotations

from typing import Any

import msgspec

from contracts.envelope import Event
from contracts.payments import PaymentReceived, SettlementCompleted
from services.runtime.bus.connect import connect_nats
from tests.support.payouts import publish
from tests.support.platform import Platform
from tests.support.polling import eventually
from tests.support.registry import World


async def registry_events(p: Platform, event_type: type[Event], order_id: str) -> list[Any]:
    """Every event of a type on the REGISTRY stream about an order."""
    assert p.settings.nats_url
    nc = await connect_nats(p.settings.bus("operator"), "test-registry-events")
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(event_type.subject, stream="REGISTRY")
        found: list[Any] = []
        try:
            while True:
                msgs = await sub.fetch(100, timeout=0.5)
                for m in msgs:
                    e = msgspec.json.decode(m.data, type=event_type)
                    if getattr(e, "order_id", None) == order_id:
                        found.append(e)
        except TimeoutError:
            pass
        await sub.unsubscribe()
        return found
    finally:
        await nc.close()


def settlement(w: World, oid: str, *, fee: int = 60_000, voucher: int = 24_000) -> SettlementCompleted:
    return SettlementCompleted(settlement_id=f"s-{oid}"[:36], order_id=oid, user_id=w.user, unit_id=w.unit, fee_fen=fee, voucher_fen=voucher, payable_fen=fee - voucher)


def payment(w: World, oid: str, *, amount: int, paid: int, payable: int = 36_000) -> PaymentReceived:
    return PaymentReceived(
        settlement_id=f"s-{oid}"[:36], order_id=oid, user_id=w.user, unit_id=w.unit, amount_fen=amount, paid_fen=paid, payable_fen=payable, paid_in_full=paid >= payable
    )


async def settled(w: World) -> str:
    """A delivered order of ``w``'s instrument, paid in full (payments' events), so settled."""
    oid = await w.delivered()
    await publish(w.p, settlement(w, oid), payment(w, oid, amount=36_000, paid=36_000))

    async def done() -> bool:
        return bool((await w.as_user("GET", f"/v1/orders/{oid}")).json()["status"] == "settled")

    await eventually(done, what=f"order {oid} settled")
    return oid


async def rated(w: World, stars: int, comment: str | None = None) -> str:
    """A settled order of ``w``'s instrument that its user rated."""
    oid = await settled(w)
    body: dict[str, Any] = {"rating": stars} | ({"comment": comment} if comment is not None else {})
    r = await w.as_user("POST", f"/v1/orders/{oid}/rate", json=body)
    assert r.status_code == 200 and r.json()["status"] == "rated", r.text
    return oid
