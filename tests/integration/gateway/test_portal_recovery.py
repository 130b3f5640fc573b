"""The portal's sign-up and recovery pages through the gateway (issue 17):
the sign-in page links to both; a refused sign-up shows the registry's
Chinese message next to its field and keeps what was typed; a sign-up signs
in at once and lands on the registration's status; "forgot password" says
the same for any address, the mailed link opens the reset page, and the new
password signs in while the old sign-in is over."""

from __future__ import annotations

import re
import uuid

from services.runtime.roles import Role
from tests.support.accounts import mail_settings
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.portal import csrf_of, field_error, gateway, post
from tests.support.smtp import smtp_server

PASSWORD = "Qiye-Mima-2026!"
NEW_PASSWORD = "Xin-Mima-2026#ok"


async def test_sign_up_and_recover_through_the_portal(make_settings) -> None:
    with smtp_server() as (inbox, port):
        settings = await make_settings(["registry"], **mail_settings(port))
        async with running(Platform(settings, ["registry"]), worker=False) as p, gateway(p) as c:
            signin = await c.get("/signin")
            assert 'href="/signup"' in signin.text and "注册账号" in signin.text
            assert 'href="/password/forgot"' in signin.text and "忘记密码" in signin.text

            username = f"qy{uuid.uuid4().hex[:8]}"
            email = f"{username}@example.cn"
            typed = {
                "username": username, "password": PASSWORD, "password_confirm": PASSWORD, "name": "许昌门户注册科技有限公司",
                "kind": "enterprise", "classes": "tech_sme", "credit_code": credit_code(), "contact_name": "赵联系", "phone": "", "email": "",
            }  # fmt: skip

            # neither phone nor e-mail: the registry's Chinese message at the e-mail field, the form kept
            r = await post(c, "/signup", "/signup", typed)
            assert r.status_code == 422, r.text
            assert "请至少填写联系电话或电子邮箱之一" in field_error(r.text, "email")
            assert f'value="{username}"' in r.text and "许昌门户注册科技有限公司" in r.text
            assert "signup.contact_required" not in r.text
            # two different passwords: refused by the portal at the confirmation field
            r = await post(c, "/signup", "/signup", typed | {"email": email, "password_confirm": "Other-Pass-2026!"})
            assert r.status_code == 422 and "两次输入的密码不一致" in field_error(r.text, "password_confirm")
            # English on ?lang=en
            r = await post(c, "/signup?lang=en", "/signup?lang=en", typed | {"phone": "123"})
            assert "the phone number is not valid" in field_error(r.text, "phone")
            await c.get("/signin?lang=zh")  # back to Chinese

            # accepted: signed in at once, on the status page, pending
            r = await post(c, "/signup", "/signup", typed | {"email": email})
            assert r.status_code == 303 and r.headers["location"] == "/signup/status?welcome=1", r.text
            status = await c.get(r.headers["location"])
            assert status.status_code == 200 and 'data-status="pending"' in status.text and "待审核" in status.text and "注册成功，您已登录" in status.text
            old_cookie = c.cookies.get("xciss_session")
            assert old_cookie

            # the center rejects it with a reason: the status page shows the reason
            user_id = re.search(r'"org":\s*"([^"]+)"', (await p.call("registry", "GET", "/v1/accounts/", role=Role.SYSADMIN, params={"role": "user"})).text)
            assert user_id
            r = await p.call("registry", "POST", f"/v1/users/{user_id.group(1)}/reject", role=Role.CENTER, json={"reason": "营业执照信息与信用代码不符"})
            assert r.status_code == 200, r.text
            status = await c.get("/signup/status")
            assert 'data-status="rejected"' in status.text and "营业执照信息与信用代码不符" in status.text

            # forgot password: the same page for an unknown and a known address
            unknown = await post(c, "/password/forgot", "/password/forgot", {"email": "nobody@example.cn"})
            known = await post(c, "/password/forgot", "/password/forgot", {"email": email})
            assert unknown.status_code == known.status_code == 200
            sent = re.search(r'id="reset-sent">([^<]+)<', known.text)
            assert sent and sent.group(1) in unknown.text and "30 分钟" in sent.group(1)
            mails = await eventually(lambda: inbox.to(email))
            link = inbox.link(mails[0])
            path = link.removeprefix("https://portal.xciss.test")

            # the reset page: a weak password is refused at its field, then the new one is set
            r = await post(c, path, "/password/reset", {"token": re.search(r"token=(\S+)", path).group(1), "new_password": "weak", "new_password_confirm": "weak"})  # type: ignore[union-attr]
            assert r.status_code == 422, r.text[-3000:]
            assert "密码不符合密码策略" in field_error(r.text, "new_password")
            token = re.search(r"token=(\S+)", path).group(1)  # type: ignore[union-attr]
            form_page = await c.get(path)
            assert 'id="reset-form"' in form_page.text  # a link that works opens the form
            csrf = csrf_of(form_page.text)
            r = await c.post("/password/reset", data={"_csrf_token": csrf, "token": token, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})
            assert r.status_code == 303 and r.headers["location"] == "/signin?reset=1"
            assert "密码已重置" in (await c.get("/signin?reset=1")).text
            # the link works once: opened again, it says so at once, with no form to fill in
            opened = await c.get(path)
            assert opened.status_code == 422 and "重置链接无效" in opened.text and 'id="reset-again"' in opened.text and 'id="reset-form"' not in opened.text
            r = await c.post("/password/reset", data={"_csrf_token": csrf, "token": token, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})
            assert r.status_code == 422 and "重置链接无效" in r.text and 'id="reset-again"' in r.text

            # the sign-in before the reset is over; the new password signs in
            status = await c.get("/signup/status", follow_redirects=False)
            assert status.status_code == 401 and "data-status" not in status.text
            c.cookies.clear()
            r = await post(c, "/signin", "/signin", {"username": username, "password": PASSWORD, "next": "/signup/status"})
            assert r.status_code == 401 and "用户名或密码错误" in r.text
            r = await post(c, "/signin", "/signin", {"username": username, "password": NEW_PASSWORD, "next": "/signup/status"})
            assert r.status_code == 303 and r.headers["location"] == "/signup/status"
            assert old_cookie != c.cookies.get("xciss_session")
