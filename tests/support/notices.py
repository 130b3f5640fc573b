"""The registry's notifications and the mails they send, for the notice tests: the mail
settings (the worker's own mail task idle), a person of an organisation with or without an
e-mail, the parties (applicants and units, each with people), an organisation's
notifications (once there are n), the mails of a kind, and the worker's outcomes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from services.registry.db.account_models import accounts
from services.registry.db.recovery_models import mail_outbox
from services.runtime.roles import Role
from tests.support.platform import Platform
from tests.support.polling import eventually
from tests.support.registry import approved_unit, verified_user

PORTAL = "https://portal.xciss.test"


def mail_settings(port: int) -> dict[str, object]:
    # the worker's own mail task stays idle: the test sends the due mails itself
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False, "smtp_from": "platform@xciss.test", "public_url": PORTAL, "mail_retry_interval_s": 3600.0, "notice_interval_s": 3600.0}


async def person(p: Platform, role: str, org: str | None, username: str, email: str | None) -> None:
    body = {"username": username, "password": "Notice-Pass-2026", "role": role, "org": org}
    r = await p.call("registry", "POST", "/v1/accounts/", role=Role.SYSADMIN, json=body)
    assert r.status_code == 201, r.text
    async with p.services["registry"].db.sessions() as s, s.begin():
        await s.execute(update(accounts).where(accounts.c.username == username).values(email=email))


async def notes(p: Platform, role: Role, org: str) -> list[dict[str, Any]]:
    r = await p.call("registry", "GET", "/v1/notifications/", role=role, org=org)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def mails(p: Platform, kind: str) -> list[tuple[str, str]]:
    async with p.services["registry"].db.read() as s:
        return [tuple(m) for m in (await s.execute(select(mail_outbox.c.recipient, mail_outbox.c.subject).where(mail_outbox.c.kind == kind))).all()]  # type: ignore[misc]


def outcomes(p: Platform) -> dict[str, int]:
    worker = p["registry"].worker
    assert worker is not None
    return worker.outcomes


async def told(p: Platform, role: Role, org: str, n: int) -> list[dict[str, Any]]:
    """The organisation's notifications once there are ``n``."""

    async def reached() -> list[dict[str, Any]]:
        got = await notes(p, role, org)
        assert len(got) >= n, got
        return got

    return list(await eventually(reached))


async def duplicates(p: Platform, before: int, n: int = 1) -> None:
    await eventually(lambda: outcomes(p).get("duplicate", 0) >= before + n, what=f"duplicates {outcomes(p)}")


async def parties(p: Platform) -> dict[str, str]:
    """An applicant with two people (one without an e-mail), another applicant, a unit and another unit, each with a person."""
    ids = {"user": await verified_user(p, "许昌申请企业"), "other_user": await verified_user(p, "另一家企业"), "unit": await approved_unit(p, "许昌学院"), "other_unit": await approved_unit(p, "许昌职业技术学院")}
    await person(p, "user", ids["user"], "applicant-a", "a@corp.example.cn")
    await person(p, "user", ids["user"], "applicant-b", None)
    await person(p, "user", ids["other_user"], "other-applicant", "other@corp.example.cn")
    await person(p, "unit", ids["unit"], "unit-desk", "desk@lab.example.edu.cn")
    await person(p, "unit", ids["other_unit"], "other-desk", "desk@other.example.edu.cn")
    return ids
