"""An order's contract and its documents (M12, R22, R25): every required term
before the contract is set (testing fee within the amount, IP ownership,
confidentiality, the contract document and the R&D proof of this order), and
the document store's limits (size, type, emptiness; the same bytes twice are
two documents over one blob)."""

from __future__ import annotations

import hashlib

import pytest

from services.registry.domain.orders import MAX_DOCUMENT_BYTES
from tests.support.platform import Platform, running
from tests.support.registry import PDF, PROOF, contract, world


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


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
