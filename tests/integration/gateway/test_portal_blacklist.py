"""The credit blacklist on a page (R26, R27, issue 17): the bureau puts a unit (found by part
of its name) and a user (found by its credit code) on the blacklist with a reason, which the
public list then shows; a party or a reason missing is refused at its field in Chinese; the
bureau takes an entry off with a reason (refused without one, at the row); the unit listed
loses its voucher acceptance; the center and visitors read the list without the forms.
SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, verified_user
from tests.support.portal import csrf_of, error_at, gateway, text_of

SERVICES = ["registry"]


def rows(html: str) -> list[str]:
    table = re.search(r'<table class="list"[^>]* id="blacklist">.*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert table, "no blacklist table"
    return [text_of(r).strip() for r in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.DOTALL) if "colspan" not in r]


async def test_the_bureau_keeps_the_blacklist_on_its_page(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p, name="许昌某检测中心")
        r = await p.call("registry", "POST", f"/v1/units/{unit}/voucher-acceptance", role=Role.CENTER,
                         json={"full_time_staff": 3, "service_content": "检测", "service_norms": "规范", "fees_published": True, "no_bad_credit": True})
        assert r.status_code == 200 and r.json()["accepts_vouchers"] is True, r.text
        user = await verified_user(p, "许昌某科技有限公司")
        code = (await p.call("registry", "GET", f"/v1/users/{user}", role=Role.CENTER)).json()["credit_code"]

        c.cookies.set("xciss_session", p.token(Role.BUREAU))
        page = (await c.get("/blacklist")).text
        assert 'id="blacklist-form"' in page
        r = await c.post("/blacklist", data={"_csrf_token": csrf_of(page), "party_type": "unit", "unit_id_q": "某检测", "reason": ""})
        assert r.status_code == 400 and error_at(r.text, "reason") == "列入诚信黑名单须填写理由", r.text
        r = await c.post("/blacklist", data={"_csrf_token": csrf_of(page), "party_type": "unit", "unit_id_q": "郑州", "reason": "出具虚假检测报告"})
        assert r.status_code == 400 and error_at(r.text, "unit_id") == "找不到名称或统一社会信用代码含“郑州”的单位"
        r = await c.post("/blacklist", data={"_csrf_token": csrf_of(page), "party_type": "unit", "unit_id_q": "某检测", "reason": "出具虚假检测报告"})
        assert r.status_code == 303, r.text
        r = await c.post("/blacklist", data={"_csrf_token": csrf_of(page), "party_type": "user", "user_id_q": code, "reason": "以虚假合同申领创新券"})
        assert r.status_code == 303, r.text
        assert (await p.call("registry", "GET", f"/v1/units/{unit}")).json()["accepts_vouchers"] is False  # a listed unit accepts no vouchers

        c.cookies.clear()
        public = (await c.get("/blacklist")).text
        assert 'id="blacklist-form"' not in public and "/remove" not in public
        listed = rows(public)
        assert len(listed) == 2 and any("许昌某检测中心" in r and "出具虚假检测报告" in r for r in listed) and any("许昌某科技有限公司" in r for r in listed)

        c.cookies.set("xciss_session", p.token(Role.BUREAU))
        page = (await c.get("/blacklist")).text
        entry = re.search(r'action="/blacklist/([^/"]+)/remove"[^>]*>(?:(?!</tr>).)*?aria-label="许昌某检测中心 ', page, re.DOTALL)
        assert entry, page
        r = await c.post(f"/blacklist/{entry.group(1)}/remove", data={"_csrf_token": csrf_of(page), "removal_reason": ""})
        assert r.status_code == 400 and error_at(r.text, "removal_reason") == "移出黑名单须填写理由"
        r = await c.post(f"/blacklist/{entry.group(1)}/remove", data={"_csrf_token": csrf_of(page), "removal_reason": "整改完成，经复核移出"})
        assert r.status_code == 303, r.text
        left = rows((await c.get("/blacklist")).text)
        assert len(left) == 1 and left[0].startswith("许昌某科技有限公司"), left

        c.cookies.set("xciss_session", p.token(Role.CENTER))
        page = (await c.get("/blacklist")).text
        assert 'id="blacklist-form"' not in page and len(rows(page)) == 1
        r = await c.post("/blacklist", data={"_csrf_token": csrf_of(page), "party_type": "unit", "unit_id_q": "某检测", "reason": "x"})
        assert r.status_code == 403
