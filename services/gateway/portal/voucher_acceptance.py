"""A unit's approval to accept innovation vouchers on a page (R18, issue 17): the center or
the bureau enters the unit's R18 evidence — full-time technical staff, service content,
service norms, fees published, no bad credit — and grants the approval
(``grantVoucherAcceptance``; the registry decides, listing every condition the unit fails,
each shown at its field), or revokes it with a reason (``revokeVoucherAcceptance``, R18,
R27). Reached from /review/units."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, reason_required
from services.gateway.portal.core import Ctx, Kit

STAFF = ("center", "bureau")
#: an R18 condition the registry refuses on, by its code: the form's field it concerns
FIELD_OF = {
    "acceptance.no_staff": "full_time_staff",
    "acceptance.no_service_content": "service_content",
    "acceptance.no_service_norms": "service_norms",
    "acceptance.fees_not_published": "fees_published",
    "acceptance.bad_credit": "no_bad_credit",
}


def at_fields(err: ApiError, lang: str) -> dict[str, str]:
    """The refusal's field errors, with each failed R18 condition (``details.failures``) at its field."""
    found = dict(err.field_errors(lang))
    details = err.problem.get("details")
    for failure in (details.get("failures") if isinstance(details, dict) else None) or []:
        field = FIELD_OF.get(str(failure.get("code"))) if isinstance(failure, dict) else None
        words = failure.get("message_en" if lang == "en" else "message_zh") if field else None
        if field and isinstance(words, str):
            found[field] = words
    return found


def evidence_of(form: dict[str, Any]) -> dict[str, Any]:
    """The ``grantVoucherAcceptance`` body: a staff count that is not a whole number goes as typed,
    for the registry to refuse at its field."""
    staff = str(form.get("full_time_staff") or "").strip()
    body: dict[str, Any] = {
        "full_time_staff": int(staff) if staff.isdigit() else staff,
        "service_content": str(form.get("service_content") or "").strip(),
        "service_norms": str(form.get("service_norms") or "").strip(),
        "fees_published": bool(form.get("fees_published")),
        "no_bad_credit": bool(form.get("no_bad_credit")),
    }
    if reason := str(form.get("reason") or "").strip():
        body["reason"] = reason
    return body


async def acceptance_page(ctx: Ctx, unit_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    unit = await ctx.api.answer("registry", f"/v1/units/{unit_id}")
    if isinstance(unit, ApiError):
        return ctx.error_page(unit)
    shown = form if form is not None else {"service_content": unit.get("service_content") or ""}
    field_errors = at_fields(error, ctx.lang) if error else None
    return ctx.render("unit_acceptance.html", unit=unit, **ctx.outcome(error, shown, field_errors=field_errors))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/review/units/{unit_id:str}/vouchers")
    async def acceptance(request: Request[Any, Any, Any], unit_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, STAFF, acceptance_page, unit_id)

    @action("/review/units/{unit_id:str}/vouchers/grant")
    async def grant(request: Request[Any, Any, Any], unit_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            await ctx.api.post("registry", f"/v1/units/{unit_id}/voucher-acceptance", json=evidence_of(form))

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await acceptance_page(ctx, unit_id, error=err, form=form)

        return await kit.submit(request, STAFF, run, again=again, done=f"/review/units/{unit_id}/vouchers?done=1")

    @action("/review/units/{unit_id:str}/vouchers/revoke")
    async def revoke(request: Request[Any, Any, Any], unit_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            reason = str(form.get("revoke_reason") or "").strip()
            if not reason:
                raise reason_required("acceptance_revoke_reason", "revoke_reason")
            await ctx.api.call("DELETE", "registry", f"/v1/units/{unit_id}/voucher-acceptance", json={"reason": reason})

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await acceptance_page(ctx, unit_id, error=err, form=form)

        return await kit.submit(request, STAFF, run, again=again, done=f"/review/units/{unit_id}/vouchers?done=1")

    return [acceptance, grant, revoke]
