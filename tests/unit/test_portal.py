"""The portal's small pieces: money in fen, yuan parsed exactly, problems
mapped to fields, demo sign-in only when the setting says so."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from services.gateway.app import create_app
from services.gateway.portal.client import ApiError
from services.gateway.portal.routes import money, yuan_to_fen
from services.runtime.settings import Settings


def test_money_and_yuan() -> None:
    assert money(123456) == "¥1,234.56" and money(5) == "¥0.05" and money(None) == "—"
    assert yuan_to_fen("1000") == 100_000 and yuan_to_fen("1,234.5") == 123_450 and yuan_to_fen("0.07") == 7
    assert yuan_to_fen("1.234") == "1.234" and yuan_to_fen("一千") == "一千"  # left for the API to refuse by field


def test_problems_name_their_fields() -> None:
    err = ApiError(400, {"code": "request.invalid", "message_zh": "请求无效", "message_en": "invalid", "errors": [{"key": "$.amount_fen", "message": "expected an integer"}]})
    assert err.field_errors("en") == {"amount_fen": "expected an integer"}
    assert "expected an integer" in err.field_errors("zh")["amount_fen"]
    assert err.message("zh") == "请求无效" and err.message("en") == "invalid"
    refused = ApiError(422, {"code": "voucher.user_not_verified", "message_zh": "用户未核验", "details": {"failures": ["voucher.user_not_verified"]}})
    assert "voucher.user_not_verified" in refused.message("zh")


def _client(tmp_path: Path, *, demo: bool) -> TestClient:  # type: ignore[type-arg]
    settings = Settings(data_dir=tmp_path, jwt_secret="test-secret-key-that-is-long-enough-for-hs256", demo=demo)
    # no service answers: public pages degrade, the sign-in form still renders
    return TestClient(create_app(settings, upstreams={s: "http://127.0.0.1:9" for s in ("registry", "vouchers", "evaluation", "payments")}))


def test_demo_sign_in_only_when_enabled(tmp_path: Path) -> None:
    with _client(tmp_path, demo=False) as c:
        r = c.get("/signin")
        assert r.status_code == 200 and "演示账号" not in r.text and 'name="csrf"' in r.text
        csrf = c.cookies.get("xciss_csrf")
        assert csrf
        r = c.post("/signin/demo", data={"csrf": csrf, "role": "center"}, follow_redirects=False)
        assert r.status_code == 404
        r = c.post("/signin/demo", data={"csrf": "forged", "role": "center"}, follow_redirects=False)
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
