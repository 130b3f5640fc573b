"""An order's settlement from payments' events and its rating (R19(4)): a
payment in full settles once (OrderSettled with the voucher deduction, the
inbox drops a repeat), a payment may come before the settlement event, events
that do not apply are ignored and not parked; then the order's user rates it
once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from contracts.envelope import new_event_id
from contracts.payments import PaymentReceived
from contracts.registry import OrderRated, OrderSettled
from services.runtime.roles import Role
from tests.support.order_settlement import payment, registry_events, settlement
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import verified_user, world


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


async def test_payment_in_full_settles_once_then_the_user_rates(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        oid = await w.delivered()

        async def order() -> dict[str, Any]:
            r = await w.as_user("GET", f"/v1/orders/{oid}")
            assert r.status_code == 200, r.text
            return dict(r.json())

        # rating before settlement is refused
        r = await w.as_user("POST", f"/v1/orders/{oid}/rate", json={"rating": 5})
        assert r.status_code == 409 and r.json()["code"] == "order.illegal_transition"

        # settlement, then a partial payment: remembered, not settled
        await publish(p, settlement(w, oid), payment(w, oid, amount=10_000, paid=10_000))
        partial = await eventually(lambda: _when(order(), lambda o: o["paid_fen"] == 10_000 and o["voucher_fen"] == 24_000))
        assert partial["status"] == "results_delivered" and partial["settled_at"] is None and partial["settlement_id"] == f"s-{oid}"[:36]

        # the rest: settled, OrderSettled with the voucher deduction
        full = payment(w, oid, amount=26_000, paid=36_000)
        await publish(p, full)
        settled = await eventually(lambda: _when(order(), lambda o: o["status"] == "settled"))
        assert settled["voucher_fen"] == 24_000 and settled["paid_fen"] == 36_000 and settled["settled_at"]
        events = await eventually(lambda: registry_events(p, OrderSettled, oid))
        assert len(events) == 1
        e = events[0]
        assert e.status == "settled" and e.voucher_fen == 24_000 and e.user_id == w.user and e.unit_id == w.unit and e.amount_fen == 60_000
        assert e.version == settled["version"] and e.instrument_ids == [w.iid]

        # the same event again (the inbox), another full payment and a late settlement: nothing changes
        worker = p["registry"].worker
        assert worker is not None
        await publish(p, full, msg_id=new_event_id())
        await eventually(lambda: worker.outcomes.get("duplicate") == 1)
        done = worker.outcomes.get("done", 0)
        await publish(p, payment(w, oid, amount=36_000, paid=36_000), settlement(w, oid, voucher=0))
        await eventually(lambda: worker.outcomes.get("done", 0) == done + 2)
        again = await order()
        assert again["version"] == settled["version"] and again["voucher_fen"] == 24_000
        assert len(await registry_events(p, OrderSettled, oid)) == 1

        # only the order's user rates; once
        other = await verified_user(p, "另一家企业")
        r = await p.call("registry", "POST", f"/v1/orders/{oid}/rate", role=Role.USER, org=other, json={"rating": 5})
        assert r.status_code == 404, r.text
        r = await w.as_unit("POST", f"/v1/orders/{oid}/rate", json={"rating": 5})
        assert r.status_code == 403, r.text
        for bad in ({"rating": 0}, {"rating": 6}, {"rating": 5, "comment": "好" * 501}):
            r = await w.as_user("POST", f"/v1/orders/{oid}/rate", json=bad)
            assert r.status_code in (400, 422), r.text
        r = await w.as_user("POST", f"/v1/orders/{oid}/rate", json={"rating": 4, "comment": " 服务及时，数据可靠 "})
        assert r.status_code == 200, r.text
        rated = r.json()
        assert rated["status"] == "rated" and rated["rating"] == 4 and rated["rating_comment"] == "服务及时，数据可靠" and rated["rated_at"]
        r = await w.as_user("POST", f"/v1/orders/{oid}/rate", json={"rating": 5})
        assert r.status_code == 409 and r.json()["code"] == "order.already_rated"
        ratings = await eventually(lambda: registry_events(p, OrderRated, oid))
        assert [(x.rating, x.status, x.version) for x in ratings] == [(4, "rated", rated["version"])]
        # a late payment does not touch a rated order
        done = worker.outcomes.get("done", 0)
        await publish(p, payment(w, oid, amount=36_000, paid=36_000))
        await eventually(lambda: worker.outcomes.get("done", 0) == done + 1)
        assert (await order())["status"] == "rated"


async def _when(value: Any, check: Any) -> Any:
    v = await value
    return v if check(v) else None


async def test_payment_before_the_settlement_event(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        oid = await w.delivered()
        # PaymentReceived may arrive first: the voucher is the amount less what was payable
        await publish(p, payment(w, oid, amount=36_000, paid=36_000))

        async def settled() -> Any:
            r = await w.as_user("GET", f"/v1/orders/{oid}")
            return r.json() if r.json()["status"] == "settled" else None

        o = await eventually(settled)
        assert o["voucher_fen"] == 24_000 and o["paid_fen"] == 36_000
        events = await eventually(lambda: registry_events(p, OrderSettled, oid))
        assert [e.voucher_fen for e in events] == [24_000]
        # the settlement event arriving late changes nothing
        worker = p["registry"].worker
        assert worker is not None
        before = worker.outcomes.get("done", 0)
        await publish(p, settlement(w, oid))
        await eventually(lambda: worker.outcomes.get("done", 0) > before)
        r = await w.as_user("GET", f"/v1/orders/{oid}")
        assert r.json()["version"] == o["version"] and r.json()["status"] == "settled"


async def test_settlement_ignores_what_does_not_apply(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        oid = await w.contracted()
        worker = p["registry"].worker
        assert worker is not None
        # the registry's own events its worker consumes (the catalogue's and the search index's) have all been handled
        outbox = p["registry"].db.metadata.tables["outbox"]
        subjects = [sub.subject for sub in p["registry"].spec.subscriptions()]
        async with p["registry"].db.read() as s:
            own = (await s.execute(select(func.count()).select_from(outbox).where(outbox.c.subject.in_(subjects)))).scalar_one()
        await eventually(lambda: worker.outcomes.get("done", 0) == own)
        # paid in full while still contracted, for an unknown order, for other parties: ignored, not parked
        await publish(
            p,
            payment(w, oid, amount=36_000, paid=36_000),
            payment(w, new_event_id(), amount=36_000, paid=36_000),
            PaymentReceived(settlement_id="s", order_id=oid, user_id="someone", unit_id=w.unit, amount_fen=1, paid_fen=1, payable_fen=1, paid_in_full=True),
        )
        await eventually(lambda: worker.outcomes.get("done", 0) == own + 3)
        assert worker.outcomes.get("parked", 0) == 0
        r = await w.as_user("GET", f"/v1/orders/{oid}")
        assert r.json()["status"] == "contracted" and r.json()["paid_fen"] is None
