"""A unit's approval to accept vouchers on a page (R18, issue 17): the center opens it from
/review/units, enters the R18 evidence; a unit without staff, published fees and a clean
record is refused with each condition at its field in Chinese (nothing granted); with the
evidence it is granted and the units list marks it; the bureau revokes it with a reason (a
revocation without one is refused at its field); another role is refused. SQLite and
PostgreSQL."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit
from tests.support.portal import csrf_of, error_at, gateway

SERVICES = ["registry"]


async def test_the_center_grants_and_the_bureau_revokes_a_units_voucher_acceptance(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p, name="许昌检测研究院")
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        listing = (await c.get("/review/units?status=approved")).text
        assert f'href="/review/units/{unit}/vouchers"' in listing
        url = f"/review/units/{unit}/vouchers"
        page = (await c.get(url)).text
        assert "尚无接收创新券资格" in page and 'id="acceptance-revoke-form"' not in page

        # no staff, fees not published, credit not verified: each condition at its field, nothing granted
        r = await c.post(f"{url}/grant", data={"_csrf_token": csrf_of(page), "full_time_staff": "0", "service_content": "材料成分分析", "service_norms": "按 CMA 规范出具报告"})
        assert r.status_code == 422, r.text
        assert error_at(r.text, "full_time_staff") == "专职技术人员人数不足"
        assert error_at(r.text, "fees_published") == "收费标准未公开" and error_at(r.text, "no_bad_credit") == "存在不良信用记录"
        assert "按 CMA 规范出具报告" in r.text  # what was typed stays
        assert (await p.call("registry", "GET", f"/v1/units/{unit}")).json()["accepts_vouchers"] is False
        r = await c.post(f"{url}/grant", data={"_csrf_token": csrf_of(page), "full_time_staff": "三人", "service_content": "x", "service_norms": "y", "fees_published": "1", "no_bad_credit": "1"})
        assert r.status_code == 400 and error_at(r.text, "full_time_staff") == "请填写整数", r.text

        evidence = {"full_time_staff": "6", "service_content": "材料成分分析", "service_norms": "按 CMA 规范出具报告", "fees_published": "1", "no_bad_credit": "1"}
        r = await c.post(f"{url}/grant", data={"_csrf_token": csrf_of(page), **evidence})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1", r.text
        assert (await p.call("registry", "GET", f"/v1/units/{unit}")).json()["accepts_vouchers"] is True
        page = (await c.get(url)).text
        assert "可接收创新券" in page and 'id="acceptance-revoke-form"' in page

        # the bureau revokes: a reason is required
        c.cookies.set("xciss_session", p.token(Role.BUREAU))
        page = (await c.get(url)).text
        r = await c.post(f"{url}/revoke", data={"_csrf_token": csrf_of(page), "revoke_reason": " "})
        assert r.status_code == 400 and error_at(r.text, "revoke_reason") == "撤销接收资格须填写理由", r.text
        r = await c.post(f"{url}/revoke", data={"_csrf_token": csrf_of(page), "revoke_reason": "抽查发现收费标准未公开"})
        assert r.status_code == 303, r.text
        assert (await p.call("registry", "GET", f"/v1/units/{unit}")).json()["accepts_vouchers"] is False

        for role in (Role.UNIT, Role.FINANCE, Role.USER):
            c.cookies.set("xciss_session", p.token(role, unit if role is Role.UNIT else None))
            assert (await c.get(url)).status_code == 403, role
