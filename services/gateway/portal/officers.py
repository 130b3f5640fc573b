"""The accounts pages of two of the three officers (三员分立, 等保 2.0;
``services/registry/domain/accounts.py`` says who may do what):

- the system administrator (``sysadmin``) lists the accounts and creates an
  account of a business role (``POST /v1/accounts/``), a refusal at its field;
- the security administrator (``secadmin``) lists them with each account's
  state (locked until, disabled) and unlocks, disables (with a reason) and
  enables them (``POST /v1/accounts/{id}/unlock|disable|enable``), never its own.

The audit administrator's trail is ``audit_trail``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.audit_trail import short_id
from services.gateway.portal.client import ApiError, confirmed
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit
from services.gateway.portal.paging import page_links, page_number
from services.gateway.portal.i18n_officers import REFUSALS
from services.gateway.portal.unit_picker import ID, Pick, chosen_unit, pick_unit

#: who sees the account list; who creates; who decides an account's state
LISTERS = ("sysadmin", "secadmin")
#: the roles the system administrator creates over the API, in the form's order
BUSINESS_ROLES = ("user", "unit", "department", "center", "bureau", "finance", "expert", "partner")
#: every role an account may have, for the list's filter
ALL_ROLES = (*BUSINESS_ROLES, "sysadmin", "secadmin", "auditor")
STATES = ("active", "locked", "disabled")
DECISIONS = ("unlock", "disable", "enable")


def _words(key: str, lang: str, **kw: Any) -> str:
    text = str(REFUSALS.get(key, lang))
    return text.format(**kw) if kw else text


def account_errors(err: ApiError, lang: str) -> tuple[str, dict[str, str]]:
    """A refusal of a new account or of a decision: the banner's message and the
    messages at their fields, in the portal's words where the registry's name API
    fields or role codes (``password.weak``, ``account.org_required``, a username
    the pattern refuses, an unknown unit or user)."""
    found = err.field_errors(lang)
    details = err.problem.get("details") if isinstance(err.problem.get("details"), dict) else {}
    message = err.message(lang)
    if err.code == "password.weak":
        rules = [r for r in details.get("rules") or [] if r in REFUSALS]
        joined = ("; " if lang == "en" else "；").join(_words(r, lang) for r in rules)
        message = _words("password_weak", lang, rules=joined)
        found = {str(details.get("field") or "password"): message}
    elif err.code in ("account.org_required", "unit.not_found", "user.not_found"):
        message = _words(err.code, lang)
        found = {"org": message}
    elif err.code == "request.invalid" and "username" in found:
        found["username"] = _words("username_invalid", lang)
        message = found["username"]
    elif err.code in ("auth.forbidden", "account.role_not_allowed") and not found:
        found["role"] = message
    return message, found


async def accounts_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    q = ctx.request.query_params
    role = q.get("role") if q.get("role") in ALL_ROLES else ""
    status = q.get("status") if q.get("status") in STATES else ""
    pg = page_number(ctx)
    try:
        result = await ctx.api.get("registry", "/v1/accounts/", role=role or None, status=status or None, page=pg, page_size=REVIEW_PAGE_SIZE)
    except ApiError as err:
        return ctx.error_page(err)
    org = await org_unit(ctx, form)
    shown = ctx.outcome(error, form)
    if error is not None:
        shown["error"], shown["field_errors"] = account_errors(error, ctx.lang)
    return ctx.render(
        "accounts.html",
        items=result["items"],
        org_pick=org,
        filters={"role": role, "status": status},
        back=urlencode(listed(ctx) | {"page": pg}),
        paging=page_links(result["total"], pg, REVIEW_PAGE_SIZE),
        business_roles=BUSINESS_ROLES,
        all_roles=ALL_ROLES,
        states=STATES,
        me=ctx.principal.subject if ctx.principal else None,
        short_id=short_id,
        failed=failed,
        **shown,
    )


async def org_unit(ctx: Ctx, form: dict[str, Any] | None) -> Pick:
    """A unit account's organisation, typed as part of the unit's name or credit code (or its id)
    and chosen from the matches (``org_unit``) when several fit (``unit_picker``)."""
    if not form or form.get("role") != "unit":
        return Pick()
    return await pick_unit(ctx, form, "org_unit", text_field="org")


def listed(ctx: Ctx) -> dict[str, str]:
    """The list's filters as the request gives them (a decision goes back to the same list)."""
    q = ctx.request.query_params
    return {k: str(q.get(k)) for k, allowed in (("role", ALL_ROLES), ("status", STATES)) if q.get(k) in allowed}


def handlers(kit: Kit) -> list[Any]:
    @kit.page("/accounts")
    async def accounts(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, LISTERS, accounts_page)

    @kit.action("/accounts")
    async def create_account(request: Request[Any, Any, Any]) -> Response[str]:
        """The system administrator creates a business account: role, username, the
        organisation where the role needs one, display name, initial password."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            body: dict[str, Any] = {
                "role": str(form.get("role") or ""),
                "username": str(form.get("username") or "").strip(),
                "password": str(form.get("password") or ""),
                "org": str(form.get("org") or "").strip() or None,
                "display_name": str(form.get("display_name") or "").strip() or None,
            }
            if body["role"] == "unit" and body["org"]:
                pick = await org_unit(ctx, form)
                if pick.unit_id or pick.matches or not ID.match(body["org"]):  # an id the officer cannot see goes on as typed
                    body["org"] = chosen_unit(pick, "org")
            await ctx.api.post("registry", "/v1/accounts/", json=body)

        async def again(ctx: Ctx, err: ApiError, typed: dict[str, Any]) -> Response[str]:
            return await accounts_page(ctx, error=err, form={k: v for k, v in typed.items() if k != "password"})

        return await kit.submit(request, ("sysadmin",), run, again=again, done="/accounts?done=1")

    @kit.action("/accounts/{account_id:str}/{decision:str}")
    async def decide(request: Request[Any, Any, Any], account_id: FromPath[str], decision: FromPath[str]) -> Response[str]:
        """The security administrator unlocks, disables (with a reason) or enables an
        account; an unlock or enable is confirmed first, a note is optional."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            if decision not in DECISIONS:
                return Kit.not_found(ctx, "portal.unknown_decision")
            if decision != "disable":
                confirmed(form)  # an unlock or enable is confirmed first
            reason = str(form.get("reason") or "").strip()
            await ctx.api.post("registry", f"/v1/accounts/{account_id}/{decision}", json={"reason": reason} if reason else {})
            return None

        async def at_row(ctx: Ctx, err: ApiError, _form: dict[str, Any]) -> Response[str]:
            return await accounts_page(ctx, error=err, failed=account_id)

        done = "/accounts?" + urlencode(listed(kit.ctx(request)) | {"done": "1"})
        return await kit.submit(request, ("secadmin",), run, again=at_row, done=done)

    return [accounts, create_account, decide]
