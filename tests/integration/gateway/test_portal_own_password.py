"""Changing one's own password in the portal (issue 17): a signed-in finance officer opens
/account/password from the header; a wrong current password is refused at its field, a weak
new one at the new password's field with the rule it fails, two that differ at the second;
then the change: the new password signs in, the old one no longer does, and the passwords
are never put back into the page. SQLite and PostgreSQL."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.portal import error_at, gateway, post

SERVICES = ["registry"]
OLD, NEW = "Caizheng-Mima-2026!", "Xin-Caizheng-2026#ok"


async def test_an_officer_changes_its_own_password(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        body = {"username": "li.si", "password": OLD, "role": "finance"}
        assert (await p.call("registry", "POST", "/v1/accounts/", role=Role.SYSADMIN, json=body)).status_code == 201
        r = await post(c, "/signin", "/signin", {"username": "li.si", "password": OLD})
        assert r.status_code == 303, r.text
        assert 'href="/account/password"' in (await c.get("/notifications")).text

        url = "/account/password"
        r = await post(c, url, url, {"old_password": "wrong-Password-1", "new_password": NEW, "new_password_confirm": NEW})
        assert r.status_code == 403 and error_at(r.text, "old_password") == "当前密码不正确", r.text
        assert NEW not in r.text and "wrong-Password-1" not in r.text
        r = await post(c, url, url, {"old_password": OLD, "new_password": "short1A!", "new_password_confirm": "short1A!"})
        assert r.status_code == 422 and "至少 10 个字符" in error_at(r.text, "new_password"), r.text
        r = await post(c, url, url, {"old_password": OLD, "new_password": NEW, "new_password_confirm": NEW + "x"})
        assert r.status_code == 422 and error_at(r.text, "new_password_confirm") == "两次输入的密码不一致"
        r = await post(c, url, url, {"old_password": OLD, "new_password": NEW, "new_password_confirm": NEW})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1", r.text
        assert (await c.get("/notifications")).status_code == 200  # this session goes on

        r = await p.call("registry", "POST", "/v1/sessions", json={"username": "li.si", "password": OLD})
        assert r.status_code == 401
        r = await p.call("registry", "POST", "/v1/sessions", json={"username": "li.si", "password": NEW})
        assert r.status_code == 201, r.text
        c.cookies.clear()
        assert (await c.get(url, follow_redirects=False)).status_code in (302, 303)  # signed out: to the sign-in page
