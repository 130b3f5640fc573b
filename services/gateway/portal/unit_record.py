"""A unit's record as the center and the bureau see it, and the bureau's changes of its status
(R27, issue 17) at ``/review/units/{id}``: name, credit code, kind, county, department, parent
unit by name, status and voucher acceptance; the bureau suspends an approved unit's sharing
(``suspendUnit``), reinstates a suspended one (``reinstateUnit``) or cancels its sharing
qualification for good (``disqualifyUnit``), each offered only from the status the registry
allows it from. Which changes are offered, and which need a reason, the registry says
(``getUnit``'s ``actions`` for the caller); it also refuses a change not allowed now or a
missing reason, and the refusal is shown at the change's reason. Disqualifying also needs
a ticked confirmation (it is final and takes the voucher acceptance with it), the portal's
own question, asked before the registry is. Reached from /review/units (the unit's name)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, at_field, confirmed
from services.gateway.portal.core import Ctx, Kit
from services.gateway.portal.i18n import label, translate
from services.gateway.portal.party_names import unit_names

STAFF = ("center", "bureau")
BUREAU = ("bureau",)
#: the registry's operations of a unit's status change (suspendUnit …) this page posts to;
#: when each is allowed and whether it needs a reason is the registry's answer (``actions``)
CHANGES = frozenset({"suspend", "reinstate", "disqualify"})


def changed_meanwhile(err: ApiError) -> ApiError:
    """``unit.illegal_transition`` (the unit's status changed since the page was shown) in the
    portal's words, with the status it now has in words (the registry's message names its code)."""
    details = err.problem.get("details")
    status = str(details.get("current_status") or "") if isinstance(details, dict) else ""
    words = {lang: translate("unit_status_changed_meanwhile", lang, status=label(status, lang)) for lang in ("zh", "en")}
    return ApiError(409, {"code": err.code, "message_zh": words["zh"], "message_en": words["en"]})


async def unit_page(ctx: Ctx, unit_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    unit = await ctx.api.answer("registry", f"/v1/units/{unit_id}")
    if isinstance(unit, ApiError):
        return ctx.error_page(unit)
    parent = await unit_names(ctx, [unit.get("parent_unit_id")])
    return ctx.render("unit_record.html", unit=unit, parent_name=parent.get(unit.get("parent_unit_id") or ""), actions=unit.get("actions") or [], failed=failed, **ctx.outcome(error, form))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/review/units/{unit_id:str}")
    async def record(request: Request[Any, Any, Any], unit_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, STAFF, unit_page, unit_id)

    @action("/review/units/{unit_id:str}/status/{change:str}")
    async def change_status(request: Request[Any, Any, Any], unit_id: FromPath[str], change: FromPath[str]) -> Response[str]:
        """The bureau suspends, reinstates or disqualifies the unit; the reason is the form's
        ``<change>_reason``, the disqualification's confirmation ``disqualify_confirm``. The
        registry refuses a change not allowed now (``unit.illegal_transition``) or a missing
        reason (``decision.reason_required``): shown at the reason."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            if change not in CHANGES:
                return Kit.not_found(ctx, "portal.unknown_decision")
            reason = str(form.get(f"{change}_reason") or "").strip()
            if change == "disqualify":
                confirmed(form, "a_disqualification_needs_confirming", field="disqualify_confirm")
            await ctx.api.post("registry", f"/v1/units/{unit_id}/{change}", json={"reason": reason} if reason else {})
            return None

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            if err.code == "unit.illegal_transition":  # another officer changed it meanwhile: its status in words, not the registry's code
                err = changed_meanwhile(err)
            return await unit_page(ctx, unit_id, error=at_field(err, f"{change}_reason"), form=form, failed=change)

        return await kit.submit(request, BUREAU, run, again=again, done=f"/review/units/{unit_id}?done=1")

    return [record, change_status]
