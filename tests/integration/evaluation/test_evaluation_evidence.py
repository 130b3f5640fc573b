"""R14(2), M14(2): evaluation evidence is real files in the shared document
store, on both databases and (second test) in S3-compatible storage. A unit
uploads PDF/JPEG/PNG files up to 10 MB; its application must name a
self-evaluation report (自评报告); the files are readable by the unit, center
and bureau, the unit's department and the experts assigned to the application,
and by nobody else (404)."""

from __future__ import annotations

import hashlib
from typing import Any

from minio import Minio

from services.runtime.roles import Role
from tests.support.evaluation_cycle import DEPT, YEAR, call, unit_event, units_known
from tests.support.evidence import documents, report_pdf, upload
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.s3 import ACCESS, SECRET, s3_endpoint, s3_settings  # noqa: F401  (the moto server fixture)
from tests.support.vouchers import uid

PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 300


async def content(p: Platform, document_id: str, role: Role, org: str | None = None) -> Any:
    return await p.call("evaluation", "GET", f"/v1/evaluation-documents/{document_id}/content", role=role, org=org)


async def test_evidence_files_a_self_evaluation_report_and_who_reads_them(make_settings) -> None:
    settings = await make_settings(["evaluation"])
    ours, other = uid(), uid()
    async with running(Platform(settings, ["evaluation"])) as p:
        await publish(p, unit_event(ours), unit_event(other, department="禹州市科技局"))
        await units_known(p, 2)
        await call(p, "POST", "/v1/cycles/", Role.BUREAU, json={"year": YEAR, "award_budget_fen": 1_000_000}, status=201)

        # only PDF, JPEG or PNG, at most 10 MB; only a unit uploads
        r = await upload(p, ours, data=b"PK\x03\x04 not a pdf", filename="x.zip")
        assert r.status_code == 415 and r.json()["code"] == "document.unsupported_type", r.text
        r = await upload(p, ours, data=b"%PDF-" + b"x" * (10 * 1024 * 1024))
        assert r.status_code == 413 and r.json()["code"] == "document.too_large", r.text
        r = await p.call("evaluation", "POST", "/v1/evaluation-documents", role=Role.CENTER, params={"kind": "supporting"}, content=PNG)
        assert r.status_code == 403, r.text

        # an application without a self-evaluation report is refused on its field
        supporting = (await upload(p, ours, "supporting", PNG, "服务记录.png")).json()
        assert supporting["content_type"] == "image/png" and supporting["sha256"] == hashlib.sha256(PNG).hexdigest()
        r = await call(p, "POST", "/v1/applications/", Role.UNIT, ours, {"year": YEAR, "documents": [supporting["document_id"]]}, 422)
        assert r["code"] == "application.self_assessment_required" and r["details"]["field"] == "documents"
        r = await call(p, "POST", "/v1/applications/", Role.UNIT, ours, {"year": YEAR, "documents": []}, 422)
        assert r["code"] == "application.self_assessment_required"
        # a report uploaded by another unit cannot be named
        theirs = await documents(p, other)
        r = await call(p, "POST", "/v1/applications/", Role.UNIT, ours, {"year": YEAR, "documents": [*theirs, supporting["document_id"]]}, 422)
        assert r["code"] == "application.document_unknown" and r["details"]["documents"] == theirs

        pdf = report_pdf()
        report = (await upload(p, ours, data=pdf)).json()
        # before it is named: the unit alone reads it
        assert (await content(p, report["document_id"], Role.UNIT, ours)).content == pdf
        assert (await content(p, report["document_id"], Role.CENTER)).status_code == 404
        app = await call(p, "POST", "/v1/applications/", Role.UNIT, ours, {"year": YEAR, "documents": [report["document_id"], supporting["document_id"]]}, 201)
        assert [(m["kind"], m["sha256"], m["size_bytes"]) for m in app["materials"]] == [("self_assessment", hashlib.sha256(pdf).hexdigest(), len(pdf)), ("supporting", supporting["sha256"], len(PNG))]
        # a named file belongs to that application
        other_app = await call(p, "POST", "/v1/applications/", Role.UNIT, other, {"year": YEAR, "documents": [report["document_id"]]}, 422)
        assert other_app["code"] == "application.document_unknown"

        await call(p, "POST", f"/v1/applications/{app['application_id']}/forward", Role.DEPARTMENT, DEPT, {}, 200)
        assigned = (await call(p, "POST", "/v1/experts/", Role.CENTER, json={"name": "技术专家", "role": "technical"}, status=201))["expert_id"]
        unassigned = (await call(p, "POST", "/v1/experts/", Role.CENTER, json={"name": "财务专家", "role": "finance"}, status=201))["expert_id"]
        await call(p, "POST", f"/v1/applications/{app['application_id']}/assignments", Role.CENTER, json={"expert_id": assigned}, status=201)

        for role, org in ((Role.UNIT, ours), (Role.CENTER, None), (Role.BUREAU, None), (Role.DEPARTMENT, DEPT), (Role.EXPERT, assigned)):
            r = await content(p, report["document_id"], role, org)
            assert r.status_code == 200 and r.content == pdf, (role, r.text)
            assert r.headers["content-type"].startswith("application/pdf") and r.headers["x-content-sha256"] == hashlib.sha256(pdf).hexdigest()
        for role, org in ((Role.UNIT, other), (Role.DEPARTMENT, "禹州市科技局"), (Role.EXPERT, unassigned), (Role.FINANCE, None)):
            r = await content(p, report["document_id"], role, org)
            assert r.status_code in (403, 404), (role, r.text)
            if role != Role.FINANCE:
                assert r.status_code == 404 and r.json()["code"] == "evaluation_document.not_found"
                meta = await p.call("evaluation", "GET", f"/v1/evaluation-documents/{report['document_id']}", role=role, org=org)
                assert meta.status_code == 404
        # the other unit's unnamed report: its unit only
        assert (await content(p, theirs[0], Role.DEPARTMENT, "禹州市科技局")).status_code == 404


async def test_evidence_goes_to_s3_when_the_store_is_s3(make_settings, s3_endpoint: str, backend: str) -> None:  # noqa: F811
    settings = await make_settings(["evaluation"], **s3_settings(s3_endpoint, f"evidence-{backend}", "xciss/evaluation"))
    unit = uid()
    async with running(Platform(settings, ["evaluation"])) as p:
        await publish(p, unit_event(unit))
        await units_known(p, 1)
        pdf = report_pdf()
        doc = (await upload(p, unit, data=pdf)).json()
        sha = hashlib.sha256(pdf).hexdigest()
        client = Minio(s3_endpoint, access_key=ACCESS, secret_key=SECRET, secure=False)
        obj = client.get_object(f"evidence-{backend}", f"xciss/evaluation/{sha[:2]}/{sha}")
        try:
            assert obj.read() == pdf
        finally:
            obj.close()
            obj.release_conn()
        assert not (settings.data_dir / "documents").exists()
        assert (await content(p, doc["document_id"], Role.UNIT, unit)).content == pdf
