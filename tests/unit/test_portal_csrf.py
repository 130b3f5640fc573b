"""The portal's forms are guarded by Litestar's CSRF middleware (portal/csrf.py):
what a visitor and an attacker's page notice."""

from __future__ import annotations

import re
from pathlib import Path

from litestar.middleware.csrf import generate_csrf_token
from litestar.testing import TestClient

from services.gateway.app import create_app
from services.gateway.portal.csrf import COOKIE, csrf_config
from services.runtime.settings import Settings

DOWN = {s: "http://127.0.0.1:9" for s in ("registry", "vouchers", "evaluation", "payments")}


def _client(settings: Settings) -> TestClient:  # type: ignore[type-arg]
    return TestClient(create_app(settings, upstreams=DOWN))


def test_a_form_carries_the_token_its_cookie_signs_and_a_forged_one_is_refused_in_chinese(tmp_path: Path) -> None:
    with _client(Settings(data_dir=tmp_path, demo=True)) as c:
        page = c.get("/signin")
        field = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert field and field.group(1) == c.cookies.get(COOKIE)
        assert "httponly" in page.headers["set-cookie"].lower() and "samesite=lax" in page.headers["set-cookie"].lower()
        for forged in ("forged", "", generate_csrf_token("another deployment's secret")):
            r = c.post("/signin/demo", data={"_csrf_token": forged, "role": "center"}, follow_redirects=False)
            assert r.status_code == 403 and "表单已过期，请刷新页面后重试" in r.text and 'data-code="portal.csrf"' in r.text, forged
            assert "xciss_session" not in r.headers.get("set-cookie", "")
        r = c.post("/signin/demo?lang=en", data={"_csrf_token": "forged", "role": "center"}, follow_redirects=False)
        assert r.status_code == 403 and "The form has expired; reload the page and try again" in r.text
        # the token in a header does as well (Litestar's X-CSRFToken), for a script of this site
        r = c.post("/signout", headers={"X-CSRFToken": field.group(1)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        # and the form's field, of course
        assert c.post("/signout", data={"_csrf_token": field.group(1)}, follow_redirects=False).status_code == 303


def test_a_token_from_a_cookie_it_does_not_match_is_refused(tmp_path: Path) -> None:
    """The attacker's own valid token (from their own visit) does not pass with the victim's cookie."""
    settings = Settings(data_dir=tmp_path, demo=True)
    theirs = generate_csrf_token(csrf_config(settings).secret)
    with _client(settings) as c:
        c.get("/signin")
        r = c.post("/signin/demo", data={"_csrf_token": theirs, "role": "center"}, follow_redirects=False)
        assert r.status_code == 403


def test_two_gateway_replicas_accept_each_others_forms(tmp_path: Path) -> None:
    """The secret is derived from the PII key the replicas share, not made per process."""
    settings = Settings(data_dir=tmp_path, demo=True, pii_secret="shared-key")
    with _client(settings) as a, _client(settings) as b:
        a.get("/signin")
        token = a.cookies.get(COOKIE)
        b.cookies.set(COOKIE, token)
        r = b.post("/signout", data={"_csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303


def test_the_cookie_is_secure_behind_https_and_the_api_is_not_guarded(tmp_path: Path) -> None:
    with _client(Settings(data_dir=tmp_path, public_url="https://kjcx.xuchang.gov.cn")) as c:
        assert "secure" in c.get("/signin").headers["set-cookie"].lower()
        # the API's callers send bearer tokens, never cookies: no form token asked of them
        r = c.post("/api/registry/v1/sessions", json={"username": "x", "password": "y"})
        assert r.status_code != 403 and r.json().get("code") != "portal.csrf"
    with _client(Settings(data_dir=tmp_path)) as c:
        assert "secure" not in c.get("/signin").headers["set-cookie"].lower()
