"""The review queues and registration in the portal (issue 9): a new enterprise
registers through /register (a missing credit code refused next to its field),
the center verifies it in /review/users; unit applications created over the
API are decided by the bureau in /review/units, a rejection without a reason
refused next to the reason; the center rejects a voucher application with a
reason, the user appeals, the bureau overturns (R19(2)). Its own module: its own platform."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import apply_for_voucher, sign_in_as, submit
from tests.support.codes import credit_code

pytestmark = pytest.mark.browser

ENTERPRISE = "许昌测试注册新材料有限公司"


def test_user_registers_and_center_verifies(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    # signed out: the page explains that registering needs a signed-in account
    visitor = new_page()
    visitor.goto("/register")
    assert visitor.locator("#signin-first").count() == 1

    user = new_page()
    sign_in_as(user, "user")
    user.get_by_role("link", name="用户注册").click()
    form = user.locator("#register-form")
    form.get_by_label("企业或团队名称").fill(ENTERPRISE)
    form.get_by_label("企业", exact=True).check()
    form.get_by_label("高新技术企业").check()
    submit(user, "#register-form")
    # no credit code: refused next to the field, in Chinese, the other fields kept
    err = user.locator("#register-form label", has_text="统一社会信用代码").first.locator(".field-error")
    assert err.count() == 1, user.inner_text("main")
    assert "信用代码" in err.inner_text()
    assert user.locator("#register-form input[name=name]").input_value() == ENTERPRISE
    assert user.locator("#register-form input[value=high_tech]").is_checked()
    screenshot(user, "30-register")
    user.locator("#register-form input[name=credit_code]").fill(credit_code("411002"))
    submit(user, "#register-form")
    assert user.locator("#registered").count() == 1, user.inner_text("main")
    assert "待审核" in user.inner_text("#registration")

    center = new_page()
    sign_in_as(center, "center")
    center.get_by_role("link", name="用户注册审核").click()
    row = center.locator("#users tbody tr", has_text=ENTERPRISE)
    assert "高新技术企业" in row.inner_text()
    screenshot(center, "28-review-users")
    row.locator("form[action$='/verify'] button[type=submit]").click()
    center.wait_for_load_state()
    assert center.locator(".alert").count() == 0, center.inner_text("main")
    assert center.locator("#users tbody tr", has_text=ENTERPRISE).count() == 0
    center.goto("/review/users?verified=true")
    assert "已审核" in center.locator("#users tbody tr", has_text=ENTERPRISE).inner_text()


def test_bureau_decides_unit_applications(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    names = ["许昌测试检测研究院", "许昌测试分析中心"]

    async def apply() -> None:
        for name in names:
            body = {"name": name, "kind": "institute", "credit_code": credit_code("411003"), "county_code": "411003", "department": "建安区科技局"}
            r = await portal.platform.call("registry", "POST", "/v1/units/", role="unit", json=body)
            assert r.status_code == 201, r.text

    portal.run(apply())
    bureau = new_page()
    sign_in_as(bureau, "bureau")
    bureau.get_by_role("link", name="单位入驻审核").click()
    row = bureau.locator("#units tbody tr", has_text=names[1])
    assert "待审核" in row.inner_text()
    # a rejection without a reason is refused next to the reason
    row.locator("form[action$='/reject'] button[type=submit]").click()
    bureau.wait_for_load_state()
    row = bureau.locator("#units tbody tr", has_text=names[1])
    assert "理由" in row.locator(".field-error").inner_text(), bureau.inner_text("main")
    screenshot(bureau, "29-review-units")
    row.get_by_label("驳回理由").fill("专职技术人员不足")
    row.locator("form[action$='/reject'] button[type=submit]").click()
    bureau.wait_for_load_state()
    assert bureau.locator("#units tbody tr", has_text=names[1]).count() == 0, bureau.inner_text("main")
    bureau.locator("#units tbody tr", has_text=names[0]).locator("form[action$='/approve'] button[type=submit]").click()
    bureau.wait_for_load_state()
    assert bureau.locator(".alert").count() == 0, bureau.inner_text("main")
    bureau.goto("/review/units?status=approved")
    assert "已通过" in bureau.locator("#units tbody tr", has_text=names[0]).inner_text()
    bureau.goto("/review/units?status=rejected")
    assert bureau.locator("#units tbody tr", has_text=names[1]).count() == 1

    # the center may look but not decide
    center = new_page()
    sign_in_as(center, "center")
    center.goto("/review/units?status=all")
    assert center.locator("#units tbody tr", has_text=names[0]).count() == 1
    assert center.locator("#units form[action$='/approve']").count() == 0


async def _contracted_order(portal: RunningPortal) -> str:
    """A contracted order of the demo user with the demo unit, set up over the registry API."""
    from tests.support.registry import World

    p = portal.platform
    units = (await p.call("registry", "GET", "/v1/units/", params={"page_size": 100})).json()["items"]
    unit = next(u["unit_id"] for u in units if u["name"] == "许昌学院")
    users = (await p.call("registry", "GET", "/v1/users/", role="center", params={"page_size": 100})).json()["items"]
    user = next(u["user_id"] for u in users if u["name"] == "许昌智造科技有限公司")
    found = (await p.call("registry", "GET", "/v1/catalogue/instruments", params={"q": "衍射", "unit_id": unit})).json()["items"]
    iid = found[0]["instrument_id"]
    pid = (await p.call("registry", "GET", f"/v1/instruments/{iid}/prices")).json()["items"][0]["price_item_id"]
    # World.quoted gives a reason, as a quote above the published list needs one (M11(4))
    return await World(p, unit, user, iid, pid).contracted()


def test_rejection_appeal_and_overturn(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    """The center rejects an application with a reason, the user appeals, the bureau overturns (R19(2))."""
    oid = portal.run(_contracted_order(portal))
    user, center, bureau = new_page(), new_page(), new_page()
    sign_in_as(user, "user")
    sign_in_as(center, "center")
    sign_in_as(bureau, "bureau")

    apply_for_voucher(user, f"/orders/{oid}")
    center.goto("/review")
    row = center.locator("#queue tbody tr", has=center.locator(f"a[href='/orders/{oid}']"))
    row.get_by_label("理由").fill("研发证明材料不清晰")
    row.get_by_role("button", name="驳回").click()
    assert center.locator(".flash").count() == 1

    user.goto("/vouchers")
    row = user.locator("table.list tbody tr", has=user.locator(f"a[href='/orders/{oid}']")).first
    assert "已驳回" in row.inner_text() and "研发证明材料不清晰" in row.inner_text()
    row.get_by_label("理由").fill("已补充完整的研发项目立项文件")
    row.get_by_role("button", name="申请复议").click()
    assert user.locator(".flash").count() == 1

    bureau.goto("/review")
    row = bureau.locator("table.list tbody tr", has=bureau.locator(f"a[href='/orders/{oid}']")).first
    assert "已补充完整的研发项目立项文件" in row.inner_text()
    screenshot(bureau, "21-appeals")
    row.get_by_label("理由").first.fill("材料齐全，予以支持")
    row.get_by_role("button", name="撤销驳回").click()
    assert bureau.locator(".flash").count() == 1, bureau.inner_text("main")
    user.goto(f"/orders/{oid}")
    assert "已通过" in user.locator("#application-status").inner_text()
