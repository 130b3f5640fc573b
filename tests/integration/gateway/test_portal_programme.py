"""The year's voucher programme on a page (R15, issue 17), through the gateway and the real
vouchers service: the bureau opens a year with its budget, rate, caps, appeal window and
classes; a missing budget, a rate above 100%, an appeal window beyond a year, a year out of
range, an amount with three decimals and a negative cap are each refused at their field in
Chinese; the opened year's terms are shown as the service holds them; opening it again is
refused at the year; the next year's form starts from this year's terms and, left as
typed, opens with them; the center reads the terms without the form. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.vouchers import YEAR
from tests.support.portal import as_party, error_at, fact, gateway, post

SERVICES = ["vouchers"]
GOOD = {"year": str(YEAR), "budget": "5000000", "rate": "25", "cap": "40000", "special_cap": "80000", "appeal_window_days": "20"}


def value_of(html: str, name: str) -> str:
    found = re.search(rf'<input name="{name}"[^>]*value="([^"]*)"', html)
    assert found, f"no field {name}"
    return found.group(1)


async def test_the_bureau_opens_the_years_programme_on_a_page(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as c:
        as_party(c, p, Role.BUREAU)
        page = (await c.get(f"/programme?year={YEAR}")).text
        assert fact(page, "programme-none") == f"{YEAR} 年度尚未开放创新券计划。" and 'id="programme-form"' in page

        async def refused(field: str, **typed: str) -> str:
            r = await post(c, f"/programme?year={YEAR}", f"/programme?year={YEAR}", {**GOOD, **typed})
            assert r.status_code in (400, 422), r.text
            assert value_of(r.text, "cap") == typed.get("cap", GOOD["cap"])  # what was typed stays
            return error_at(r.text, field)

        assert await refused("budget_fen", budget="") == "此项必填"
        assert await refused("rate_bp", rate="120") == "请填写 0 至 100 之间的百分比，最多两位小数"
        assert await refused("appeal_window_days", appeal_window_days="400") == "请填写 0 至 365 之间的整数天数"
        assert await refused("year", year="2000") == "请填写 2023 至 2100 之间的年度"
        assert await refused("budget_fen", budget="100.125") == "请填写金额（元，最多两位小数）"
        assert await refused("cap_fen", cap="-5") == "请填写金额（元，最多两位小数）"
        assert (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")).status_code == 404  # nothing opened

        r = await post(c, f"/programme?year={YEAR}", f"/programme?year={YEAR}", {**GOOD, "eligible_classes": ["high_tech", "tech_sme"], "special_classes": ["gazelle"]})
        assert r.status_code == 303 and r.headers["location"] == f"/programme?year={YEAR}&done=1", r.text
        held = (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")).json()
        assert (held["budget_fen"], held["rate_bp"], held["cap_fen"], held["special_cap_fen"], held["appeal_window_days"], held["auto_approve"]) == (
            500_000_000, 2500, 4_000_000, 8_000_000, 20, False)
        assert (held["eligible_classes"], held["special_classes"], held["open"]) == (["high_tech", "tech_sme"], ["gazelle"], True)
        page = (await c.get(f"/programme?year={YEAR}&done=1")).text
        terms = {k: fact(page, f"programme-{k}") for k in ("status", "budget", "rate", "cap", "special-cap", "appeal-window", "classes", "special-classes")}
        assert terms == {"status": "开放申领", "budget": "¥5,000,000.00", "rate": "25%", "cap": "¥40,000.00", "special-cap": "¥80,000.00", "appeal-window": "20 天",
                         "classes": "高新技术企业、科技型中小企业", "special-classes": "瞪羚企业"}, terms
        assert 'id="programme-form"' not in page

        # the same year again (a second tab): refused at the year, in the service's words
        r = await post(c, f"/programme?year={YEAR + 1}", f"/programme?year={YEAR}", GOOD)
        assert r.status_code == 409 and error_at(r.text, "year") == f"{YEAR}年度创新券已开放", r.text

        # the next year's form starts from this year's terms
        page = (await c.get(f"/programme?year={YEAR + 1}")).text
        assert (value_of(page, "rate"), value_of(page, "cap"), value_of(page, "appeal_window_days")) == ("25", "40000.00", "20")
        assert re.search(r'name="special_classes" value="gazelle" checked', page) and not re.search(r'value="innovation_leader" checked', page)

        as_party(c, p, Role.CENTER)
        page = (await c.get(f"/programme?year={YEAR}")).text
        assert fact(page, "programme-rate") == "25%" and 'id="programme-form"' not in page
        r = await post(c, f"/programme?year={YEAR}", f"/programme?year={YEAR + 1}", {**GOOD, "year": str(YEAR + 1)})
        assert r.status_code == 403 and (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR + 1}")).status_code == 404
        as_party(c, p, Role.UNIT, "unit-1")
        assert (await c.get("/programme")).status_code == 403
