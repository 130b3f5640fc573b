"""限期整改 in the portal (M15, issue 17), against a stand-in of the evaluation and registry
APIs (the API itself: tests/integration/evaluation/test_evaluation_rectification.py): the unit
sees its deadline and sends its report; a blank report is refused at its field; the bureau
sees the report and records a re-check, refused without an outcome or a reason; another
unit is refused; once passed, the unit has no form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient

from services.gateway.app import create_app
from services.runtime.http.auth import issue_token
from services.runtime.settings import Settings

YEAR, UNIT = 2026, "unit-7"


def _app(tmp_path: Path, state: dict[str, Any], sent: list[tuple[str, str, Any]]) -> TestClient:  # type: ignore[type-arg]
    def upstream(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path == f"/v1/rectifications/{YEAR}/{UNIT}":
            return httpx.Response(200, json={"unit_id": UNIT, "year": YEAR, "deadline": "2026-09-07", "document_id": None, "reported_at": None,
                                             "checked_at": None, "checked_by": None, "outcome_reason": None, **state})
        if request.method == "GET" and path == f"/v1/units/{UNIT}":
            return httpx.Response(200, json={"unit_id": UNIT, "name": "许昌某研究所"})
        if request.method == "POST":
            sent.append((request.method, path, json.loads(request.content)))
            return httpx.Response(200, json={})
        return httpx.Response(404, json={"code": "not_found"})

    settings = Settings(data_dir=tmp_path, demo=False)
    app = create_app(settings, transport=httpx.MockTransport(upstream), upstreams={s: f"http://{s}.svc" for s in ("registry", "vouchers", "evaluation", "payments")})
    return TestClient(app)


def _token(tmp_path: Path, role: str, org: str | None = None) -> str:
    return issue_token(Settings(data_dir=tmp_path, demo=False), subject="s", role=role, org=org, ttl_s=600)


def test_the_unit_reports_and_the_bureau_rechecks(tmp_path: Path) -> None:
    state: dict[str, Any] = {"status": "required", "report": None, "outcome": None}
    sent: list[tuple[str, str, Any]] = []
    url = f"/rectification/{YEAR}/{UNIT}"
    with _app(tmp_path, state, sent) as c:
        c.cookies.set("xciss_session", _token(tmp_path, "unit", UNIT))
        page = c.get(url)
        assert page.status_code == 200 and "待提交整改报告" in page.text and "2026-09-07" in page.text and 'id="rectification-form"' in page.text
        csrf = c.cookies.get("xciss_csrf")
        r = c.post(f"{url}/report", data={"_csrf_token": csrf, "report": "  "}, follow_redirects=False)
        assert r.status_code == 400 and 'id="report-error">此项必填' in r.text and sent == []
        r = c.post(f"{url}/report", data={"_csrf_token": csrf, "report": "已补充专职人员并公开收费标准"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1"
        assert sent == [("POST", f"/v1/rectifications/{YEAR}/report", {"report": "已补充专职人员并公开收费标准"})]
        assert 'id="recheck-form"' not in page.text

        c.cookies.set("xciss_session", _token(tmp_path, "unit", "unit-other"))
        assert c.get(url).status_code == 403

        state.update(status="reported", report="已补充专职人员并公开收费标准")
        c.cookies.set("xciss_session", _token(tmp_path, "bureau"))
        page = c.get(url)
        assert "已补充专职人员并公开收费标准" in page.text and 'id="recheck-form"' in page.text and 'id="rectification-form"' not in page.text
        r = c.post(f"{url}/recheck", data={"_csrf_token": csrf, "reason": "材料齐全"}, follow_redirects=False)
        assert r.status_code == 400 and 'id="outcome-error">此项必填' in r.text
        r = c.post(f"{url}/recheck", data={"_csrf_token": csrf, "outcome": "passed", "reason": ""}, follow_redirects=False)
        assert r.status_code == 400 and "复核结论须填写理由" in r.text and len(sent) == 1
        r = c.post(f"{url}/recheck", data={"_csrf_token": csrf, "outcome": "passed", "reason": "材料齐全，现场核查属实"}, follow_redirects=False)
        assert r.status_code == 303
        assert sent[-1] == ("POST", f"/v1/rectifications/{YEAR}/{UNIT}/recheck", {"outcome": "passed", "reason": "材料齐全，现场核查属实"})
        c.cookies.set("xciss_session", _token(tmp_path, "unit", UNIT))
        r = c.post(f"{url}/recheck", data={"_csrf_token": csrf, "outcome": "passed", "reason": "x"}, follow_redirects=False)
        assert r.status_code == 403  # the unit does not re-check itself

        state.update(status="passed", outcome="passed", outcome_reason="材料齐全，现场核查属实", checked_at="2026-09-10T02:00:00Z")
        page = c.get(url)
        assert "复核通过" in page.text and "材料齐全，现场核查属实" in page.text and 'id="rectification-form"' not in page.text
        assert "2026-09-10 10:00" in page.text  # Beijing time
