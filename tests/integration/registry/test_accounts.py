"""Local accounts and login sessions (issue 5): login, lockout at its edge,
unlock, session expiry and logout seen by another service, the shared login
rate limit, the password policy, three-officer separation, and no secret in
logs or in the audit trail."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select, update

from services.registry import accounts
from services.registry.db.account_models import accounts as accounts_table
from services.runtime.http import sessions
from services.runtime.roles import Role
from services.runtime.db.unit_of_work import Actor
from tests.support.codes import credit_code
from tests.support.platform import Platform, running

PASSWORD = "Qiyu-Secret-2026"
OTHER_PASSWORD = "Zhong-Anquan-77!"


def _name(prefix: str = "acct") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _ip() -> str:
    """A client address of its own per test: the limiter's counters live in
    the session-wide NATS bucket."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


async def create(p: Platform, username: str, role: str = "center", password: str = PASSWORD, org: str | None = None, by: Role = Role.SYSADMIN) -> httpx.Response:
    body: dict[str, Any] = {"username": username, "password": password, "role": role}
    if org is not None:
        body["org"] = org
    return await p.call("registry", "POST", "/v1/accounts/", role=by, json=body)


async def login(p: Platform, username: str, password: str = PASSWORD, ip: str | None = None) -> httpx.Response:
    return await p.call("registry", "POST", "/v1/sessions/", json={"username": username, "password": password}, headers={"X-Forwarded-For": ip or _ip()})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def audit_text(p: Platform) -> str:
    audit = p["registry"].db.metadata.tables["audit_log"]
    async with p["registry"].db.read() as s:
        rows = (await s.execute(select(audit))).mappings().all()
    return "\n".join(str(dict(r)) for r in rows)


def assert_no_secrets(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
    assert "$argon2" not in text


async def test_login_lockout_at_the_nth_failure_and_unlock(make_settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = await make_settings(["registry"], login_max_failures=3, login_lock_minutes=15, session_ttl_s=600, login_rate_limit_per_minute=100)
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        name = _name()
        r = await create(p, name)
        assert r.status_code == 201, r.text
        account = r.json()
        assert account["status"] == "active" and PASSWORD not in r.text and "argon2" not in r.text and "password_hash" not in r.text

        # login: a token for the account's role, with a session id and the configured lifetime
        ok = await login(p, name.upper())  # usernames are case-insensitive
        assert ok.status_code == 201, ok.text
        body = ok.json()
        assert body["role"] == "center" and body["org"] is None and body["token_type"] == "Bearer"
        claims = jwt.decode(body["token"], options={"verify_signature": False})
        assert claims["sid"] == body["session_id"] and claims["sub"] == name
        assert claims["exp"] - claims["iat"] == 600
        assert datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).timestamp() == claims["exp"]
        r = await p.call("registry", "GET", "/v1/units/?status=applied", headers=bearer(body["token"]))
        assert r.status_code == 200, r.text

        # a wrong password and an unknown username get the same answer
        wrong = await login(p, name, "Wrong-Password-1")
        unknown = await login(p, _name("nobody"), "Wrong-Password-1")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["code"] == unknown.json()["code"] == "auth.invalid_credentials"
        assert wrong.json()["message_zh"] == unknown.json()["message_zh"]

        # N-1 = 2 failures in a row (with the one above): not locked, and a success resets the count
        assert (await login(p, name, "Wrong-Password-2")).status_code == 401
        assert (await login(p, name)).status_code == 201
        # now exactly N = 3 in a row: the third answers locked
        assert (await login(p, name, "Wrong-Password-3")).status_code == 401
        assert (await login(p, name, "Wrong-Password-4")).status_code == 401
        locked = await login(p, name, "Wrong-Password-5")
        assert locked.status_code == 423, locked.text
        problem = locked.json()
        assert problem["code"] == "auth.account_locked" and "details" in problem
        until = datetime.fromisoformat(problem["details"]["locked_until"])
        assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
        # the right password does not help while locked
        again = await login(p, name)
        assert again.status_code == 423 and again.json()["code"] == "auth.account_locked"

        # the lock runs out: still locked a minute before, open just after
        async with p["registry"].db.sessions() as s, s.begin():
            await s.execute(update(accounts_table).where(accounts_table.c.id == account["account_id"]).values(locked_until=datetime.now(UTC) + timedelta(minutes=1)))
        assert (await login(p, name)).status_code == 423
        async with p["registry"].db.sessions() as s, s.begin():
            await s.execute(update(accounts_table).where(accounts_table.c.id == account["account_id"]).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
        assert (await login(p, name)).status_code == 201
        listed = (await p.call("registry", "GET", "/v1/accounts/?role=center&status=active&page_size=100", role=Role.SECADMIN)).json()
        mine = next(a for a in listed["items"] if a["account_id"] == account["account_id"])
        assert mine["failed_attempts"] == 0 and mine["locked_until"] is None

        # locked again; the security administrator unlocks, the system administrator may not
        for i in range(3):
            await login(p, name, f"Wrong-Password-{i}x")
        assert (await login(p, name)).status_code == 423
        assert (await p.call("registry", "POST", f"/v1/accounts/{account['account_id']}/unlock", role=Role.SYSADMIN, json={})).status_code == 403
        r = await p.call("registry", "POST", f"/v1/accounts/{account['account_id']}/unlock", role=Role.SECADMIN, json={"reason": "本人电话确认"})
        assert r.status_code == 200 and r.json()["status"] == "active", r.text
        assert (await login(p, name)).status_code == 201

        trail = await audit_text(p)
        for action in ("account.create", "session.login", "session.login_failed", "account.lock", "account.unlock"):
            assert action in trail
        assert_no_secrets(trail, PASSWORD, "Wrong-Password")
        assert_no_secrets(caplog.text, PASSWORD, "Wrong-Password", body["token"])


#: long enough for a login and one call on a loaded machine, short enough to wait out
TTL_S = 8


async def test_logout_and_expiry_are_refused_by_every_service(make_settings) -> None:
    settings = await make_settings(["registry", "vouchers"], session_ttl_s=TTL_S)
    async with running(Platform(settings, ["registry", "vouchers"])) as p:
        name = _name()
        assert (await create(p, name)).status_code == 201
        token = (await login(p, name)).json()["token"]
        assert (await p.call("vouchers", "GET", "/v1/applications/", headers=bearer(token))).status_code == 200

        # logout in the registry: the vouchers service refuses the token too
        out = await p.call("registry", "DELETE", "/v1/sessions/current", headers=bearer(token))
        assert out.status_code == 204, out.text
        refused = await p.call("vouchers", "GET", "/v1/applications/", headers=bearer(token))
        assert refused.status_code == 401 and refused.json()["code"] == "auth.invalid_token"
        assert (await p.call("registry", "DELETE", "/v1/sessions/current", headers=bearer(token))).status_code == 401

        # tokens without a session (service, development) still work and cannot log out
        assert (await p.call("vouchers", "GET", "/v1/applications/", role=Role.CENTER)).status_code == 200
        r = await p.call("registry", "DELETE", "/v1/sessions/current", role=Role.CENTER)
        assert r.status_code == 422 and r.json()["code"] == "session.not_a_session"

        # expiry: accepted before exp, refused from exp on (no leeway)
        fresh = (await login(p, name)).json()
        exp = jwt.decode(fresh["token"], options={"verify_signature": False})["exp"]
        assert exp - time.time() <= TTL_S
        assert (await p.call("vouchers", "GET", "/v1/applications/", headers=bearer(fresh["token"]))).status_code == 200
        await asyncio.sleep(max(0.0, exp - time.time()) + 0.05)
        expired = await p.call("vouchers", "GET", "/v1/applications/", headers=bearer(fresh["token"]))
        assert expired.status_code == 401 and expired.json()["code"] == "auth.invalid_token"


def _frozen_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every attempt inside one fixed one-minute window, however slow the
    machine: the limiter's clock stands still at the start of a minute."""
    start = (time.time() // 60) * 60 + 1
    monkeypatch.setattr(sessions, "time", SimpleNamespace(time=lambda: start))


async def test_login_rate_limit_per_username_and_per_address(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["registry"], login_rate_limit_per_minute=3, login_max_failures=100)
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        _frozen_window(monkeypatch)
        name = _name()
        assert (await create(p, name)).status_code == 201
        # per username, from different addresses
        for _ in range(3):
            assert (await login(p, name, "Wrong-Password-1", ip=_ip())).status_code == 401
        limited = await login(p, name, ip=_ip())
        assert limited.status_code == 429, limited.text
        assert limited.json()["code"] == "request.rate_limited" and int(limited.headers["Retry-After"]) >= 1
        # per address, with different usernames
        ip = _ip()
        for _ in range(3):
            assert (await login(p, _name("nobody"), "Wrong-Password-1", ip=ip)).status_code == 401
        assert (await login(p, _name("nobody"), "Wrong-Password-1", ip=ip)).status_code == 429
        # another user from another address is not affected
        other = _name()
        assert (await create(p, other)).status_code == 201
        assert (await login(p, other)).status_code == 201


async def test_password_policy_and_own_password_change(make_settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        name = _name()
        cases = {
            "Ab1-short": ["too_short"],
            "alllowercaseletters": ["too_few_classes"],
            "lowercase123456": ["too_few_classes"],
            f"X-{name}-9": ["contains_username"],
        }
        for password, rules in cases.items():
            r = await create(p, name, password=password)
            assert r.status_code == 422, (password, r.text)
            problem = r.json()
            assert problem["code"] == "password.weak"
            assert problem["details"] == {"field": "password", "rules": rules}
            assert "password" in problem["message_en"] and "密码" in problem["message_zh"]
        assert (await create(p, name)).status_code == 201
        assert (await create(p, name)).json()["code"] == "account.username_taken"

        first = (await login(p, name)).json()["token"]
        second = (await login(p, name)).json()["token"]
        change = "/v1/accounts/me/password"
        r = await p.call("registry", "POST", change, headers=bearer(first), json={"old_password": "Not-The-Password-1", "new_password": OTHER_PASSWORD})
        assert r.status_code == 403 and r.json()["code"] == "account.wrong_password"
        r = await p.call("registry", "POST", change, headers=bearer(first), json={"old_password": PASSWORD, "new_password": "tooweak"})
        assert r.status_code == 422 and r.json()["details"]["field"] == "new_password"
        r = await p.call("registry", "POST", change, headers=bearer(first), json={"old_password": PASSWORD, "new_password": OTHER_PASSWORD})
        assert r.status_code == 204, r.text
        # the old password no longer signs in; the other session ended, this one goes on
        assert (await login(p, name)).status_code == 401
        assert (await login(p, name, OTHER_PASSWORD)).status_code == 201
        assert (await p.call("registry", "GET", "/v1/units/", headers=bearer(second))).status_code == 401
        assert (await p.call("registry", "GET", "/v1/units/", headers=bearer(first))).status_code == 200
        # a development token has no account to change
        r = await p.call("registry", "POST", change, role=Role.CENTER, json={"old_password": PASSWORD, "new_password": OTHER_PASSWORD})
        assert r.status_code == 422 and r.json()["code"] == "account.not_local"

        trail = await audit_text(p)
        assert "account.password_change" in trail
        assert_no_secrets(trail, PASSWORD, OTHER_PASSWORD, "Not-The-Password-1")
        assert_no_secrets(caplog.text, PASSWORD, OTHER_PASSWORD, "Not-The-Password-1", first, second)


async def test_three_officer_separation(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        operator = Actor(subject="cli:test", role="operator")
        sec_name = _name("sec")
        await accounts.create_account(p["registry"].db, operator, None, username=sec_name, password=PASSWORD, role=Role.SECADMIN, org=None, display_name="安全管理员")
        sec = (await login(p, sec_name)).json()["token"]

        # sysadmin: business accounts only, and a unit's account names its unit
        for officer in ("sysadmin", "secadmin", "auditor", "service"):
            r = await create(p, _name(), role=officer)
            assert r.status_code in (403, 422) and r.json()["code"] in ("auth.forbidden", "account.role_not_allowed"), r.text
        r = await create(p, _name(), role="unit")
        assert r.status_code == 422 and r.json()["code"] == "account.org_required"
        r = await create(p, _name(), role="unit", org="no-such-unit")
        assert r.status_code == 404
        # secadmin and auditor create nothing; auditor lists no accounts but reads the trail
        assert (await create(p, _name(), by=Role.SECADMIN)).status_code == 403
        assert (await create(p, _name(), by=Role.AUDITOR)).status_code == 403
        assert (await p.call("registry", "GET", "/v1/accounts/", role=Role.AUDITOR)).status_code == 403
        assert (await p.call("registry", "GET", "/v1/audit", role=Role.AUDITOR)).status_code == 200

        name = _name()
        target = (await create(p, name, role="finance")).json()["account_id"]
        token = (await login(p, name)).json()["token"]
        # sysadmin cannot disable; secadmin must give a reason; disabling ends the sessions
        assert (await p.call("registry", "POST", f"/v1/accounts/{target}/disable", role=Role.SYSADMIN, json={"reason": "离职"})).status_code == 403
        r = await p.call("registry", "POST", f"/v1/accounts/{target}/disable", headers=bearer(sec), json={})
        assert r.status_code == 422 and r.json()["details"]["field"] == "reason"
        r = await p.call("registry", "POST", f"/v1/accounts/{target}/disable", headers=bearer(sec), json={"reason": "离职"})
        assert r.status_code == 200 and r.json()["status"] == "disabled", r.text
        assert (await p.call("registry", "GET", "/v1/units/", headers=bearer(token))).status_code == 401
        r = await login(p, name)
        assert r.status_code == 403 and r.json()["code"] == "auth.account_disabled"
        assert (await login(p, name, "Wrong-Password-1")).json()["code"] == "auth.invalid_credentials"
        r = await p.call("registry", "POST", f"/v1/accounts/{target}/enable", headers=bearer(sec), json={"reason": "返岗"})
        assert r.status_code == 200 and r.json()["status"] == "active"
        assert (await login(p, name)).status_code == 201

        # no officer acts on their own account
        own = next(a for a in (await p.call("registry", "GET", "/v1/accounts/?role=secadmin", headers=bearer(sec))).json()["items"] if a["username"] == sec_name)
        r = await p.call("registry", "POST", f"/v1/accounts/{own['account_id']}/disable", headers=bearer(sec), json={"reason": "试图停用自己"})
        assert r.status_code == 403
        trail = await audit_text(p)
        assert "account.disable" in trail and "account.enable" in trail
        assert_no_secrets(trail, PASSWORD)


async def test_listed_accounts_name_their_unit_or_user(make_settings) -> None:
    """Issue 17: the accounts list names the unit or the enterprise an account acts for (read
    with the page, one query), so the officers' page never shows an id; not in the audit images."""
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        unit = {"name": "许昌测试账号研究院", "kind": "institute", "credit_code": credit_code("411003"), "county_code": "411003", "department": "建安区科技局"}
        unit_id = (await p.call("registry", "POST", "/v1/units/", role="unit", json=unit)).json()["unit_id"]
        user = {"name": "许昌测试账号科技有限公司", "kind": "enterprise", "classes": ["high_tech"], "credit_code": credit_code("411002")}
        r = await p.call("registry", "POST", "/v1/users/", role="user", json=user)
        assert r.status_code == 201, r.text
        user_id = r.json()["user_id"]
        made = {role: _name(role) for role in ("unit", "user", "department")}
        for role, org in (("unit", unit_id), ("user", user_id), ("department", "建安区科技局")):
            r = await create(p, made[role], role=role, org=org)
            assert r.status_code == 201, r.text
        listed = {a["username"]: a for a in (await p.call("registry", "GET", "/v1/accounts/?page_size=100", role=Role.SYSADMIN)).json()["items"]}
        assert {role: listed[name]["org_name"] for role, name in made.items()} == {"unit": unit["name"], "user": user["name"], "department": None}
        assert "org_name" not in await audit_text(p)


async def test_the_demo_officers_are_created_once(make_settings) -> None:
    """``xciss up``'s three officer accounts: created on the first start, kept on the
    next (the loader reads the usernames from list_accounts' page of Account records)."""
    from services.command.demo import OFFICERS, create_officer_accounts

    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        assert await create_officer_accounts(settings) == 3
        assert await create_officer_accounts(settings) == 0
        found = (await p.call("registry", "GET", "/v1/accounts/", role=Role.SYSADMIN)).json()["items"]
        assert sorted(a["username"] for a in found) == sorted(o["username"] for o in OFFICERS)


def test_operator_creates_the_first_administrators(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``xciss accounts create --password-stdin`` (SQLite; the command is the same on PostgreSQL)."""
    import io
    import sqlite3

    from services.command import cli

    monkeypatch.setenv("XCISS_DATA_DIR", str(tmp_path))
    for var in ("XCISS_REGISTRY_DATABASE_URL", "XCISS_MODE", "XCISS_NATS_URL"):
        monkeypatch.delenv(var, raising=False)

    def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        args = cli.build_parser().parse_args(list(argv))
        return args.fn(args)

    assert run("migrate", "registry") == 0
    assert run("accounts", "create", "--username", "ops.sys", "--role", "sysadmin", "--password-stdin", stdin=PASSWORD + "\n") == 0
    assert "account ops.sys (sysadmin) created" in capsys.readouterr().out
    assert run("accounts", "create", "--username", "ops.sec", "--role", "secadmin", "--password-stdin", stdin="weak\n") == 1
    assert "password.weak" in capsys.readouterr().err
    assert run("accounts", "create", "--username", "ops.svc", "--role", "service", "--password-stdin", stdin=PASSWORD + "\n") == 1
    assert run("accounts", "create", "--username", "ops.x", "--role", "auditor") == 2  # no password on the command line
    with sqlite3.connect(tmp_path / "registry.db") as con:
        rows = con.execute("SELECT username, role, password_hash FROM accounts").fetchall()
        trail = con.execute("SELECT actor, actor_role, action, after FROM audit_log").fetchall()
    assert [(u, r) for u, r, _ in rows] == [("ops.sys", "sysadmin")] and rows[0][2].startswith("$argon2id$")
    assert trail[0][1:3] == ("operator", "account.create") and trail[0][0].startswith("cli:")
    assert_no_secrets(str(trail), PASSWORD)


async def test_a_made_up_forwarded_address_does_not_escape_the_address_limit(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway (the loopback peer here) and an ingress (10.200.0.0/16) are trusted
    proxies; what the client wrote left of them is not believed."""
    settings = await make_settings(["registry"], login_rate_limit_per_minute=3, login_max_failures=100, trusted_proxies=("127.0.0.0/8", "10.200.0.0/16"))
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        _frozen_window(monkeypatch)
        n = uuid.uuid4().int
        client = f"198.18.{n % 250}.{(n >> 8) % 250 + 1}"
        # a fresh made-up address on every attempt, then the client's real one (appended by the ingress, itself appended by the gateway)
        for _ in range(3):
            r = await p.call("registry", "POST", "/v1/sessions/", json={"username": _name("nobody"), "password": "Wrong-Password-1"},
                             headers={"X-Forwarded-For": f"{_ip()}, {client}, 10.200.0.5"})
            assert r.status_code == 401, r.text
        r = await p.call("registry", "POST", "/v1/sessions/", json={"username": _name("nobody"), "password": "Wrong-Password-1"},
                         headers={"X-Forwarded-For": f"{_ip()}, {client}, 10.200.0.5"})
        assert r.status_code == 429 and r.json()["code"] == "request.rate_limited", r.text
