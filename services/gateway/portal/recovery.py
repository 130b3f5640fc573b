"""Self-service sign-up and password recovery (issue 17): the sign-up form
(an enterprise or a start-up team creates its account and user record, then
is signed in at once), the registration's status page, and "forgot
password" with the reset page its mail links to. Every refusal of the
registry is shown next to its field."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from services.gateway.portal.client import Api, ApiError, refused_at
from services.gateway.portal.core import Ctx, Kit
from services.gateway.portal.orders import register_errors
from services.gateway.portal.session import EXPLAINED, seconds_until, session_cookie

SIGNUP_FIELDS = (
    "username", "name", "kind", "credit_code", "leader_name", "incubator_credit_code", "contact_name", "phone", "email",
)  # fmt: skip


def anonymous(ctx: Ctx) -> Api:
    """The public calls go without the session cookie's token: a token ended by the reset
    itself (or any other) must not turn a public request into a 401."""
    return Api(ctx.portal.client(), ctx.portal.upstreams, None, forwarded_for=ctx.api.forwarded_for)


def signup_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    form = form or {}
    kind = str(form.get("kind") or "enterprise")
    shown = ctx.outcome(error, field_errors=register_errors(error, ctx.lang, kind) if error else None)
    if error is not None and error.status not in EXPLAINED + (409,):
        shown["status"] = 502
    return ctx.render(
        "signup.html",
        chosen=list(form.get("_classes") or []),
        **(shown | {"form": {k: str(form.get(k) or "") for k in SIGNUP_FIELDS} | {"kind": kind}}),
    )


async def status_page(ctx: Ctx, *, welcome: bool = False) -> Response[str]:
    try:
        user = await ctx.api.get("registry", f"/v1/users/{ctx.org}") if ctx.org else None
    except ApiError as err:
        return ctx.error_page(err)
    return ctx.render("signup_status.html", user=user, welcome=welcome)


def forgot_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, sent: dict[str, Any] | None = None) -> Response[str]:
    return ctx.render("forgot.html", sent=sent, **ctx.outcome(error, form))


def reset_page(ctx: Ctx, token: str, *, error: ApiError | None = None) -> Response[str]:
    shown = ctx.outcome(error)
    return ctx.render("reset.html", token=token, expired=bool(error and error.code == "password_reset.invalid_token"), **shown)


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/signup")
    async def signup(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = kit.ctx(request)
        if ctx.role == "user":
            return ctx.redirect("/signup/status")
        return signup_page(ctx)

    @action("/signup")
    async def signup_post(request: Request[Any, Any, Any]) -> Response[str]:
        raw = await request.form()
        classes = [str(c) for c in raw.getall("classes", [])]
        special = [str(c) for c in raw.getall("special_classes", [])]

        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str]:
            form["_classes"] = classes + special
            kind = str(form.get("kind") or "enterprise")
            password = str(form.get("password") or "")
            if password != str(form.get("password_confirm") or ""):
                raise refused_at("portal.password_mismatch", "the_two_passwords_differ", "password_confirm")
            body: dict[str, Any] = {
                "username": str(form.get("username") or ""),
                "password": password,
                "name": str(form.get("name") or ""),
                "kind": kind,
                "contact_name": str(form.get("contact_name") or ""),
                "phone": str(form.get("phone") or ""),
                "email": str(form.get("email") or ""),
                "classes": [c for c in classes if kind == "enterprise" or c == "startup_team"],
                "special_classes": special if kind == "enterprise" else [],
            }
            fields = ("credit_code",) if kind == "enterprise" else ("leader_name", "leader_id_number", "incubator_credit_code")
            for k in fields:
                if str(form.get(k) or "").strip():
                    body[k] = str(form[k]).strip()
            done = await anonymous(ctx).post("registry", "/v1/signup/", json=body)
            # signed in at once with the new account
            try:
                session = await anonymous(ctx).post("registry", "/v1/sessions", json={"username": done["account"]["username"], "password": password})
            except ApiError:
                return ctx.redirect("/signin?next=/signup/status")
            return ctx.redirect("/signup/status?welcome=1", [session_cookie(ctx, session["token"], max_age=seconds_until(session.get("expires_at")))])

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return signup_page(ctx, error=err, form=form)

        return await kit.submit(request, None, run, again=refused, done="/signup/status")

    @page("/signup/status")
    async def signup_status(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = kit.ctx(request)
        if refused := kit.need(ctx, "user"):
            return refused
        return await status_page(ctx, welcome=request.query_params.get("welcome") == "1")

    @page("/password/forgot")
    async def forgot(request: Request[Any, Any, Any]) -> Response[str]:
        return forgot_page(kit.ctx(request))

    @action("/password/forgot")
    async def forgot_post(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str]:
            email = str(form.get("email") or "").strip()
            if not email:
                raise refused_at("password_reset.invalid_email", "signup_email", "email")
            sent = await anonymous(ctx).post("registry", "/v1/password-resets/", json={"email": email})
            return forgot_page(ctx, sent=sent or {"expires_in_minutes": 30})

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return forgot_page(ctx, error=err, form=form)

        return await kit.submit(request, None, run, again=refused, done="/password/forgot")

    @page("/password/reset")
    async def reset(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = kit.ctx(request)
        token = str(request.query_params.get("token") or "")
        if token:  # an old link says so when it is opened, not after a new password was typed
            try:
                await anonymous(ctx).post("registry", "/v1/password-resets/check", json={"token": token})
            except ApiError as err:
                return reset_page(ctx, token, error=err)
        return reset_page(ctx, token)

    @action("/password/reset")
    async def reset_post(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str]:
            password = str(form.get("new_password") or "")
            if password != str(form.get("new_password_confirm") or ""):
                raise refused_at("portal.password_mismatch", "the_two_passwords_differ", "new_password_confirm")
            await anonymous(ctx).post("registry", "/v1/password-resets/confirm", json={"token": str(form.get("token") or ""), "new_password": password})
            return ctx.redirect("/signin?reset=1")

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return reset_page(ctx, str(form.get("token") or ""), error=err)

        return await kit.submit(request, None, run, again=refused, done="/signin?reset=1")

    return [signup, signup_post, signup_status, forgot, forgot_post, reset, reset_post]
