"""Who may see and who may place an order (R5, R23): an order and its
documents answer 404 to anybody but its parties and the reviewing staff, the
lists show a party its own; only a verified, registered user orders listed
items of one unit, and a statutory-testing order is recorded with its purpose
on the contracted event (vouchers refuse it)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from contracts.registry import OrderCancelled, OrderContracted
from services.runtime.roles import Role
from services.runtime.bus.connect import connect_nats
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import PDF, World, approved_unit, contract, priced_instrument, verified_user, world


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


async def test_orders_are_confidential(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        other_unit = await approved_unit(p, "许昌职业技术学院")
        other_user = await verified_user(p, "另一家企业")
        oid = await w.with_contract()
        doc_id = (await w.as_user("GET", f"/v1/orders/{oid}")).json()["contract"]["contract_document_id"]

        strangers = ((Role.USER, other_user), (Role.UNIT, other_unit), (Role.USER, w.unit), (Role.UNIT, w.user))
        for role, org in strangers:
            for method, path, body in (
                ("GET", f"/v1/orders/{oid}", None),
                ("GET", f"/v1/orders/{oid}/documents/{doc_id}", None),
                ("POST", f"/v1/orders/{oid}/sign", None),
                ("POST", f"/v1/orders/{oid}/cancel", {"reason": "我来取消"}),
                ("PUT", f"/v1/orders/{oid}/contract", contract(doc_id, doc_id)),
            ):
                r = await p.call("registry", method, path, role=role, org=org, json=body)
                assert r.status_code == 404 and r.json()["code"] == "order.not_found", (role, method, path, r.text)
            r = await p.call("registry", "POST", f"/v1/orders/{oid}/documents", role=role, org=org, params={"kind": "contract"}, content=PDF)
            assert r.status_code == 404, r.text
        r = await p.call("registry", "POST", f"/v1/orders/{oid}/quote", role=Role.UNIT, org=other_unit, json={"amount_fen": 1})
        assert r.status_code == 404
        # signing by a non-party
        r = await p.call("registry", "POST", f"/v1/orders/{oid}/sign", role=Role.UNIT, org=other_unit)
        assert r.status_code == 404 and r.json()["code"] == "order.not_found"
        # roles outside the order's circle are refused outright; staff sign nothing
        assert (await p.call("registry", "GET", f"/v1/orders/{oid}", role=Role.EXPERT)).status_code == 403
        assert (await p.call("registry", "POST", f"/v1/orders/{oid}/sign", role=Role.CENTER)).status_code == 403
        assert (await p.call("registry", "GET", f"/v1/orders/{oid}")).status_code == 401
        # the parties and staff reviewers see it
        for role, org in ((Role.USER, w.user), (Role.UNIT, w.unit), (Role.CENTER, None), (Role.BUREAU, None)):
            assert (await p.call("registry", "GET", f"/v1/orders/{oid}", role=role, org=org)).status_code == 200, role
            r = await p.call("registry", "GET", f"/v1/orders/{oid}/documents/{doc_id}", role=role, org=org)
            assert r.status_code == 200 and r.content == PDF, role
        r = await w.as_user("GET", f"/v1/orders/{oid}/documents/nope")
        assert r.status_code == 404 and r.json()["code"] == "document.not_found"

        # lists: a party its own, staff all; by status; paginated
        other = World(p, other_unit, other_user, *await priced_instrument(p, other_unit))
        await other.order()
        await w.order()
        r = await w.as_user("GET", "/v1/orders/")
        assert r.json()["total"] == 2 and {o["user_id"] for o in r.json()["items"]} == {w.user}
        r = await w.as_unit("GET", "/v1/orders/?status=quoted")
        assert r.json()["total"] == 1 and r.json()["items"][0]["order_id"] == oid
        r = await other.as_unit("GET", "/v1/orders/")
        assert r.json()["total"] == 1 and r.json()["items"][0]["unit_id"] == other_unit
        r = await p.call("registry", "GET", "/v1/orders/?page=2&page_size=2", role=Role.BUREAU)
        assert r.json()["total"] == 3 and len(r.json()["items"]) == 1 and r.json()["page"] == 2
        r = await p.call("registry", "GET", "/v1/orders/?status=requested", role=Role.CENTER)
        assert r.json()["total"] == 2
        assert (await p.call("registry", "GET", "/v1/orders/?status=paid", role=Role.CENTER)).status_code == 400


async def test_who_may_order_and_statutory_testing(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        _, hidden_pid = await priced_instrument(p, w.unit, listed=False)
        unverified = await verified_user(p, "未审核企业", verify=False)

        def order(pid: str, **kw: Any) -> dict[str, Any]:
            return {"purpose": "research", "items": [{"price_item_id": pid, "quantity": 1}], **kw}

        r = await p.call("registry", "POST", "/v1/orders/", role=Role.USER, org=unverified, json=order(w.pid))
        assert r.status_code == 422 and r.json()["code"] == "order.user_not_verified"
        r = await p.call("registry", "POST", "/v1/orders/", role=Role.USER, org="nobody", json=order(w.pid))
        assert r.status_code == 422 and r.json()["code"] == "order.user_not_registered"
        r = await w.as_user("POST", "/v1/orders/", json=order(hidden_pid))
        assert r.status_code == 422 and r.json()["code"] == "order.item_unavailable" and r.json()["details"]["price_item_id"] == hidden_pid
        r = await w.as_user("POST", "/v1/orders/", json=order("nope"))
        assert r.status_code == 422 and r.json()["code"] == "order.item_unavailable"
        other_unit = await approved_unit(p, "许昌职业技术学院")
        _, other_pid = await priced_instrument(p, other_unit)
        r = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": w.pid, "quantity": 1}, {"price_item_id": other_pid, "quantity": 1}]})
        assert r.status_code == 422 and r.json()["code"] == "order.mixed_units"
        r = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": w.pid, "quantity": 1}, {"price_item_id": w.pid, "quantity": 2}]})
        assert r.status_code == 422 and r.json()["code"] == "order.duplicate_item"
        for bad in (order(w.pid, purpose="commercial"), {"purpose": "research", "items": []}, {"purpose": "research", "items": [{"price_item_id": w.pid, "quantity": 0}]}):
            assert (await w.as_user("POST", "/v1/orders/", json=bad)).status_code == 400, bad
        for role in (Role.UNIT, Role.CENTER):
            assert (await p.call("registry", "POST", "/v1/orders/", role=role, org=w.user, json=order(w.pid))).status_code == 403

        # statutory testing is recorded; the contracted event carries the purpose so vouchers can refuse it (R5)
        oid = await w.contracted("statutory_testing", provincial_subsidy=True)
        cancelled = await w.quoted()
        assert (await w.as_unit("POST", f"/v1/orders/{cancelled}/cancel", json={"reason": "样品不符合要求"})).status_code == 200

        assert settings.nats_url
        nc = await connect_nats(settings.bus("operator"), "test-order-purpose")
        try:
            js = nc.jetstream()

            async def cancellation_published() -> bool:
                try:
                    await js.get_last_msg("REGISTRY", OrderCancelled.subject)
                except Exception:
                    return False
                return True

            await eventually(cancellation_published)
            ev = msgspec.json.decode((await js.get_last_msg("REGISTRY", OrderContracted.subject)).data, type=OrderContracted)
            assert ev.order_id == oid and ev.purpose == "statutory_testing" and ev.provincial_subsidy is True
            gone = msgspec.json.decode((await js.get_last_msg("REGISTRY", OrderCancelled.subject)).data, type=OrderCancelled)
            assert gone.order_id == cancelled and gone.status == "cancelled" and gone.reason == "样品不符合要求" and gone.contract_sha256 is None
        finally:
            await nc.close()
