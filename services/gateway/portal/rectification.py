"""限期整改 on a page (M15, issue 17): a unit graded unqualified reports its rectification by
its deadline (``submitRectificationReport``; it may send a new report until a re-check
passes it), and the bureau records the re-check, passed or failed with a reason
(``recheckRectification``). ``/rectification/{year}/{unit_id}`` shows the deadline, the
report and the re-check to the unit, its department, the center and the bureau
(``getRectification``), with each one's form where it may act. The report's form carries
the version it was shown with (``If-Match``; ``If-None-Match: *`` for a first report), so a
colleague's report sent meanwhile is shown instead of being overwritten unseen. Reached from the unit's
evaluation page and, for the staff, from the grades notice's unqualified lines."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, missing, reason_required
from services.gateway.portal.core import Ctx, Kit
from services.gateway.portal.versioned import if_match

READERS = ("unit", "department", "center", "bureau")
OUTCOMES = ("passed", "failed")


async def rectification_page(ctx: Ctx, year: int, unit_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    if ctx.role == "unit" and unit_id != ctx.org:
        return ctx.render("error.html", status=403, error=ctx.t("error"), code="auth.forbidden")
    found = await ctx.api.answer("evaluation", f"/v1/rectifications/{year}/{unit_id}")
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    unit = await ctx.api.maybe("registry", f"/v1/units/{unit_id}") or {}
    shown = form if form is not None else {"report": found.get("report") or ""}
    return ctx.render("rectification.html", r=found, unit=unit, year=year, outcomes=OUTCOMES, **ctx.outcome(error, shown))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/rectification/{year:int}/{unit_id:str}")
    async def show(request: Request[Any, Any, Any], year: FromPath[int], unit_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, READERS, rectification_page, year, unit_id)

    @action("/rectification/{year:int}/{unit_id:str}/report")
    async def report(request: Request[Any, Any, Any], year: FromPath[int], unit_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            text = str(form.get("report") or "").strip()
            if not text:
                raise missing("report")
            await ctx.api.post("evaluation", f"/v1/rectifications/{year}/report", json={"report": text}, headers=if_match(form))

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await rectification_page(ctx, year, unit_id, error=err, form=form)

        # a colleague's report in between: the page shows it, beside what was typed here
        return await kit.submit(request, ("unit",), run, again=again, done=f"/rectification/{year}/{unit_id}?done=1", keep_typed=True)

    @action("/rectification/{year:int}/{unit_id:str}/recheck")
    async def recheck(request: Request[Any, Any, Any], year: FromPath[int], unit_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            outcome = str(form.get("outcome") or "")
            if outcome not in OUTCOMES:
                raise missing("outcome")
            reason = str(form.get("reason") or "").strip()
            if not reason:
                raise reason_required("recheck_reason")
            await ctx.api.post("evaluation", f"/v1/rectifications/{year}/{unit_id}/recheck", json={"outcome": outcome, "reason": reason})

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await rectification_page(ctx, year, unit_id, error=err, form=form)

        return await kit.submit(request, ("bureau",), run, again=again, done=f"/rectification/{year}/{unit_id}?done=1")

    return [show, report, recheck]
