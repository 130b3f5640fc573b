"""An order's life over HTTP (M14(1), R19, R24): the journey to delivered
results (quote, contract documents, both signatures, service, results with
the R24 statement) with its audit trail and its events on the REGISTRY stream,
and every illegal transition or cancellation refused with the current status."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import unquote

import msgspec
import pytest

from contracts.registry import OrderContracted, OrderResultsDelivered
from services.registry.domain.orders import RESULT_STATEMENT, RESULT_STATEMENT_EN, RESULT_STATEMENT_ZH
from services.runtime.roles import Role
from services.runtime.bus.connect import connect_nats
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import PDF, PROOF, RESULT, contract, world


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


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
