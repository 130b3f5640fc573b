"""``Idempotency-Key`` on the registry's creating POSTs (issue 7): orders,
order documents, units and users. A retry with the same key and body answers
the first response again (``Idempotent-Replayed: true``) and changes nothing;
another body is 409; concurrent duplicates make one effect; keys are scoped per
principal; a malformed key is 400; without the header nothing changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.registry.db.metadata import idempotency_keys
from services.registry.db.order_models import order_documents, orders
from services.registry.db.party_models import units, users
from services.runtime.roles import Role
from services.runtime.bus.idempotency_prune import prune
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.registry import PDF, World, verified_user, world


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


def _key(k: str) -> dict[str, str]:
    return {"Idempotency-Key": k}


def _order_body(w: World, quantity: int = 2) -> dict[str, Any]:
    return {"purpose": "research", "items": [{"price_item_id": w.pid, "quantity": quantity}], "description": "样品成分分析"}


async def _count(p: Platform, table: Any, *where: Any) -> int:
    async with p["registry"].db.read() as s:
        return int((await s.execute(select(func.count()).select_from(table).where(*where))).scalar_one())


async def test_an_order_retried_with_its_key_is_created_once(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        first = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("journey-1-order"))
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        again = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("journey-1-order"))
        assert again.status_code == 201, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert await _count(p, orders, orders.c.user_id == w.user) == 1
        # the same key with another body is refused, and creates nothing
        other = await w.as_user("POST", "/v1/orders/", json=_order_body(w, quantity=5), headers=_key("journey-1-order"))
        assert other.status_code == 409 and other.json()["code"] == "request.idempotency_key_reused", other.text
        assert other.json()["message_zh"] and other.json()["message_en"]
        assert await _count(p, orders, orders.c.user_id == w.user) == 1
        # another key is another order
        r = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("journey-1-order-b"))
        assert r.status_code == 201 and r.json()["order_id"] != first.json()["order_id"]
        assert await _count(p, orders, orders.c.user_id == w.user) == 2
        # a refusal is not stored: its retry is tried again
        bad = {"purpose": "research", "items": [{"price_item_id": "no-such-item", "quantity": 1}]}
        r1 = await w.as_user("POST", "/v1/orders/", json=bad, headers=_key("journey-2-order"))
        r2 = await w.as_user("POST", "/v1/orders/", json=bad, headers=_key("journey-2-order"))
        assert r1.status_code == r2.status_code == 422 and r1.json()["code"] == r2.json()["code"] == "order.item_unavailable"
        assert "idempotent-replayed" not in r2.headers


async def test_concurrent_duplicates_make_one_order_and_answer_alike(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        answers = await asyncio.gather(*(w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("same-key")) for _ in range(5)))
        assert [a.status_code for a in answers] == [201] * 5, [a.text for a in answers]
        assert len({a.json()["order_id"] for a in answers}) == 1
        assert all(a.json() == answers[0].json() for a in answers)
        assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 4
        assert await _count(p, orders, orders.c.user_id == w.user) == 1
        assert await _count(p, idempotency_keys) >= 1


async def test_keys_are_scoped_per_principal(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        other = await verified_user(p, "许昌另一企业")
        mine = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("k-1"))
        theirs = await p.call("registry", "POST", "/v1/orders/", role=Role.USER, org=other, json=_order_body(w), headers=_key("k-1"))
        assert mine.status_code == theirs.status_code == 201, theirs.text
        assert "idempotent-replayed" not in theirs.headers
        assert theirs.json()["order_id"] != mine.json()["order_id"] and theirs.json()["user_id"] == other
        # another subject of the same organisation is another principal too
        token = p.token(Role.USER, w.user, subject="colleague")
        r = await p.call("registry", "POST", "/v1/orders/", json=_order_body(w), headers={**_key("k-1"), "Authorization": f"Bearer {token}"})
        assert r.status_code == 201 and r.json()["order_id"] != mine.json()["order_id"]
        # the same key on another operation is another key
        r = await w.upload(mine.json()["order_id"], "contract", PDF)
        assert r.status_code == 201


async def test_a_document_upload_retried_with_its_key_stores_one_document(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        oid = await w.quoted()
        up = {"params": {"kind": "contract", "filename": "合同.pdf"}, "content": PDF, "headers": {"Content-Type": "application/octet-stream", **_key(f"{oid}-contract")}}
        first = await w.as_user("POST", f"/v1/orders/{oid}/documents", **up)
        assert first.status_code == 201, first.text
        again = await w.as_user("POST", f"/v1/orders/{oid}/documents", **up)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert await _count(p, order_documents, order_documents.c.order_id == oid) == 1
        # other bytes under the same key: refused
        r = await w.as_user("POST", f"/v1/orders/{oid}/documents", **{**up, "content": PDF + b"changed"})
        assert r.status_code == 409 and r.json()["code"] == "request.idempotency_key_reused"
        # a multipart retry (new boundary, same file) is the same request
        mp = {"params": {"kind": "rd_proof"}, "files": {"file": ("proof.pdf", PDF, "application/pdf")}, "headers": _key(f"{oid}-proof")}
        a = await w.as_unit("POST", f"/v1/orders/{oid}/documents", **mp)
        b = await w.as_unit("POST", f"/v1/orders/{oid}/documents", **mp)
        assert a.status_code == b.status_code == 201 and a.json() == b.json() and b.headers["Idempotent-Replayed"] == "true"
        order = (await w.as_user("GET", f"/v1/orders/{oid}")).json()
        assert len(order["documents"]) == 2


async def test_unit_and_user_registration_replay_instead_of_duplicate(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        unit = {"name": "许昌学院", "kind": "university", "credit_code": credit_code(), "county_code": "411002"}
        first = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=unit, headers=_key("unit-1"))
        again = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=unit, headers=_key("unit-1"))
        assert first.status_code == again.status_code == 201, again.text
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert await _count(p, units, units.c.credit_code == unit["credit_code"]) == 1
        # without the key the duplicate is refused as before
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=unit)
        assert r.status_code == 409 and r.json()["code"] == "unit.duplicate_credit_code"
        # another key for the same unit: the duplicate error, not a replay
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=unit, headers=_key("unit-2"))
        assert r.status_code == 409 and r.json()["code"] == "unit.duplicate_credit_code"

        user = {"name": "许昌测试企业", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": credit_code()}
        answers = await asyncio.gather(*(p.call("registry", "POST", "/v1/users/", role=Role.USER, json=user, headers=_key("user-1")) for _ in range(3)))
        assert [a.status_code for a in answers] == [201] * 3, [a.text for a in answers]
        assert all(a.json() == answers[0].json() for a in answers)
        assert await _count(p, users, users.c.credit_code == user["credit_code"]) == 1
        # without the key a second registration of the code is a new one, for the center to review
        r = await p.call("registry", "POST", "/v1/users/", role=Role.USER, json=user)
        assert r.status_code == 201 and r.json()["user_id"] != answers[0].json()["user_id"] and r.json()["status"] == "pending", r.text
        r = await p.call("registry", "POST", "/v1/users/", role=Role.USER, json={**user, "name": "改名"}, headers=_key("user-1"))
        assert r.status_code == 409 and r.json()["code"] == "request.idempotency_key_reused"


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\there", b"\xe4\xb8\xad".decode("latin-1")])
async def test_a_malformed_key_is_400(make_settings, key: str) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        r = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers={"Idempotency-Key": key.encode("latin-1")})  # type: ignore[dict-item]
        assert r.status_code == 400 and r.json()["code"] == "request.idempotency_key_invalid", r.text
        assert r.json()["message_zh"] and r.json()["message_en"]
        assert await _count(p, orders) == 0
        r = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("x" * 200))
        assert r.status_code == 201


async def test_without_the_header_nothing_changes_and_keys_expire(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        a = await w.as_user("POST", "/v1/orders/", json=_order_body(w))
        b = await w.as_user("POST", "/v1/orders/", json=_order_body(w))
        assert a.status_code == b.status_code == 201 and a.json()["order_id"] != b.json()["order_id"]
        assert "idempotent-replayed" not in b.headers
        assert await _count(p, idempotency_keys) == 0
        r = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("old"))
        assert r.status_code == 201
        db = p["registry"].db
        assert await prune(db, timedelta(hours=24)) == 0
        # past the retention the key is pruned (and would no longer be replayed)
        assert await prune(db, timedelta(hours=24), now=datetime.now(UTC) + timedelta(hours=25)) == 1
        assert await _count(p, idempotency_keys) == 0
        again = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("old"))
        assert again.status_code == 201 and again.json()["order_id"] != r.json()["order_id"]


async def test_an_expired_key_gives_way_without_the_prune(make_settings) -> None:
    settings = await make_settings(["registry"], idempotency_retention_h=0.0)
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        a = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("short"))
        b = await w.as_user("POST", "/v1/orders/", json=_order_body(w), headers=_key("short"))
        assert a.status_code == b.status_code == 201, b.text
        assert a.json()["order_id"] != b.json()["order_id"] and "idempotent-replayed" not in b.headers
        assert await _count(p, idempotency_keys) == 1
