"""Signing in (a local account's password, or a demo role's button when the demo
is on) and out; the session cookie holds the token and lives as long as it."""

from __future__ import annotations

import contextlib
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import httpx
from litestar import Request, Response
from litestar.datastructures import Cookie

from services.gateway.portal import workspace
from services.gateway.portal.client import ApiError
from services.gateway.portal.core import SESSION, Ctx, Kit
from services.gateway.portal.demo_accounts import DEMO_PASSWORD, ROLES, DemoAccountsUnavailable
from services.gateway.portal.demo_accounts import demo_accounts as registered_demo_accounts
from services.runtime.http.auth import issue_token

#: a sign-in refusal the service explains is shown with its status; anything else is a bad gateway
EXPLAINED = (400, 401, 403, 404, 422, 423, 429)


def session_cookie(ctx: Ctx, token: str, max_age: int = 8 * 3600) -> Cookie:
    secure = ctx.request.url.scheme == "https" or ctx.request.headers.get("x-forwarded-proto") == "https"
    return Cookie(key=SESSION, value=token, httponly=True, samesite="lax", secure=secure, path="/", max_age=max_age)


def seconds_until(expires_at: Any, default: int = 8 * 3600) -> int:
    """The cookie lives as long as the session's token."""
    try:
        left = int((datetime.fromisoformat(str(expires_at)) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return default
    return max(1, left)


#: where a sign-in goes when it was given nowhere (or nowhere safe) to go
LANDING = "/"
#: where each role lands after signing in: the officers on their own pages, every role with
#: tasks on the workspace (portal/workspace.py)
WORKSPACES = {"sysadmin": "/accounts", "secadmin": "/accounts", "auditor": "/audit", **dict.fromkeys(workspace.TASKS, workspace.PATH)}


def _same_origin_path(v: str) -> bool:
    return (
        v.startswith("/")
        and not v.startswith("//")  # "//evil.example/" is another host
        and "\\" not in v  # browsers read "/\\evil.example/" as "//evil.example/"
        and not any(unicodedata.category(c) == "Cc" for c in v)  # "/\t/evil.example/": tabs and newlines are dropped
    )


def safe_next(value: Any) -> str:
    """Where to go after signing in: a path of this site, or the landing page.
    Exactly one leading slash, no backslash and no control character, as sent
    and once percent-decoded ("/%5Cevil.example/" went to another site), and
    so no scheme or host."""
    v = str(value or "")
    return v if _same_origin_path(v) and _same_origin_path(unquote(v)) else LANDING


def handlers(kit: Kit) -> list[Any]:
    portal = kit.portal
    cached: dict[str, Any] = {}

    async def demo_accounts() -> list[dict[str, Any]]:
        """The demo accounts, looked up once they are all registered."""
        if "accounts" in cached:
            return list(cached["accounts"])
        try:
            accounts = await registered_demo_accounts(portal.settings, portal.client(), portal.upstreams)
        except (DemoAccountsUnavailable, httpx.HTTPError, OSError, KeyError, ValueError):
            return []
        if len(accounts) == len(ROLES):
            cached["accounts"] = accounts
        return accounts

    async def signin_page(ctx: Ctx, *, error: str | None = None, status: int = 200, username: str = "") -> Response[str]:
        accounts = await demo_accounts() if portal.settings.demo else []
        return ctx.render(
            "signin.html",
            status=status,
            signin_error=error,  # shown next to the form, not in the page's banner
            accounts=accounts,
            demo=portal.settings.demo,
            demo_password=DEMO_PASSWORD,
            username=username,
            next=safe_next(ctx.request.query_params.get("next")),
        )

    @kit.page("/signin")
    async def signin(request: Request[Any, Any, Any]) -> Response[str]:
        return await signin_page(kit.ctx(request))

    @kit.action("/signin")
    async def signin_post(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str]:
            body = {"username": str(form.get("username") or ""), "password": str(form.get("password") or "")}
            session = await ctx.api.post("registry", "/v1/sessions", json=body)
            to = safe_next(form.get("next"))
            to = WORKSPACES.get(str(session.get("role")), to) if to == LANDING else to
            return ctx.redirect(to, [session_cookie(ctx, session["token"], max_age=seconds_until(session.get("expires_at")))])

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            # 401 auth.invalid_credentials, 423 auth.account_locked (until when, in the message),
            # 403 auth.account_disabled, 429 request.rate_limited: the service's words, next to the form
            status = err.status if err.status in EXPLAINED else 502
            return await signin_page(ctx, error=err.message(ctx.lang), status=status, username=str(form.get("username") or ""))

        return await kit.submit(request, None, run, again=refused, done="/")

    @kit.action("/signin/demo")
    async def signin_demo(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, form = await kit.checked(request)
        if not portal.settings.demo:
            return ctx.render("error.html", status=404, error=ctx.t("not_found"), code="portal.demo_off")
        accounts = {a["role"]: a for a in await demo_accounts()}
        account = accounts.get(str(form.get("role")))
        if account is None:
            return await signin_page(ctx, error=ctx.t("not_found"), status=404)
        token = issue_token(portal.settings, subject=f"demo-{account['role']}", role=account["role"], org=account["org"], name=account["name"])
        to = safe_next(form.get("next"))
        to = WORKSPACES.get(str(account["role"]), to) if to == LANDING else to
        return ctx.redirect(to, [session_cookie(ctx, token)])

    @kit.action("/signout")
    async def signout(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, _ = await kit.checked(request)
        if ctx.token:
            # end the login session, so its token is refused everywhere; a demo-button or
            # expired token has no session to end (422 session.not_a_session, 401): signed out anyway
            with contextlib.suppress(ApiError):
                await ctx.api.call("DELETE", "registry", "/v1/sessions/current")
        return ctx.redirect("/", [Cookie(key=SESSION, value="", httponly=True, samesite="lax", path="/", max_age=0)])

    return [signin, signin_post, signin_demo, signout]
