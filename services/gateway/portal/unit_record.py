"""A unit's record as the center and the bureau see it, and the bureau's changes of its status
(R27, issue 17) at ``/review/units/{id}``: name, credit code, kind, county, department, parent
unit by name, status and voucher acceptance; the bureau suspends an approved unit's sharing
(``suspendUnit``), reinstates a suspended one (``reinstateUnit``) or cancels its sharing
qualification for good (``disqualifyUnit``), each offered only from the status the registry
allows it from. Suspending and disqualifying need a reason, disqualifying also a ticked
confirmation (it is final and takes the voucher acceptance with it): each refused at its own
field before the registry is asked. Reached from /review/units (the unit's name)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, at_field, reason_required, refused_at
from services.gateway.portal.core import Ctx, Kit
from services.gateway.portal.i18n import label, translate
from services.gateway.portal.party_names import unit_names

STAFF = ("center", "bureau")
BUREAU = ("bureau",)
#: the bureau's status changes of a unit: from which statuses the registry allows each (R27)
ACTIONS: dict[str, tuple[str, ...]] = {
    "suspend": ("approved",),
    "reinstate": ("suspended",),
    "disqualify": ("approved", "suspended"),
}
#: the ones that take something away: the reason is required (the registry's rule too)
NEEDS_REASON = ("suspend", "disqualify")
#: a missing reason's words (msgctxt "portal_refusal")
REASON_KEY = {"suspend": "a_suspension_needs_a_reason", "disqualify": "a_disqualification_needs_a_reason"}


def changed_meanwhile(err: ApiError) -> ApiError:
    """``unit.illegal_transition`` (the unit's status changed since the page was shown) in the
    portal's words, with the status it now has in words (the registry's message names its code)."""
    details = err.problem.get("details")
    status = str(details.get("current_status") or "") if isinstance(details, dict) else ""
    words = {lang: translate("unit_status_changed_meanwhile", lang, status=label(status, lang)) for lang in ("zh", "en")}
    return ApiError(409, {"code": err.code, "message_zh": words["zh"], "message_en": words["en"]})


def offered(status: str) -> list[str]:
    """The status changes the bureau may make from ``status``, in the page's order."""
    return [a for a, sources in ACTIONS.items() if status in sources]


async def unit_page(ctx: Ctx, unit_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    unit = await ctx.api.answer("registry", f"/v1/units/{unit_id}")
    if isinstance(unit, ApiError):
        return ctx.error_page(unit)
    parent = await unit_names(ctx, [unit.get("parent_unit_id")])
    actions = offered(str(unit.get("status"))) if ctx.role == "bureau" else []
    return ctx.render("unit_record.html", unit=unit, parent_name=parent.get(unit.get("parent_unit_id") or ""), actions=actions, failed=failed, **ctx.outcome(error, form))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/review/units/{unit_id:str}")
    async def record(request: Request[Any, Any, Any], unit_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, STAFF, unit_page, unit_id)

    @action("/review/units/{unit_id:str}/status/{change:str}")
    async def change_status(request: Request[Any, Any, Any], unit_id: FromPath[str], change: FromPath[str]) -> Response[str]:
        """The bureau suspends, reinstates or disqualifies the unit; the reason is the form's
        ``<change>_reason``, the disqualification's confirmation ``disqualify_confirm``."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            if change not in ACTIONS:
                return Kit.not_found(ctx, "portal.unknown_decision")
            reason = str(form.get(f"{change}_reason") or "").strip()
            if change in NEEDS_REASON and not reason:
                raise reason_required(REASON_KEY[change], f"{change}_reason")
            if change == "disqualify" and not form.get("disqualify_confirm"):
                raise refused_at("portal.confirm_required", "a_disqualification_needs_confirming", "disqualify_confirm")
            await ctx.api.post("registry", f"/v1/units/{unit_id}/{change}", json={"reason": reason} if reason else {})
            return None

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            if err.code == "unit.illegal_transition":  # another officer changed it meanwhile: its status in words, not the registry's code
                err = changed_meanwhile(err)
            return await unit_page(ctx, unit_id, error=at_field(err, f"{change}_reason"), form=form, failed=change)

        return await kit.submit(request, BUREAU, run, again=again, done=f"/review/units/{unit_id}?done=1")

    return [record, change_status]
