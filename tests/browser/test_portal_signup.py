"""Self-service sign-up and password recovery in Chromium (issue 17): from
the sign-in page a new enterprise follows 注册账号, is refused at the contact
field in Chinese, signs up and lands signed in on its status page (待审核);
"forgot password" answers with the same notice; the reset page (its link's
token planted as the mail would carry it) refuses a mismatch at its field,
sets the new password, and the new password signs in. Its own module: its
own platform."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from contracts.envelope import new_event_id
from services.registry.db.account_models import accounts
from services.registry.db.recovery_models import password_resets
from services.registry.domain import recovery
from services.runtime import clock
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import submit
from tests.support.codes import credit_code

pytestmark = pytest.mark.browser

PASSWORD = "Qiye-Mima-2026!"
NEW_PASSWORD = "Xin-Mima-2026#ok"


def test_an_enterprise_signs_up_and_recovers_its_password(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    username = f"qy{uuid.uuid4().hex[:8]}"
    page = new_page()
    page.goto("/signin")
    page.get_by_role("link", name="注册账号").first.click()
    page.wait_for_load_state()
    form = page.locator("#signup-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=password_confirm]").fill(PASSWORD)
    form.locator("input[name=name]").fill("许昌浏览器注册科技有限公司")
    form.get_by_label("企业", exact=True).check()
    form.get_by_label("科技型中小企业").check()
    form.locator("input[name=credit_code]").fill(credit_code("411002"))
    form.locator("input[name=contact_name]").fill("孙联系")
    submit(page, "#signup-form")
    # neither phone nor e-mail: refused at the e-mail field, in Chinese, the rest kept
    err = page.locator("#signup-form label", has_text="电子邮箱").locator(".field-error")
    assert err.count() == 1 and "联系电话或电子邮箱" in err.inner_text(), page.inner_text("main")
    assert page.locator("#signup-form input[name=username]").input_value() == username
    screenshot(page, "40-signup-refused")
    page.locator("#signup-form input[name=password]").fill(PASSWORD)
    page.locator("#signup-form input[name=password_confirm]").fill(PASSWORD)
    page.locator("#signup-form input[name=email]").fill(f"{username}@example.cn")
    submit(page, "#signup-form")
    assert page.locator("#registration-status").get_attribute("data-status") == "pending", page.inner_text("main")
    assert "待审核" in page.inner_text("#registration-status") and page.locator(".who").count() == 1
    screenshot(page, "41-signup-status")

    # forgot password: the same notice for any address
    visitor = new_page()
    visitor.goto("/signin")
    visitor.get_by_role("link", name="忘记密码").click()
    visitor.locator("#forgot-form input[name=email]").fill(f"{username}@example.cn")
    submit(visitor, "#forgot-form")
    assert "30 分钟" in visitor.inner_text("#reset-sent")

    # the link's token as the mail carries it (the portal's platform logs mails: no SMTP here)
    token = recovery.new_token()

    async def plant() -> None:
        db = portal.platform["registry"].db
        now = clock.utc_now()
        async with db.sessions() as s, s.begin():
            account_id = (await s.execute(select(accounts.c.id).where(accounts.c.username == username))).scalar_one()
            await s.execute(insert(password_resets).values(id=new_event_id(), account_id=account_id, token_digest=recovery.token_digest(token), created_at=now, expires_at=now + timedelta(minutes=30), used_at=None))

    portal.run(plant())
    visitor.goto(f"/password/reset?token={token}")
    visitor.locator("#reset-form input[name=new_password]").fill(NEW_PASSWORD)
    visitor.locator("#reset-form input[name=new_password_confirm]").fill("Something-Else-1!")
    submit(visitor, "#reset-form")
    err = visitor.locator("#reset-form label", has_text="确认密码").locator(".field-error")
    assert err.count() == 1 and "不一致" in err.inner_text(), visitor.inner_text("main")
    visitor.locator("#reset-form input[name=new_password]").fill(NEW_PASSWORD)
    visitor.locator("#reset-form input[name=new_password_confirm]").fill(NEW_PASSWORD)
    submit(visitor, "#reset-form")
    assert "密码已重置" in visitor.inner_text("#reset-done")
    screenshot(visitor, "42-reset-done")
    visitor.locator("input[name=username]").fill(username)
    visitor.locator("input[name=password]").fill(NEW_PASSWORD)
    visitor.locator("form[action='/signin'] button[type=submit]").click()
    visitor.wait_for_load_state()
    assert visitor.locator(".who").count() == 1, visitor.inner_text("main")
