"""Accounts over the registry's API, as a client from an address of its own makes them: a
sign-up form (an enterprise), signing up, logging in, and the mail settings of the
password reset."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.codes import credit_code
from tests.support.platform import Platform

PASSWORD = "Qiye-Mima-2026!"


def fresh_ip() -> str:
    """A client address of its own (the registry limits sign-ups and logins per address)."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def form(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": f"qy{uuid.uuid4().hex[:10]}",
        "password": PASSWORD,
        "name": "许昌智造科技有限公司",
        "kind": "enterprise",
        "classes": ["tech_sme"],
        "credit_code": credit_code(),
        "contact_name": "王经理",
        "phone": "13800138000",
        "email": f"{uuid.uuid4().hex[:8]}@example.cn",
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


async def sign_up(p: Platform, body: dict[str, Any], ip: str | None = None) -> httpx.Response:
    return await p.call("registry", "POST", "/v1/signup/", json=body, headers={"X-Forwarded-For": ip or fresh_ip()})


async def login(p: Platform, username: str, password: str = PASSWORD) -> httpx.Response:
    return await p.call("registry", "POST", "/v1/sessions/", json={"username": username, "password": password}, headers={"X-Forwarded-For": fresh_ip()})


def mail_settings(port: int) -> dict[str, object]:
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False, "smtp_from": "platform@xciss.test", "public_url": "https://portal.xciss.test", "login_rate_limit_per_minute": 100}
