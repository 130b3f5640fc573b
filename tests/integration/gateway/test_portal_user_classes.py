"""The center changes a user's classes on a page (R4, R16, issue 17; ``changeUserClasses``):
reached from /review/users; the current classes ticked; no class, no reason and an enterprise
as a start-up team refused at their fields in Chinese, what was ticked kept; a change a colleague
saved meanwhile (If-Match) refused with the record as it now is; saved, the page and the
registry hold the new classes; the bureau reads the page without the form and may not change
it. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.portal import csrf_of, error_at, fact, gateway, version_of
from tests.support.registry import verified_user

SERVICES = ["registry"]


def ticked(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="checkbox" name="{name}" value="([a-z_]+)" checked>', html)


async def test_the_center_changes_a_users_classes(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        user = await verified_user(p, "许昌某智能装备有限公司")

        async def record() -> dict:
            return dict((await p.call("registry", "GET", f"/v1/users/{user}", role=Role.CENTER)).json())

        c.cookies.set("xciss_session", p.token(Role.CENTER))
        listing = (await c.get("/review/users?verified=true")).text
        url = f"/review/users/{user}/classes"
        assert f'href="{url}"' in listing
        page = (await c.get(url)).text
        assert fact(page, "user-classes") == "科技型中小企业" and ticked(page, "classes") == ["tech_sme"]
        form = {"_csrf_token": csrf_of(page), "version": version_of(page, "user-classes-form")}

        r = await c.post(url, data={**form, "reason": "补充认定"})
        assert r.status_code == 422 and error_at(r.text, "classes") == "请至少选择一个类别", r.text
        r = await c.post(url, data={**form, "classes": ["high_tech", "tech_sme"], "special_classes": ["gazelle"], "sound_finances": "1", "reason": " "})
        assert r.status_code == 400 and error_at(r.text, "reason") == "变更用户类别须填写理由", r.text
        assert ticked(r.text, "classes") == ["high_tech", "tech_sme"] and ticked(r.text, "special_classes") == ["gazelle"]
        r = await c.post(url, data={**form, "classes": ["startup_team"], "sound_finances": "1", "reason": "按团队登记"})
        assert r.status_code == 422 and error_at(r.text, "classes") == "企业不能登记为创新创业团队", r.text
        assert (await record())["classes"] == ["tech_sme"]

        # a colleague changes the record meanwhile: the form is shown again with it as it now is
        r = await p.call("registry", "PATCH", f"/v1/users/{user}/classes", role=Role.CENTER, json={"classes": ["above_scale_industrial", "tech_sme"], "reason": "规上认定"})
        assert r.status_code == 200, r.text
        r = await c.post(url, data={**form, "classes": ["high_tech", "tech_sme"], "sound_finances": "1", "reason": "获高新技术企业认定"})
        assert r.status_code == 409 and "已被他人修改" in r.text, r.text
        assert ticked(r.text, "classes") == ["above_scale_industrial", "tech_sme"] and fact(r.text, "user-classes") == "规上工业企业、科技型中小企业"

        form["version"] = version_of(r.text, "user-classes-form")
        r = await c.post(url, data={**form, "classes": ["above_scale_industrial", "high_tech", "tech_sme"], "special_classes": ["gazelle"], "sound_finances": "1", "reason": "获高新技术企业、瞪羚企业认定"})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1", r.text
        got = await record()
        assert got["classes"] == ["above_scale_industrial", "high_tech", "tech_sme"] and got["special_classes"] == ["gazelle"] and got["sound_finances"] is True
        page = (await c.get(f"{url}?done=1")).text
        assert "操作成功" in page and fact(page, "user-classes") == "规上工业企业、高新技术企业、科技型中小企业、瞪羚企业"
        assert "高新技术企业" in (await c.get("/review/users?verified=true")).text

        c.cookies.set("xciss_session", p.token(Role.BUREAU))
        page = (await c.get(url)).text
        assert "瞪羚企业" in fact(page, "user-classes") and 'id="user-classes-form"' not in page
        r = await c.post(url, data={"_csrf_token": csrf_of(page), "classes": ["tech_sme"], "reason": "x"})
        assert r.status_code == 403
        c.cookies.set("xciss_session", p.token(Role.USER, user))
        assert (await c.get(url)).status_code == 403
