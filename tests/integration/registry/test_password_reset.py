"""Password reset by e-mail (issue 17), against a real SMTP server
(aiosmtpd): the link comes by mail, works once and for 30 minutes, sets a
password the policy accepts, ends the account's sessions; the answer never
tells whether an account has the address; requests are limited; tokens are
stored as digests only and a sent mail keeps no link; a mail the SMTP server
could not take is sent by the worker's retry once it is back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, update

from services.registry import password_reset
from services.registry.db.account_models import accounts
from services.registry.db.recovery_models import mail_outbox, password_resets
from services.runtime import clock
from tests.support.accounts import (
    PASSWORD,
    form,
    fresh_ip,
    login,
    mail_settings,
    sign_up,
)
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.smtp import smtp_server

NEW_PASSWORD = "Xin-Mima-2026#ok"


async def forgot(p: Platform, email: str, ip: str | None = None) -> httpx.Response:
    return await p.call("registry", "POST", "/v1/password-resets/", json={"email": email}, headers={"X-Forwarded-For": ip or fresh_ip()})


async def confirm(p: Platform, token: str, password: str = NEW_PASSWORD) -> httpx.Response:
    return await p.call("registry", "POST", "/v1/password-resets/confirm", json={"token": token, "new_password": password}, headers={"X-Forwarded-For": fresh_ip()})


async def check(p: Platform, token: str) -> httpx.Response:
    return await p.call("registry", "POST", "/v1/password-resets/check", json={"token": token}, headers={"X-Forwarded-For": fresh_ip()})


def token_of(link: str) -> str:
    assert link.startswith("https://portal.xciss.test/password/reset?"), link
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_reset_by_mail_once_within_its_time_ending_the_sessions(make_settings) -> None:
    with smtp_server() as (inbox, port):
        settings = await make_settings(["registry"], **mail_settings(port))
        async with running(Platform(settings, ["registry"]), worker=False) as p:
            body = form()
            assert (await sign_up(p, body)).status_code == 201
            old_session = (await login(p, body["username"])).json()["token"]

            # known and unknown addresses get the same answer; only the known one gets a mail
            known = await forgot(p, body["email"].upper())  # however the address is typed
            unknown = await forgot(p, f"nobody-{uuid.uuid4().hex[:6]}@example.cn")
            assert known.status_code == unknown.status_code == 202
            assert known.json() == unknown.json() == {"accepted": True, "expires_in_minutes": 30}
            mails = await eventually(lambda: inbox.to(body["email"]) if inbox.to(body["email"]) else None)
            assert len(inbox.mails) == 1 and mails[0]["From"] == "platform@xciss.test"
            assert body["username"] in inbox.body(mails[0]) and "30 分钟" in inbox.body(mails[0])
            token = token_of(inbox.link(mails[0]))

            # the database holds a digest of the token, and the sent mail no longer holds the link
            # (the sender records the mail as sent just after the SMTP server took it)
            async def sent() -> Any:
                async with p["registry"].db.read() as s:
                    mail = (await s.execute(select(mail_outbox))).mappings().one()
                return mail if mail["sent_at"] is not None else None

            mail = await eventually(sent)
            async with p["registry"].db.read() as s:
                resets = (await s.execute(select(password_resets))).mappings().all()
            assert len(resets) == 1 and resets[0]["token_digest"] != token and token not in str(dict(resets[0]))
            assert mail["sent_at"] is not None and mail["body"] is None

            # the link is checked when it is opened, without using it up: until when it works
            opened = await check(p, token)
            assert opened.status_code == 200 and opened.json() == {"usable": True, "expires_at": resets[0]["expires_at"].isoformat().replace("+00:00", "Z")}, opened.text
            unknown_link = await check(p, "not-a-token")
            assert unknown_link.status_code == 422 and unknown_link.json()["code"] == "password_reset.invalid_token" and unknown_link.json()["details"]["field"] == "token"

            # a password the policy refuses is refused at its field; the token still works after
            weak = await confirm(p, token, "weakpass")
            assert weak.status_code == 422 and weak.json()["code"] == "password.weak" and weak.json()["details"]["field"] == "new_password"
            assert (await confirm(p, token)).status_code == 204
            # once only
            again = await confirm(p, token, "Noch-Ein-Mal-2026!")
            assert again.status_code == 422 and again.json()["code"] == "password_reset.invalid_token" and again.json()["details"]["field"] == "token"
            assert "重置链接无效" in again.json()["message_zh"]
            used = await check(p, token)
            assert used.status_code == 422 and used.json()["code"] == "password_reset.invalid_token"

            # the old session is over, the old password too; the new one signs in
            r = await p.call("registry", "GET", f"/v1/users/{(await login(p, body['username'], NEW_PASSWORD)).json()['org']}", headers={"Authorization": f"Bearer {old_session}"})
            assert r.status_code == 401, r.text
            assert (await login(p, body["username"])).status_code == 401
            assert (await login(p, body["username"], NEW_PASSWORD)).status_code == 201

            # a second link expires after its 30 minutes: usable just before, not at the end
            assert (await forgot(p, body["email"])).status_code == 202
            await eventually(lambda: len(inbox.mails) == 2)
            late = token_of(inbox.link(inbox.mails[-1]))
            now = clock.utc_now()
            async with p["registry"].db.sessions() as s, s.begin():
                await s.execute(update(password_resets).where(password_resets.c.used_at.is_(None)).values(expires_at=now + timedelta(seconds=1)))
            with mock.patch.object(clock, "utc_now", lambda: now):
                assert (await check(p, late)).status_code == 200  # a second before its end
            with mock.patch.object(clock, "utc_now", lambda: now + timedelta(seconds=1)):
                at_end = await check(p, late)  # at its end: no longer
            assert at_end.status_code == 422 and at_end.json()["code"] == "password_reset.invalid_token"
            async with p["registry"].db.sessions() as s, s.begin():
                await s.execute(update(password_resets).where(password_resets.c.used_at.is_(None)).values(expires_at=clock.utc_now() - timedelta(seconds=1)))
            r = await confirm(p, late)
            assert r.status_code == 422 and r.json()["code"] == "password_reset.invalid_token"

            # audited, without the token or the address
            audit = p["registry"].db.metadata.tables["audit_log"]
            async with p["registry"].db.read() as s:
                rows = (await s.execute(select(audit))).mappings().all()
            actions = [r["action"] for r in rows]
            assert actions.count("account.password_reset_requested") == 3 and "account.password_reset" in actions and "account.password_reset_failed" in actions
            text = str([dict(r) for r in rows])
            assert token not in text and late not in text and body["email"] not in text


async def test_a_reset_mail_is_not_lost_while_the_smtp_server_is_down(make_settings) -> None:
    port = free_port()  # nothing listens yet
    settings = await make_settings(["registry"], **mail_settings(port), mail_retry_interval_s=0.2)
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        body = form()
        assert (await sign_up(p, body)).status_code == 201
        assert (await forgot(p, body["email"])).status_code == 202  # the answer does not wait for the mail

        async def failed_once() -> bool:
            async with p["registry"].db.read() as s:
                row = (await s.execute(select(mail_outbox))).mappings().one()
            return row["attempts"] >= 1 and row["sent_at"] is None and row["last_error"] is not None

        await eventually(failed_once)
        with smtp_server(port) as (inbox, _):
            # a worker's retry (its periodic task) sends it once the server is back and its back-off is over
            async with p["registry"].db.sessions() as s, s.begin():
                await s.execute(update(mail_outbox).values(next_attempt_at=clock.utc_now()))
            task = password_reset.mail_task(settings)
            assert task.name == "deliver_mail" and await task.fn(p["registry"].db) == 1
            assert len(inbox.to(body["email"])) == 1
            assert await task.fn(p["registry"].db) == 0  # sent once only
            token = token_of(inbox.link(inbox.mails[0]))
            assert (await confirm(p, token)).status_code == 204


async def test_reset_requests_are_limited_and_a_disabled_account_gets_no_mail(make_settings) -> None:
    with smtp_server() as (inbox, port):
        settings = await make_settings(["registry"], **mail_settings(port), recovery_rate_limit_per_hour=2)
        async with running(Platform(settings, ["registry"]), worker=False) as p:
            body = form()
            assert (await sign_up(p, body)).status_code == 201
            # per address: a third request for the same e-mail from anywhere is refused
            assert (await forgot(p, body["email"])).status_code == 202
            assert (await forgot(p, body["email"])).status_code == 202
            r = await forgot(p, body["email"])
            assert r.status_code == 429 and r.json()["code"] == "request.rate_limited"
            await eventually(lambda: len(inbox.mails) == 2)

            other = form()
            assert (await sign_up(p, other)).status_code == 201
            async with p["registry"].db.sessions() as s, s.begin():
                await s.execute(update(accounts).where(accounts.c.username == other["username"]).values(status="disabled"))
            assert (await forgot(p, other["email"])).status_code == 202
            bad = await p.call("registry", "POST", "/v1/password-resets/", json={"email": "no at sign"}, headers={"X-Forwarded-For": fresh_ip()})
            assert bad.status_code == 422 and bad.json()["details"]["field"] == "email"
            async with p["registry"].db.read() as s:
                assert len((await s.execute(select(mail_outbox))).all()) == 2  # nothing for the disabled account
            assert PASSWORD  # the sign-up's password is untouched
