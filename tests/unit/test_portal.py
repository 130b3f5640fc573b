"""The portal's small pieces: money in fen, yuan parsed exactly, problems
mapped to fields, demo sign-in only when the setting says so."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from litestar.testing import TestClient

from services.gateway.app import create_app
from services.gateway.portal.client import ApiError
from services.gateway.portal.routes import money, yuan_to_fen
from services.runtime.http.auth import issue_token
from services.runtime.settings import Settings


def test_money_and_yuan() -> None:
    assert money(123456) == "¥1,234.56" and money(5) == "¥0.05" and money(None) == "—"
    assert yuan_to_fen("1000") == 100_000 and yuan_to_fen("1,234.5") == 123_450 and yuan_to_fen("0.07") == 7
    assert yuan_to_fen("1.234") == "1.234" and yuan_to_fen("一千") == "一千"  # left for the API to refuse by field
    assert yuan_to_fen("1,2") == "1,2" and yuan_to_fen("1e3") == "1e3"  # not a grouping of thousands, not plain yuan
    assert yuan_to_fen(" 12,345.67 ") == 1_234_567 and yuan_to_fen("-5") == -500  # a negative amount is the API's to refuse at its field
    assert money(-150) == "¥-1.50"  # the sign before the number, not ¥-2.50


def test_problems_name_their_fields() -> None:
    err = ApiError(400, {"code": "request.invalid", "message_zh": "请求无效", "message_en": "invalid", "errors": [{"key": "$.amount_fen", "message": "expected an integer"}]})
    assert err.field_errors("en") == {"amount_fen": "enter an amount in yuan, at most two decimals"}
    assert err.field_errors("zh") == {"amount_fen": "请填写金额（元，最多两位小数）"}
    assert err.message("zh") == "请求无效，请检查填写的内容"
    refused = ApiError(422, {"code": "voucher.user_not_verified", "message_zh": "用户未核验", "details": {"failures": ["voucher.user_not_verified"]}})
    assert refused.message("zh") == "用户未核验"  # the code never reaches the page


def _client(tmp_path: Path, *, demo: bool) -> TestClient:  # type: ignore[type-arg]
    settings = Settings(data_dir=tmp_path, demo=demo)
    # no service answers: public pages degrade, the sign-in form still renders
    return TestClient(create_app(settings, upstreams={s: "http://127.0.0.1:9" for s in ("registry", "vouchers", "evaluation", "payments")}))


def test_demo_sign_in_only_when_enabled(tmp_path: Path) -> None:
    with _client(tmp_path, demo=False) as c:
        r = c.get("/signin")
        assert r.status_code == 200 and "演示账号" not in r.text and 'name="_csrf_token"' in r.text
        csrf = c.cookies.get("xciss_csrf")
        assert csrf
        r = c.post("/signin/demo", data={"_csrf_token": csrf, "role": "center"}, follow_redirects=False)
        assert r.status_code == 404
        r = c.post("/signin/demo", data={"_csrf_token": "forged", "role": "center"}, follow_redirects=False)
        assert r.status_code == 403
    with _client(tmp_path, demo=True) as c:
        assert "演示账号" in c.get("/signin").text


def test_pages_render_when_the_services_are_down(tmp_path: Path) -> None:
    with _client(tmp_path, demo=False) as c:
        r = c.get("/")
        assert r.status_code == 200 and "许昌市科研设施和仪器开放共享平台" in r.text
        assert c.get("/?lang=en").text.count("Xuchang Research Instrument Sharing Platform") >= 1
        assert c.get("/orders", follow_redirects=False).status_code in (302, 303)
        assert c.get("/static/portal.css").headers["content-type"].startswith("text/css")


def test_sign_in_refusals_are_shown_with_their_status_and_sign_out_ends_the_session(tmp_path: Path) -> None:
    """401, 423 and 429 from POST /v1/sessions next to the form; the token in
    the cookie; sign-out calls DELETE /v1/sessions/current with it."""
    settings = Settings(data_dir=tmp_path, demo=False)
    token = issue_token(settings, subject="demo-center", role="center", ttl_s=600, session_id="s1")
    answers = {
        "wrong": httpx.Response(401, json={"code": "auth.invalid_credentials", "message_zh": "用户名或密码错误"}),
        "locked": httpx.Response(423, json={"code": "auth.account_locked", "message_zh": "账号已锁定至 2026-11-27T12:15:00+00:00（UTC）"}),
        "busy": httpx.Response(429, json={"code": "request.rate_limited", "message_zh": "请求过于频繁，请稍后再试"}),
        "right": httpx.Response(201, json={"token": token, "token_type": "Bearer", "expires_at": "2099-01-01T00:00:00Z", "role": "center", "org": None, "session_id": "s1"}),
    }
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST" and request.url.path == "/v1/sessions":
            return answers[json.loads(request.content)["password"]]
        if request.method == "DELETE" and request.url.path == "/v1/sessions/current":
            return httpx.Response(204)
        return httpx.Response(404, json={"code": "not_found"})

    app = create_app(settings, transport=httpx.MockTransport(upstream), upstreams={s: f"http://{s}.svc" for s in ("registry", "vouchers", "evaluation", "payments")})
    with TestClient(app) as c:
        c.get("/signin")
        csrf = c.cookies.get("xciss_csrf")
        for password, status, words in [("wrong", 401, "用户名或密码错误"), ("locked", 423, "账号已锁定至"), ("busy", 429, "请求过于频繁")]:
            r = c.post("/signin", data={"_csrf_token": csrf, "username": "demo-center", "password": password}, follow_redirects=False)
            assert r.status_code == status and 'id="signin-error"' in r.text and words in r.text, (password, r.status_code)
            assert 'value="demo-center"' in r.text
        r = c.post("/signin", data={"_csrf_token": csrf, "username": "demo-center", "password": "right"}, follow_redirects=False)
        assert r.status_code == 303 and c.cookies.get("xciss_session") == token
        r = c.post("/signout", data={"_csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303 and not c.cookies.get("xciss_session")
    revoked = [q for q in seen if q.method == "DELETE"]
    assert len(revoked) == 1 and revoked[0].url.path == "/v1/sessions/current" and revoked[0].headers["authorization"] == f"Bearer {token}"


def test_the_unit_and_expert_pages_need_their_role_and_render_with_the_services_down(tmp_path: Path) -> None:
    """Issue 9's evaluation, payee and prices pages: signed-out visitors are sent to sign in,
    another role is refused, the unit's pages render (empty) when no service answers."""
    settings = Settings(data_dir=tmp_path, demo=False)
    with _client(tmp_path, demo=False) as c:
        for path in ("/unit/evaluation", "/unit/payee", "/unit/prices", "/expert/assignments/a1"):
            assert c.get(path, follow_redirects=False).status_code in (302, 303), path
        c.cookies.set("xciss_session", issue_token(settings, subject="u", role="unit", org="unit-1", ttl_s=600))
        r = c.get("/unit/evaluation")
        assert r.status_code == 200 and "本年度绩效评价尚未启动" in r.text
        r = c.get("/unit/payee?lang=en")
        assert r.status_code == 200 and "No payee account yet" in r.text and 'name="_csrf_token"' in r.text
        assert c.get("/unit/prices").status_code == 200
        assert c.get("/expert/assignments/a1").status_code == 403
        r = c.post("/queue/a1/forward", data={"_csrf_token": "forged"}, follow_redirects=False)
        assert r.status_code == 403


def test_adding_a_price_on_a_later_page_returns_to_that_page(tmp_path: Path) -> None:
    """Issue 17: the unit adds a price to an instrument of page 2 of its list; the form posts to
    page 2 and the unit lands on page 2 again, where the instrument is, not on page 1."""
    settings = Settings(data_dir=tmp_path, demo=False)
    posted: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path == "/v1/instruments/":
            page = int(request.url.params["page"])
            return httpx.Response(200, json={"items": [{"instrument_id": f"i-{page}", "name": f"仪器{page}"}], "total": 45, "page": page})
        if request.method == "GET" and path.endswith("/prices"):
            return httpx.Response(200, json={"items": [], "total": 0})
        if request.method == "POST" and path.endswith("/prices"):
            posted.append(request)
            return httpx.Response(201, json={"price_id": "p1"})
        return httpx.Response(404, json={"code": "not_found"})

    app = create_app(settings, transport=httpx.MockTransport(upstream), upstreams={s: f"http://{s}.svc" for s in ("registry", "vouchers", "evaluation", "payments")})
    with TestClient(app) as c:
        c.cookies.set("xciss_session", issue_token(settings, subject="u", role="unit", org="unit-1", ttl_s=600))
        page2 = c.get("/unit/prices?page=2")
        assert page2.status_code == 200 and 'action="/unit/prices?page=2"' in page2.text and "仪器2" in page2.text
        assert 'action="/unit/prices"' in c.get("/unit/prices").text  # page 1 posts to the page itself
        form = {"_csrf_token": c.cookies.get("xciss_csrf"), "instrument_id": "i-2", "name": "测试", "billing_unit": "per_sample", "price": "120", "basis": "cost_compensation"}
        r = c.post("/unit/prices?page=2", data=form, follow_redirects=False)
        assert r.status_code in (302, 303) and r.headers["location"] == "/unit/prices?page=2&done=1", r.headers.get("location")
        assert len(posted) == 1 and posted[0].url.path == "/v1/instruments/i-2/prices" and json.loads(posted[0].content)["price_fen"] == 12000
