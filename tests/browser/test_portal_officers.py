"""The three officers' workspaces in the portal (issue 17; 三员分立, 等保 2.0): the
system administrator creates a business account in /accounts (refused first at
the organisation, then at the password, each next to its field); the security
administrator sees it there, refuses nothing without a confirmation, and
unlocks it after it was locked by wrong passwords over the API, and it signs in
again; the audit administrator filters a service's trail in /audit, reads an
entry's before and after, and sees every chain verified (正常) and then a
tampered row named by its seq (the account it reads about is made, locked and
unlocked over the API by the auditor's test itself, so each test passes alone
and in any order). The officers' accounts are created as ``xciss
up`` creates them; each officer signs in with the form and lands on its page.
Its own module: its own platform (the tampering stays in it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from services.command.demo import DEMO_PASSWORD, create_officer_accounts
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import submit
from tests.support.foreign_text import foreign_text

pytestmark = pytest.mark.browser

NEW_USERNAME = "officer-test-unit"
NEW_PASSWORD = "Xuchang-Officer-2026!"
NEW_NAME = "许昌学院设备处（测试）"
#: the account whose creation, lock and unlock the auditor reads (made by its own test)
AUDITED_USERNAME = "officer-audited-unit"


@pytest.fixture(scope="module", autouse=True)
def officer_accounts(portal: RunningPortal) -> None:
    portal.run(create_officer_accounts(portal.settings))


def sign_in(page: Any, username: str, password: str = DEMO_PASSWORD, lands: str = "/") -> None:
    """The sign-in form (the officers have no demo button); ``lands``: where it goes."""
    page.goto("/signin")
    form = page.locator("form[action='/signin']")
    form.get_by_label("用户名").fill(username)
    form.get_by_label("密码").fill(password)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(lands) + r"(\?.*)?$"))
    assert page.locator(".who").count() == 1, page.inner_text("main")


def api_token(portal: RunningPortal, username: str) -> str:
    r = httpx.post(f"{portal.url}/api/registry/v1/sessions", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def locked_and_unlocked_account(portal: RunningPortal) -> str:
    """Over the API, as the portal's pages would do it: the system administrator
    creates a unit's account, five wrong passwords lock it, the security
    administrator unlocks it with a reason. Its account id."""
    sysadmin = {"Authorization": f"Bearer {api_token(portal, 'demo-sysadmin')}"}
    units = httpx.get(f"{portal.url}/api/registry/v1/units/", params={"page_size": 1}, headers=sysadmin)
    assert units.status_code == 200 and units.json()["items"], units.text
    body = {"username": AUDITED_USERNAME, "password": NEW_PASSWORD, "role": "unit", "org": units.json()["items"][0]["unit_id"], "display_name": NEW_NAME}
    r = httpx.post(f"{portal.url}/api/registry/v1/accounts/", json=body, headers=sysadmin)
    assert r.status_code == 201, r.text
    account_id = str(r.json()["account_id"])
    for attempt in range(1, 6):
        r = httpx.post(f"{portal.url}/api/registry/v1/sessions", json={"username": AUDITED_USERNAME, "password": f"Wrong-Password-{attempt}"})
    assert r.status_code == 423 and r.json()["code"] == "auth.account_locked", r.text
    secadmin = {"Authorization": f"Bearer {api_token(portal, 'demo-secadmin')}"}
    r = httpx.post(f"{portal.url}/api/registry/v1/accounts/{account_id}/unlock", json={"reason": "本人电话确认，忘记密码"}, headers=secadmin)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    return account_id


def test_sysadmin_creates_and_secadmin_unlocks_an_account(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    sysadmin = new_page()
    sign_in(sysadmin, "demo-sysadmin", lands="/accounts")
    assert "系统管理员" in sysadmin.inner_text(".who")
    assert sysadmin.get_by_role("link", name="账号管理").count() == 1
    assert sysadmin.locator("#accounts tbody tr", has_text="demo-user").count() == 1
    form = sysadmin.locator("#account-form")
    # the officers' roles are not offered: the operator creates those accounts
    assert form.locator("select[name=role] option[value=secadmin]").count() == 0
    form.get_by_label("角色").select_option(label="管理单位")
    form.locator("input[name=username]").fill(NEW_USERNAME)
    form.locator("input[name=display_name]").fill(NEW_NAME)
    form.locator("input[name=password]").fill(NEW_PASSWORD)
    submit(sysadmin, "#account-form")
    # a unit's account without its unit: refused at the organisation, what was typed kept
    err = sysadmin.locator("#account-form label", has_text="所属机构").locator(".field-error")
    assert err.count() == 1 and "所属机构" in err.inner_text(), sysadmin.inner_text("main")
    assert sysadmin.locator("#account-form input[name=username]").input_value() == NEW_USERNAME
    assert sysadmin.locator("#account-form select[name=role]").input_value() == "unit"
    unit_name = "许昌学院"  # typed by name: the portal finds the unit (issue 17, unit picker)
    form.locator("input[name=org]").fill(unit_name)
    form.locator("input[name=password]").fill("short")
    submit(sysadmin, "#account-form")
    # a weak password: refused at the password, the failed rules in words
    err = sysadmin.locator("#account-form label", has_text="初始密码").locator(".field-error")
    assert err.count() == 1 and "至少 10 个字符" in err.inner_text(), sysadmin.inner_text("main")
    assert sysadmin.locator("#account-form label", has_text="所属机构").locator(".field-error").count() == 0
    assert sysadmin.locator("#account-form input[name=org]").input_value() == unit_name and sysadmin.locator("#account-form input[name=org_unit]").count() == 1
    assert not foreign_text(sysadmin.inner_text("body")), foreign_text(sysadmin.inner_text("body"))
    screenshot(sysadmin, "50-officers-account-refused")
    form.locator("input[name=password]").fill(NEW_PASSWORD)
    submit(sysadmin, "#account-form")
    assert sysadmin.locator(".flash").count() == 1 and sysadmin.locator(".alert").count() == 0, sysadmin.inner_text("main")
    sysadmin.goto("/accounts?role=unit")
    row = sysadmin.locator("#accounts tbody tr", has_text=NEW_USERNAME)
    assert row.count() == 1 and unit_name in row.inner_text() and "正常" in row.inner_text()
    assert sysadmin.locator("#accounts form").count() == 0  # the system administrator unlocks nothing
    # a user's account names its enterprise, not 8 characters of its id (issue 17)
    sysadmin.goto("/accounts?role=user")
    row = sysadmin.locator("#accounts tbody tr", has_text="demo-user")
    assert row.locator("td.org-name").inner_text() == "许昌智造科技有限公司", row.inner_text()
    assert not foreign_text(sysadmin.inner_text("body")), foreign_text(sysadmin.inner_text("body"))

    # five wrong passwords over the API lock it
    for attempt in range(1, 6):
        r = httpx.post(f"{portal.url}/api/registry/v1/sessions", json={"username": NEW_USERNAME, "password": f"Wrong-Password-{attempt}"})
    assert r.status_code == 423 and r.json()["code"] == "auth.account_locked", r.text

    secadmin = new_page()
    sign_in(secadmin, "demo-secadmin", lands="/accounts")
    assert secadmin.get_by_role("link", name="账号状态管理").count() == 1
    assert secadmin.locator("#account-form").count() == 0  # the security administrator creates nothing
    secadmin.locator("#account-filter select[name=status]").select_option("locked")
    submit(secadmin, "#account-filter")
    row = secadmin.locator("#accounts tbody tr", has_text=NEW_USERNAME)
    assert "已锁定" in row.inner_text() and "锁定至" in row.inner_text() and "北京时间" in row.inner_text(), row.inner_text()
    assert secadmin.locator("#accounts tbody tr", has_text="demo-secadmin").count() == 0
    # an unlock without its confirmation is refused at the confirmation
    row.locator("form.unlock button[type=submit]").click()
    secadmin.wait_for_load_state()
    row = secadmin.locator("#accounts tbody tr", has_text=NEW_USERNAME)
    assert "请勾选确认" in row.locator(".field-error").inner_text(), secadmin.inner_text("main")
    assert not foreign_text(secadmin.inner_text("body")), foreign_text(secadmin.inner_text("body"))
    screenshot(secadmin, "51-officers-locked-account")
    row.locator("form.unlock input[name=confirm]").check()
    row.locator("form.unlock input[name=reason]").fill("本人电话确认，忘记密码")
    row.locator("form.unlock button[type=submit]").click()
    secadmin.wait_for_load_state()
    assert secadmin.locator(".flash").count() == 1, secadmin.inner_text("main")
    assert secadmin.locator("#account-filter select[name=status]").input_value() == "locked"  # back to the same list
    assert secadmin.locator("#accounts tbody tr", has_text=NEW_USERNAME).count() == 0
    secadmin.goto("/accounts?role=unit")
    row = secadmin.locator("#accounts tbody tr", has_text=NEW_USERNAME)
    assert "正常" in row.inner_text() and row.locator("form.unlock").count() == 0
    # a disable needs its reason, at the reason
    row.locator("form.disable button[type=submit]").click()
    secadmin.wait_for_load_state()
    row = secadmin.locator("#accounts tbody tr", has_text=NEW_USERNAME)
    assert "理由" in row.locator("form.disable .field-error").inner_text(), secadmin.inner_text("main")
    # its own account: no action
    secadmin.goto("/accounts?role=secadmin")
    assert "本人账号" in secadmin.locator("#accounts tbody tr", has_text="demo-secadmin").inner_text()

    # unlocked, the account signs in (and lands on its workspace: not an officer)
    unit = new_page()
    sign_in(unit, NEW_USERNAME, NEW_PASSWORD, lands="/workspace")
    assert NEW_NAME in unit.inner_text(".who")
    # the pages are the officers' only
    unit.goto("/accounts")
    assert unit.locator("#accounts").count() == 0 and "出错了" in unit.inner_text("main")
    unit.goto("/audit")
    assert unit.locator("#audit").count() == 0


def test_auditor_filters_the_trail_and_sees_the_chains_verified(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    account_id = locked_and_unlocked_account(portal)
    auditor = new_page()
    sign_in(auditor, "demo-auditor", lands="/audit")
    assert auditor.get_by_role("link", name="审计日志").count() == 1
    checks = auditor.locator("#verification tbody tr")
    assert checks.count() == 4
    for i in range(4):
        assert checks.nth(i).get_attribute("data-ok") == "yes" and "正常" in checks.nth(i).inner_text(), auditor.inner_text("#verification")
    # the unlock made above: action and object filtered, its before and after in words
    auditor.locator("#audit-filter select[name=action]").select_option("account.unlock")
    auditor.locator("#audit-filter select[name=object_type]").select_option("account")
    auditor.locator("#audit-filter input[name=object_id]").fill(account_id)
    submit(auditor, "#audit-filter")
    entries = auditor.locator("#audit tbody tr[data-seq]")
    assert entries.count() == 1, auditor.inner_text("main")
    first = entries.first
    assert "账号：解锁" in first.inner_text() and "demo-secadmin" in first.inner_text() and "安全管理员" in first.inner_text()
    assert "本人电话确认" in first.inner_text()
    changed = first.locator("table.changes tr.changed", has_text="状态")
    assert "已锁定" in changed.inner_text() and "正常" in changed.inner_text(), first.inner_text()
    assert "北京时间" in auditor.inner_text("main")
    screenshot(auditor, "52-officers-audit-trail")
    # the actor filter and a date range; a date typed wrong is refused at its field
    auditor.goto("/audit?service=registry&actor=demo-sysadmin&action=account.create")
    assert auditor.locator("#audit tbody tr[data-action='account.create']").count() >= 1
    assert auditor.locator("#audit tbody tr[data-seq]:not([data-action='account.create'])").count() == 0
    # the lock the wrong passwords caused: the service's own reason said in words, its creation field by field
    auditor.goto(f"/audit?service=registry&action=account.lock&object_id={account_id}")
    assert "连续 5 次密码错误" in auditor.inner_text("#audit tbody"), auditor.inner_text("main")
    auditor.goto(f"/audit?service=registry&action=account.create&actor=demo-sysadmin&object_id={account_id}")
    created = auditor.locator("#audit tbody tr[data-seq]").first
    assert created.locator("table.changes tr.changed", has_text="用户名").count() == 1 and AUDITED_USERNAME in created.inner_text()
    auditor.goto("/audit?service=registry&until=2000-01-01")
    assert auditor.locator("#audit tbody tr[data-seq]").count() == 0
    auditor.goto("/audit?service=registry&since=yesterday")
    assert "年-月-日" in auditor.locator("#audit-filter .field-error").inner_text()
    assert not foreign_text(auditor.inner_text("body"), ids=False), foreign_text(auditor.inner_text("body"), ids=False)  # the trail abbreviates ids on purpose
    auditor.goto("/audit?service=vouchers")
    assert auditor.locator("#audit-filter select[name=service]").input_value() == "vouchers"

    # a row edited behind the application's back: the registry's chain names it
    async def tamper() -> None:
        db = portal.platform["registry"].db
        log = db.metadata.tables["audit_log"]
        async with db.sessions() as s, s.begin():
            await s.execute(update(log).where(log.c.seq == 2).values(reason="事后改写"))

    portal.run(tamper())
    auditor.goto("/audit")
    registry = auditor.locator("#verification tbody tr[data-service=registry]")
    assert registry.get_attribute("data-ok") == "no" and "发现篡改" in registry.inner_text(), registry.inner_text()
    assert "第 2 条记录" in registry.inner_text() and "被修改" in registry.inner_text()
    assert auditor.locator("#verification tbody tr[data-service=vouchers]").get_attribute("data-ok") == "yes"
    assert not foreign_text(auditor.inner_text("body"), ids=False), foreign_text(auditor.inner_text("body"), ids=False)  # the trail abbreviates ids on purpose
    screenshot(auditor, "53-officers-audit-tampered")
    auditor.goto("/audit?lang=en")
    assert "tampered" in auditor.locator("#verification tbody tr[data-service=registry]").inner_text()
    assert "Audit trail" in auditor.inner_text("main")
