"""Service orders over HTTP (M14(1), R19, R22–R25): the journey to delivered
results with its events on the REGISTRY stream, illegal transitions,
confidentiality (404 to anybody but the parties and staff), the contract's
required terms, the document store, and the statutory-testing purpose."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any
from urllib.parse import unquote

import msgspec
import pytest
from sqlalchemy import func, select

from contracts.envelope import Event, encode, new_event_id
from contracts.payments import PaymentReceived, SettlementCompleted
from contracts.registry import (
    OrderCancelled,
    OrderContracted,
    OrderRated,
    OrderResultsDelivered,
    OrderSettled,
)
from services.registry import instruments as instrument_use_cases
from services.registry.domain.orders import (
    MAX_DOCUMENT_BYTES,
    RESULT_STATEMENT,
    RESULT_STATEMENT_EN,
    RESULT_STATEMENT_ZH,
)
from services.runtime.roles import Role
from services.runtime.bus.connect import connect_nats
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import (
    PDF,
    PROOF,
    RESULT,
    World,
    approved_unit,
    contract,
    priced_instrument,
    verified_user,
    world,
)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instrument_use_cases, "shanghai_today", lambda: date(2024, 11, 6))


async def test_the_journey_to_delivered_results(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        r = await w.as_user("POST", "/v1/orders/", json={"purpose": "technology_development", "items": [{"price_item_id": w.pid, "quantity": 3}]})
        assert r.status_code == 201, r.text
        o = r.json()
        oid = o["order_id"]
        assert o["status"] == "requested" and o["user_id"] == w.user and o["unit_id"] == w.unit and o["version"] == 1
        assert o["list_amount_fen"] == 90_000 == o["amount_fen"]
        assert o["items"] == [{"instrument_id": w.iid, "price_item_id": w.pid, "name": "常规样品检测", "billing_unit": "per_sample", "price_fen": 30_000, "quantity": 3, "amount_fen": 90_000}]

        r = await w.as_unit("POST", f"/v1/orders/{oid}/quote", json={"amount_fen": 80_000})
        assert r.status_code == 200 and r.json()["status"] == "quoted" and r.json()["amount_fen"] == 80_000 and r.json()["version"] == 2

        c = await w.upload(oid, "contract", PDF)
        assert c.status_code == 201, c.text
        cdoc = c.json()
        assert cdoc["sha256"] == hashlib.sha256(PDF).hexdigest() and cdoc["size"] == len(PDF)
        assert cdoc["content_type"] == "application/pdf" and cdoc["kind"] == "contract" and cdoc["filename"] == "合同.pdf"
        assert cdoc["statement"] is None and cdoc["uploaded_by_role"] == "user"
        # the bytes are in the content-addressed store under the data directory
        stored = settings.data_dir / "documents" / cdoc["sha256"][:2] / cdoc["sha256"]
        assert stored.read_bytes() == PDF
        # multipart works too
        r = await w.as_unit("POST", f"/v1/orders/{oid}/documents", params={"kind": "rd_proof"}, files={"file": ("研发证明.png", PROOF, "image/png")})
        assert r.status_code == 201, r.text
        pdoc = r.json()
        assert pdoc["sha256"] == hashlib.sha256(PROOF).hexdigest() and pdoc["content_type"] == "image/png" and pdoc["filename"] == "研发证明.png"

        r = await w.as_unit("PUT", f"/v1/orders/{oid}/contract", json=contract(cdoc["document_id"], pdoc["document_id"], testing_fee_fen=80_000, provincial_subsidy=False))
        assert r.status_code == 200, r.text
        assert r.json()["contract"]["testing_fee_fen"] == 80_000 and r.json()["contract"]["contract_document_id"] == cdoc["document_id"]

        r = await w.as_unit("POST", f"/v1/orders/{oid}/sign")
        assert r.status_code == 200 and r.json()["status"] == "quoted" and r.json()["contract"]["unit_signed_at"]
        r = await w.as_unit("POST", f"/v1/orders/{oid}/sign")
        assert r.status_code == 409 and r.json()["code"] == "order.already_signed"
        # the terms are frozen once a party signed
        r = await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(cdoc["document_id"], pdoc["document_id"]))
        assert r.status_code == 409 and r.json()["code"] == "order.contract_signed"
        r = await w.as_user("POST", f"/v1/orders/{oid}/sign")
        assert r.status_code == 200 and r.json()["status"] == "contracted" and r.json()["contracted_at"]

        r = await w.as_unit("POST", f"/v1/orders/{oid}/start")
        assert r.status_code == 200 and r.json()["status"] == "in_service"
        r = await w.upload(oid, "result", RESULT, by="unit", filename="report.pdf")
        assert r.status_code == 201, r.text
        rdoc = r.json()
        assert rdoc["statement"] == RESULT_STATEMENT
        r = await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": rdoc["document_id"], "service_hours": 6})
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["status"] == "results_delivered" and done["service_hours"] == 6 and done["result_document_id"] == rdoc["document_id"]
        assert [d["statement"] for d in done["documents"] if d["kind"] == "result"] == [RESULT_STATEMENT]

        # the user downloads the results with the statement (R24) and the digest
        r = await w.as_user("GET", f"/v1/orders/{oid}/documents/{rdoc['document_id']}")
        assert r.status_code == 200, r.text
        assert r.content == RESULT and r.headers["content-type"].startswith("application/pdf")
        assert r.headers["x-content-sha256"] == hashlib.sha256(RESULT).hexdigest()
        assert r.headers["x-result-statement"] == RESULT_STATEMENT_EN and unquote(r.headers["x-result-statement-zh"]) == RESULT_STATEMENT_ZH
        r = await w.as_unit("GET", f"/v1/orders/{oid}/documents/{cdoc['document_id']}")
        assert r.status_code == 200 and r.content == PDF and "x-result-statement" not in r.headers

        # the audit trail keeps the request with its lines and each upload with its digest
        r = await p.call("registry", "GET", "/v1/audit/", role=Role.AUDITOR, params={"action": "order.request", "object_id": oid})
        assert [e["after"] for e in r.json()["items"]] == [
            {"user_id": w.user, "unit_id": w.unit, "purpose": "technology_development", "list_amount_fen": 90_000, "items": o["items"]}
        ]
        r = await p.call("registry", "GET", "/v1/audit/", role=Role.AUDITOR, params={"action": "order.document_upload", "object_id": oid})
        uploads = {e["after"]["document_id"]: e["after"] for e in r.json()["items"]}
        assert uploads[cdoc["document_id"]] == {k: cdoc[k] for k in ("document_id", "kind", "sha256", "size", "content_type")}
        assert sorted(a["kind"] for a in uploads.values()) == ["contract", "rd_proof", "result"]

        assert settings.nats_url
        nc = await connect_nats(settings.bus("operator"), "test-order-events")
        try:
            js = nc.jetstream()

            async def all_published() -> bool:
                # unit applied, approved; instrument registered, listed; price; user registered, verified; contracted; delivered
                return (await js.stream_info("REGISTRY")).state.messages == 9

            await eventually(all_published)
            contracted = msgspec.json.decode((await js.get_last_msg("REGISTRY", OrderContracted.subject)).data, type=OrderContracted)
            assert contracted.order_id == oid and contracted.status == "contracted" and contracted.user_id == w.user and contracted.unit_id == w.unit
            assert contracted.instrument_ids == [w.iid] and contracted.amount_fen == 80_000 and contracted.testing_fee_fen == 80_000
            assert contracted.purpose == "technology_development" and contracted.contract_sha256 == hashlib.sha256(PDF).hexdigest()
            assert contracted.provincial_subsidy is False
            delivered = msgspec.json.decode((await js.get_last_msg("REGISTRY", OrderResultsDelivered.subject)).data, type=OrderResultsDelivered)
            assert delivered.order_id == oid and delivered.status == "results_delivered" and delivered.service_hours == 6
            assert delivered.version > contracted.version
        finally:
            await nc.close()


async def test_illegal_transitions_answer_409_with_the_status(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        oid = await w.order()

        def illegal(r: Any, status: str) -> None:
            assert r.status_code == 409, r.text
            body = r.json()
            assert body["code"] == "order.illegal_transition" and body["details"]["current_status"] == status, body

        illegal(await w.as_user("POST", f"/v1/orders/{oid}/sign"), "requested")
        illegal(await w.as_unit("POST", f"/v1/orders/{oid}/start"), "requested")
        illegal(await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": "x", "service_hours": 1}), "requested")
        illegal(await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract("a", "b")), "requested")
        illegal(await w.upload(oid, "result", RESULT, by="unit"), "requested")

        oid = await w.quoted()
        illegal(await w.as_unit("POST", f"/v1/orders/{oid}/quote", json={"amount_fen": 1}), "quoted")
        illegal(await w.as_unit("POST", f"/v1/orders/{oid}/start"), "quoted")
        # signing an incomplete contract
        r = await w.as_user("POST", f"/v1/orders/{oid}/sign")
        assert r.status_code == 422 and r.json()["code"] == "order.contract_incomplete"

        oid = await w.contracted()
        illegal(await w.as_unit("POST", f"/v1/orders/{oid}/sign"), "contracted")
        illegal(await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract("a", "b")), "contracted")
        illegal(await w.upload(oid, "contract", PDF), "contracted")
        assert (await w.as_unit("POST", f"/v1/orders/{oid}/start")).status_code == 200
        illegal(await w.as_unit("POST", f"/v1/orders/{oid}/start"), "in_service")
        illegal(await w.as_user("POST", f"/v1/orders/{oid}/cancel", json={"reason": "不需要了"}), "in_service")
        # only the unit uploads results
        r = await w.upload(oid, "result", RESULT, by="user")
        assert r.status_code == 403 and r.json()["code"] == "order.results_by_unit"
        # a contract document is not a result
        c_id = (await w.as_user("GET", f"/v1/orders/{oid}")).json()["contract"]["contract_document_id"]
        r = await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": c_id, "service_hours": 1})
        assert r.status_code == 422 and r.json()["code"] == "order.wrong_document_kind"
        r = await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": "nope", "service_hours": 1})
        assert r.status_code == 422 and r.json()["code"] == "order.unknown_document"
        res = (await w.upload(oid, "result", RESULT, by="unit")).json()["document_id"]
        r = await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": res, "service_hours": -1})
        assert r.status_code == 400
        assert (await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": res, "service_hours": 0})).status_code == 200
        illegal(await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": res, "service_hours": 0}), "results_delivered")
        illegal(await w.as_unit("POST", f"/v1/orders/{oid}/cancel", json={"reason": "x"}), "results_delivered")

        # cancellation: a reason is required; a cancelled order takes nothing more
        oid = await w.quoted()
        r = await w.as_user("POST", f"/v1/orders/{oid}/cancel", json={})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await w.as_user("POST", f"/v1/orders/{oid}/cancel", json={"reason": "  "})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await w.as_user("POST", f"/v1/orders/{oid}/cancel", json={"reason": "课题调整，不再需要检测"})
        assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["cancel_reason"] == "课题调整，不再需要检测"
        illegal(await w.as_user("POST", f"/v1/orders/{oid}/cancel", json={"reason": "again"}), "cancelled")
        illegal(await w.as_user("POST", f"/v1/orders/{oid}/sign"), "cancelled")
        # the unit cancels a contracted order
        oid = await w.contracted()
        r = await w.as_unit("POST", f"/v1/orders/{oid}/cancel", json={"reason": "仪器故障，无法按期服务"})
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        # clients cannot set the status
        r = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": w.pid, "quantity": 1}], "status": "contracted"})
        assert r.status_code == 400


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


async def test_contract_terms_and_documents(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        oid = await w.quoted(amount=60_000)
        c = (await w.upload(oid, "contract", PDF)).json()["document_id"]
        d = (await w.upload(oid, "rd_proof", PROOF, filename="p.png")).json()["document_id"]

        body = contract(c, d)
        del body["testing_fee_fen"]
        r = await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=body)
        assert r.status_code == 422 and r.json()["code"] == "order.contract_incomplete", r.text
        assert r.json()["details"]["missing"] == ["testing_fee_fen"]
        r = await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(c, None, ip_ownership=" ", confidentiality=""))
        assert r.status_code == 422 and r.json()["details"]["missing"] == ["ip_ownership", "confidentiality", "rd_proof_document_id"]
        r = await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(c, d, testing_fee_fen=60_001))
        assert r.status_code == 422 and r.json()["code"] == "order.testing_fee_invalid"
        r = await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(d, c))
        assert r.status_code == 422 and r.json()["code"] == "order.wrong_document_kind"
        r = await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract("nope", d))
        assert r.status_code == 422 and r.json()["code"] == "order.unknown_document"
        # another order's document cannot be borrowed
        foreign = await w.quoted()
        fc = (await w.upload(foreign, "contract", PDF)).json()["document_id"]
        r = await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(fc, d))
        assert r.status_code == 422 and r.json()["code"] == "order.unknown_document"
        r = await w.as_user("PUT", f"/v1/orders/{oid}/contract", json={**contract(c, d), "status": "contracted"})
        assert r.status_code == 400

        # documents: size limit, type, emptiness
        r = await w.upload(oid, "contract", b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES)
        assert r.status_code == 413 and r.json()["code"] == "document.too_large", r.text[:300]
        r = await w.upload(oid, "contract", b"just some text")
        assert r.status_code == 415 and r.json()["code"] == "document.unsupported_type"
        r = await w.upload(oid, "contract", b"")
        assert r.status_code == 400 and r.json()["code"] == "document.empty"
        r = await w.upload(oid, "invoice", PDF)
        assert r.status_code == 400
        # the same bytes twice: two documents, one blob
        again = (await w.upload(oid, "contract", PDF)).json()
        assert again["document_id"] != c and again["sha256"] == hashlib.sha256(PDF).hexdigest()


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


# --- settlement (payments' events) and rating ---------------------------------------


async def publish(p: Platform, *events: Event, msg_id: str | None = None) -> None:
    """Publish payments' events straight into JetStream, as the payments relay would."""
    assert p.settings.nats_url
    nc = await connect_nats(p.settings.bus("operator"), "test-payments-events")
    try:
        js = nc.jetstream()
        for e in events:
            await js.publish(type(e).subject, encode(e), headers={"Nats-Msg-Id": msg_id or e.event_id})
    finally:
        await nc.close()


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
