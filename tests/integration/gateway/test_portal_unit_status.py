"""The bureau suspends, reinstates and disqualifies a unit on its record's page (R27, issue 17):
reached from /review/units by the unit's name; the forms offered are the registry's ``actions``
of the unit for the bureau (a reason asked where the registry requires one): an approved unit is
offered suspension and disqualification (no reinstatement), a suspension without a reason is
refused by the registry, shown at its reason in Chinese (English with ?lang=en), the suspended unit reads 已暂停 and is offered reinstatement; a
disqualification without its confirmation is refused at the checkbox (the reason typed kept); a
reinstatement sent from a page gone stale is refused in words with the status the unit now has;
a disqualified unit reads 已取消资格, is offered nothing (the registry offers none) and has lost its
voucher acceptance. The center, offered nothing by the registry, reads the record without the forms
and is refused the action. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit
from tests.support.portal import csrf_of, error_at, fact, gateway, text_of

SERVICES = ["registry"]


async def test_the_bureau_suspends_reinstates_and_disqualifies_a_unit(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p, name="许昌某材料检测中心")
        r = await p.call("registry", "POST", f"/v1/units/{unit}/voucher-acceptance", role=Role.CENTER,
                         json={"full_time_staff": 3, "service_content": "检测", "service_norms": "规范", "fees_published": True, "no_bad_credit": True})
        assert r.status_code == 200, r.text

        async def status() -> str:
            return str((await p.call("registry", "GET", f"/v1/units/{unit}", role=Role.BUREAU)).json()["status"])

        async def offered(role: Role = Role.BUREAU) -> list[tuple[str, bool]]:
            """The status changes the registry offers ``role`` on the unit, with whether each needs a reason."""
            got = (await p.call("registry", "GET", f"/v1/units/{unit}", role=role)).json()["actions"]
            return [(a["action"], a["reason_required"]) for a in got]

        def forms(page: str) -> list[tuple[str, bool]]:
            """The page's status-change forms, with whether each asks for its reason (``required``)."""
            found = re.findall(r'id="unit-(\w+)-form">.*?<textarea name="\1_reason"([^>]*)>', page, re.S)
            return [(a, " required" in attrs) for a, attrs in found]

        c.cookies.set("xciss_session", p.token(Role.BUREAU))
        listing = (await c.get("/review/units?status=approved")).text
        assert f'<a href="/review/units/{unit}">许昌某材料检测中心</a>' in listing
        url = f"/review/units/{unit}"
        page = (await c.get(url)).text
        assert fact(page, "unit-status").startswith("已通过") and "可接收创新券" in fact(page, "unit-facts")
        assert forms(page) == await offered() == [("suspend", True), ("disqualify", True)]
        assert await offered(Role.CENTER) == []  # the registry offers them to the bureau only

        # a suspension needs its reason: the registry refuses it, shown at its field
        r = await c.post(f"{url}/status/suspend", data={"_csrf_token": csrf_of(page), "suspend_reason": "  "})
        assert r.status_code == 422 and error_at(r.text, "suspend_reason") == "暂停共享必须填写理由", r.text
        r = await c.post(f"{url}/status/suspend?lang=en", data={"_csrf_token": csrf_of(page), "suspend_reason": ""})
        assert error_at(r.text, "suspend_reason") == "suspending a unit's sharing needs a reason"
        await c.get(f"{url}?lang=zh")  # back to Chinese (the language is remembered)
        assert await status() == "approved"
        r = await c.post(f"{url}/status/suspend", data={"_csrf_token": csrf_of(page), "suspend_reason": "检测报告抽查不合格，暂停整改"})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1", r.text
        assert await status() == "suspended"
        page = (await c.get(f"{url}?done=1")).text
        assert "操作成功" in page and fact(page, "unit-status").startswith("已暂停")
        assert forms(page) == await offered() == [("reinstate", False), ("disqualify", True)]

        # a disqualification is confirmed first; the reason typed stays
        r = await c.post(f"{url}/status/disqualify", data={"_csrf_token": csrf_of(page), "disqualify_reason": "出具虚假检测报告"})
        assert r.status_code == 400 and error_at(r.text, "disqualify_confirm") == "请勾选确认后再取消共享资格", r.text
        assert "出具虚假检测报告" in r.text and await status() == "suspended"

        r = await c.post(f"{url}/status/reinstate", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 303 and await status() == "approved"
        # the same reinstatement from the page still showing the suspension: refused in words, the current status named
        r = await c.post(f"{url}/status/reinstate", data={"_csrf_token": csrf_of(page), "reinstate_reason": "整改完成"})
        assert r.status_code == 409, r.text
        assert "该单位的状态已变更为“已通过”" in text_of(r.text) and "illegal_transition" not in r.text and "approved" not in text_of(r.text)

        r = await c.post(f"{url}/status/disqualify", data={"_csrf_token": csrf_of(page), "disqualify_reason": "出具虚假检测报告", "disqualify_confirm": "1"})
        assert r.status_code == 303, r.text
        got = (await p.call("registry", "GET", f"/v1/units/{unit}", role=Role.BUREAU)).json()
        assert got["status"] == "disqualified" and got["accepts_vouchers"] is False
        page = (await c.get(url)).text
        assert fact(page, "unit-status").startswith("已取消资格") and "尚无接收创新券资格" in fact(page, "unit-facts")
        assert await offered() == [] and "/status/" not in page and 'id="unit-no-actions"' in page

        # the center reads the record, without the forms, and may not change it
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        page = (await c.get(url)).text
        assert "许昌某材料检测中心" in page and 'id="unit-status-actions"' not in page
        r = await c.post(f"{url}/status/reinstate", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 403
        for role in (Role.UNIT, Role.USER, Role.FINANCE):
            c.cookies.set("xciss_session", p.token(role, unit if role is Role.UNIT else None))
            assert (await c.get(url)).status_code == 403, role
