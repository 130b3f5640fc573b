"""The unit's evaluation form (portal) against a stand-in evaluation service:
the self-evaluation report is uploaded to evaluation's document store and the
application names it by id (R14(2)); without a report the form is refused on
its field and nothing is sent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient

from services.gateway.app import create_app
from services.runtime.http.auth import issue_token
from services.runtime.settings import Settings

PDF = b"%PDF-1.7\n% self-evaluation report\n" + b"s" * 200


def test_the_evaluation_form_uploads_the_report_and_names_it(tmp_path: Path) -> None:
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, dict(request.url.params), request.content))
        if request.method == "POST" and request.url.path == "/v1/evaluation-documents":
            return httpx.Response(201, json={"document_id": f"doc-{request.url.params['kind']}"})
        if request.method == "POST" and request.url.path == "/v1/applications/":
            return httpx.Response(201, json={"application_id": "app-1"})
        return httpx.Response(404, json={"code": "x.not_found", "message_zh": "无", "message_en": "none"})

    settings = Settings(data_dir=tmp_path, demo=False)
    urls = {s: f"http://{s}.test" for s in ("registry", "vouchers", "evaluation", "payments")}
    with TestClient(create_app(settings, transport=httpx.MockTransport(upstream), upstreams=urls)) as c:
        c.cookies.set("xciss_session", issue_token(settings, subject="u", role="unit", org="unit-1", ttl_s=600))
        page = c.get("/unit/evaluation")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text[:500]
        token = csrf.group(1)

        # no report: refused on its field, nothing uploaded or submitted
        seen.clear()
        r = c.post("/unit/evaluation", data={"_csrf_token": token, "year": "2026"}, files={"supporting": ("记录.pdf", PDF, "application/pdf")}, follow_redirects=False)
        assert r.status_code in (200, 400, 422) and not [s for s in seen if s[0] == "POST"]

        seen.clear()
        files: Any = {"self_assessment": ("自评报告.pdf", PDF, "application/pdf"), "supporting": ("记录.pdf", PDF + b"2", "application/pdf")}
        r = c.post("/unit/evaluation", data={"_csrf_token": token, "year": "2026", "statement": "见自评报告"}, files=files, follow_redirects=False)
        assert r.status_code in (302, 303), r.text[:500]
        posts = [s for s in seen if s[0] == "POST"]
        assert [(p[1], p[2].get("kind")) for p in posts] == [("/v1/evaluation-documents", "self_assessment"), ("/v1/evaluation-documents", "supporting"), ("/v1/applications/", None)]
        assert posts[0][3] == PDF and posts[0][2]["filename"] == "自评报告.pdf"
        assert json.loads(posts[2][3]) == {"year": 2026, "documents": ["doc-self_assessment", "doc-supporting"], "statement": "见自评报告"}
