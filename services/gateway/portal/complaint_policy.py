"""The bureau's page of a year's complaint handling deadline (M11(6); issue 17), over the
registry's ``getComplaintPolicy`` and ``setComplaintPolicy``: the deadline in working days
that complaints filed from then on take, the policy file's default until the bureau sets
one. The center reads it; the bureau changes it with an optional reason. The form carries
the version it showed (``If-Match``): a change another officer saved meanwhile is not
overwritten, the page shows it again with the current value (``versioned``)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import Ctx, Kit, again, asked_year
from services.gateway.portal.i18n import translate
from services.gateway.portal.versioned import if_match

READERS = ("center", "bureau")
FIELD = "handling_workdays"


def workdays(form: dict[str, Any]) -> int:
    """The typed deadline as a whole number; anything else refused at its field (the range is the registry's)."""
    text = str(form.get(FIELD) or "").strip()
    if not text.lstrip("-").isdigit():
        words = {f"message_{lang}": translate("complaint_policy_bad_number", lang) for lang in ("zh", "en")}
        raise ApiError(422, {"code": "complaint.invalid_deadline", **words, "details": {"field": FIELD}})
    return int(text)


async def policy_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    year = asked_year(ctx, (form or {}).get("year"))
    found = await ctx.api.answer("registry", f"/v1/complaints/policies/{year}")
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    return ctx.render("complaint_policy.html", year=year, policy=found, **ctx.outcome(error, form))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/complaints/policy")
    async def policy(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, READERS, policy_page)

    @action("/complaints/policy")
    async def set_policy(request: Request[Any, Any, Any]) -> Response[str]:
        """The bureau sets the year's deadline (1–250 working days, the registry checks the range)."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> int:
            year = asked_year(ctx, form.get("year"))
            body = {FIELD: workdays(form), "reason": str(form.get("reason") or "").strip() or None}
            await ctx.api.call("PUT", "registry", f"/v1/complaints/policies/{year}", json=body, headers=if_match(form))
            return year

        return await kit.submit(request, ("bureau",), run, again=again(policy_page), done=lambda year: f"/complaints/policy?year={year}&done=1")

    return [policy, set_policy]
