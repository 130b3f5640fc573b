"""Issue 17, messages and times: what a user reads when the services refuse comes
from one catalogue (the service's own Chinese, or the catalogue's words for a bare
code), next to the field it concerns; no code, dict or English reaches a Chinese
page; the portal answers unknown addresses and failures with its own Chinese pages
(the API keeps RFC 9457 JSON); every time is Beijing time."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient

from services.gateway.app import create_app
from services.gateway.portal.client import ApiError
from services.gateway.portal.messages import decision_text, failures_text, local_time
from services.runtime.http.auth import issue_token
from services.runtime.settings import Settings

SERVICES = ("registry", "vouchers", "evaluation", "payments")
CODE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")

DUPLICATE = {
    "code": "voucher.contract_already_used",
    "message_zh": "该合同已申请过科技创新券",
    "message_en": "this contract has already had a voucher",
    "details": {"failures": [{"code": "voucher.contract_already_used", "message_zh": "该合同已申请过科技创新券", "message_en": "this contract has already had a voucher"}]},
}


def test_a_refusal_with_its_failed_checks_reads_as_words_not_a_dict() -> None:
    """Pressing 通过 on a used contract showed '该合同已申请过科技创新券 ({'code': …})'."""
    err = ApiError(422, DUPLICATE)
    assert err.message("zh") == "该合同已申请过科技创新券"
    assert err.message("en") == "this contract has already had a voucher"
    two = ApiError(422, {**DUPLICATE, "details": {"failures": [*DUPLICATE["details"]["failures"], {"code": "voucher.statutory_testing", "message_zh": "强制性检测、法定检测不在支持范围内"}]}})
    text = two.message("zh")
    assert "该合同已申请过科技创新券" in text and "强制性检测、法定检测不在支持范围内" in text
    assert "{" not in text and not CODE.search(text)


def test_stored_failure_codes_and_bare_problems_are_said_in_words() -> None:
    assert failures_text(["voucher.statutory_testing", "voucher.user_not_verified"], "zh") == "强制性检测、法定检测不在支持范围内；用户尚未通过平台审核"
    assert failures_text(["voucher.some_new_check"], "zh") == "未满足申用条件"  # never the code
    assert decision_text(None, ["voucher.cap_exhausted"], "en") == "the user's yearly cap is used up"
    assert decision_text("auto_approve", [], "zh") == "符合条件，系统自动核准"
    assert decision_text("材料不全", [], "zh") == "材料不全"
    # a problem without words: the catalogue's, by code, then by status
    assert ApiError(422, {"code": "voucher.budget_exhausted"}).message("zh") == "本年度创新券预算已用完，停止申用"
    assert ApiError(404, {"code": "http.404"}).message("zh") == "页面或记录不存在"
    assert ApiError(502, {}).message("zh") == "服务暂时不可用，请稍后重试"


def test_a_record_not_found_is_said_without_its_id() -> None:
    """A rectification not required (the unit's link from a grades notice) showed
    '整改要求不存在：01a24721-…/2026': a record's id on a Chinese page (issue 17)."""
    ident = "01a24721-343d-725d-9273-832ef388704f"
    gone = {"code": "order.not_found", "message_zh": f"订单不存在：{ident}", "message_en": f"order {ident} does not exist", "details": {"id": ident}}
    assert ApiError(404, gone).message("zh") == "订单不存在"
    assert ApiError(404, gone).message("en") == "order does not exist"
    rect = {"code": "rectification.not_found", "message_zh": f"整改要求不存在：{ident}/2026", "message_en": "x", "details": {"id": f"{ident}/2026"}}
    assert ApiError(404, rect).message("zh") == "整改要求不存在"
    # only the id: a service's words that are nothing else fall back to the status's
    assert ApiError(404, {"code": "x.not_found", "message_zh": ident, "details": {"id": ident}}).message("zh") == "页面或记录不存在"


def test_validation_errors_are_chinese_at_their_fields() -> None:
    """A price typed as text: the services say '(expected an integer number of fen)'."""
    err = ApiError(
        400,
        {
            "code": "request.invalid",
            "message_zh": "金额必须是以“分”为单位的整数（不能是字符串或小数）：amount_fen",
            "message_en": "amounts are integers of fen",
            "errors": [{"key": "amount_fen", "message": "expected an integer number of fen"}, {"key": "$.quantity", "message": "Expected `int`, got `str`"}],
        },
    )
    zh = err.field_errors("zh")
    assert zh == {"amount_fen": "请填写金额（元，最多两位小数）", "quantity": "请填写整数"}
    assert err.message("zh") == "请求无效，请检查填写的内容"  # not the API's field keys
    assert err.field_errors("en")["quantity"] == "enter a whole number"
    missing = ApiError(400, {"code": "x.y", "message_zh": "缺少材料", "details": {"missing": ["contract"]}})
    assert missing.field_errors("zh") == {"contract": "此项必填"}
    assert ApiError(422, {"code": "decision.reason_required", "message_zh": "退回须说明理由"}).field_errors("zh") == {"reason": "退回须说明理由"}


def test_times_are_beijing_time() -> None:
    assert local_time("2026-11-27T12:15:00Z") == "2026-11-27 20:15"
    assert local_time("2026-11-27T12:15:00+00:00") == "2026-11-27 20:15"
    assert local_time("2026-12-31T16:30:00") == "2027-01-01 00:30"  # unzoned: the services' UTC
    assert local_time("2026-11-27") == "2026-11-27" and local_time(None) == "—"
    locked = ApiError(423, {"code": "auth.account_locked", "message_zh": "账号已锁定至 2026-11-27T12:15:00+00:00（UTC）"})
    assert locked.message("zh") == "账号已锁定至 2026-11-27 20:15（北京时间）"


Route = Callable[[httpx.Request], httpx.Response | None]


def _app(tmp_path: Path, route: Route) -> tuple[Settings, Any]:
    settings = Settings(data_dir=tmp_path, demo=False)

    def upstream(request: httpx.Request) -> httpx.Response:
        answer = route(request)
        return answer if answer is not None else httpx.Response(404, json={"code": "request.not_found", "message_zh": "请求的地址或对象不存在"})

    app = create_app(settings, transport=httpx.MockTransport(upstream), upstreams={s: f"http://{s}.svc" for s in SERVICES})
    return settings, app


def _signed_in(c: TestClient, settings: Settings, role: str, org: str | None = None) -> str:  # type: ignore[type-arg]
    c.cookies.set("xciss_session", issue_token(settings, subject=f"demo-{role}", role=role, org=org, ttl_s=600))
    c.get("/")
    return str(c.cookies.get("xciss_csrf"))


def test_unknown_addresses_and_failures_get_the_portals_chinese_pages_the_api_keeps_json(tmp_path: Path) -> None:
    def route(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/v1/orders/o1":
            raise RuntimeError("an unexpected failure")
        return None

    settings, app = _app(tmp_path, route)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/no/such/page")
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "您访问的页面或记录不存在" in r.text and '"code"' not in r.text and "request.not_found" not in r.text
        assert "Not found" in c.get("/no/such/page?lang=en").text
        r = c.get("/api/nosuchservice/v1/x")
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json") and r.json()["code"] == "gateway.unknown_service"
        assert c.get("/api/openapi.json/nope").headers["content-type"].startswith("application/problem+json")
        _signed_in(c, settings, "user", "u1")
        r = c.get("/orders/o1?lang=zh")
        assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
        assert "系统暂时出现故障" in r.text and "internal.error" not in r.text


def test_too_many_requests_on_a_page_is_a_chinese_page_with_its_retry_after(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, demo=False, gateway_rate_limit_per_minute=2)
    app = create_app(settings, upstreams={s: "http://127.0.0.1:9" for s in SERVICES})
    with TestClient(app) as c:
        answers = [c.get("/signin") for _ in range(3)]
        r = answers[-1]
        assert r.status_code == 429 and r.headers["content-type"].startswith("text/html") and "Retry-After" in r.headers
        assert "请求过于频繁，请稍后再试" in r.text and "request.rate_limited" not in r.text
        r = c.get("/api/registry/v1/units/")
        assert r.status_code == 429 and r.json()["code"] == "request.rate_limited"


def test_a_rejection_without_a_reason_is_refused_at_its_row(tmp_path: Path) -> None:
    calls: list[str] = []

    def route(request: httpx.Request) -> httpx.Response | None:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v1/applications/":
            status = request.url.params.get("status")
            items = [{"application_id": "a1", "order_id": "o1", "user_id": "u1", "amount_fen": 100, "submitted_at": "2026-11-27T01:00:00Z", "status": "submitted", "failures": []}]
            return httpx.Response(200, json={"items": items if status in (None, "submitted") else [], "total": 1})
        return None

    settings, app = _app(tmp_path, route)
    with TestClient(app) as c:
        csrf = _signed_in(c, settings, "center")
        r = c.post("/review/a1/reject", data={"_csrf_token": csrf, "reason": "  "}, follow_redirects=False)
        assert r.status_code == 400
        row = r.text[r.text.index('action="/review/a1/reject"') :].split("</form>")[0]
        assert 'class="field-error"' in row and "驳回申请须填写驳回理由" in row
        assert not any(c.endswith("/reject") for c in calls)  # refused before the service is asked
        assert "2026-11-27 09:00" in r.text  # submitted at, Beijing time


def test_a_cancellation_without_a_reason_is_refused_at_its_field(tmp_path: Path) -> None:
    order = {"order_id": "o1", "unit_id": "unit-1", "user_id": "u1", "status": "requested", "items": [], "documents": [], "amount_fen": 100, "list_amount_fen": 100, "created_at": "2026-11-27T12:15:00Z"}

    def route(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/v1/orders/o1":
            return httpx.Response(200, json=order)
        if request.url.path == "/v1/orders/o1/cancel":
            return httpx.Response(422, json={"code": "decision.reason_required", "message_zh": "取消订单必须填写理由", "message_en": "a cancellation needs a reason"})
        return None

    settings, app = _app(tmp_path, route)
    with TestClient(app) as c:
        csrf = _signed_in(c, settings, "user", "u1")
        for reason, words in (("", "取消订单须填写取消理由"), ("x", "取消订单必须填写理由")):
            r = c.post("/orders/o1/cancel", data={"_csrf_token": csrf, "reason": reason}, follow_redirects=False)
            assert r.status_code in (400, 422), r.status_code
            assert f'<span class="field-error" role="alert" id="cancel-reason-error">{words}</span>' in r.text


def test_scores_above_the_maximum_are_refused_at_their_indicator(tmp_path: Path) -> None:
    assignment = {"assignment_id": "s1", "application_id": "ap1", "role": "technical", "scored_at": None}
    indicators = [{"code": "tech_quality", "name_zh": "服务质量", "name_en": "Quality", "source": "expert", "role": "technical", "max_centi": 1000}]
    sent: list[Any] = []

    def route(request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if path == "/v1/assignments/":
            return httpx.Response(200, json={"items": [assignment], "total": 1})
        if path == "/v1/applications/ap1":
            return httpx.Response(200, json={"application_id": "ap1", "year": 2026, "unit_name": "许昌学院"})
        if path == "/v1/indicator-set/":
            return httpx.Response(200, json={"dimensions": [{"indicators": indicators}]})
        if path == "/v1/assignments/s1/scores":
            sent.append(json.loads(request.content))
            problems = ["tech_quality: 1200 is outside 0..1000"]
            return httpx.Response(422, json={"code": "score.sheet_invalid", "message_zh": "评分表不完整或分值超出范围", "details": {"problems": problems}})
        return None

    settings, app = _app(tmp_path, route)
    with TestClient(app) as c:
        csrf = _signed_in(c, settings, "expert", "e1")
        r = c.post("/expert/assignments/s1", data={"_csrf_token": csrf, "score:tech_quality": "12", "onsite_date": "2026-11-20", "findings": "ok"}, follow_redirects=False)
        assert r.status_code == 422 and sent[0]["scores"] == {"tech_quality": 1200}
        field = r.text[r.text.index('name="score:tech_quality"') :].split("</label>")[0]
        assert "分值须在 0 至 10.00 分之间" in field
