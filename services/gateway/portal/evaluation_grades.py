"""The evaluation's decisions on pages (issue 17): the center decides a scored application's
grade (``decideEvaluationGrade``) on the application's page, which shows the experts' sheets as
the API reports them (``listAssignments``, the pool's names from ``listExperts``), the grade
scale of the year (``getIndicatorSet``) and, once decided, every indicator's points, the total,
the grade and the next step; the center finalizes a public notice (``finalizeNotice``, a button
on the notice's page, its refusals at the button); the bureau opens the year's evaluation
(``openEvaluationCycle``) on ``/evaluation/cycles``, where center and bureau read the year's
cycle (``getEvaluationCycle``)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, with_field
from services.gateway.portal.core import Ctx, Kit, again, asked_year, yuan_to_fen
from services.gateway.portal.paging import WHOLE
from services.gateway.portal.figures import points
from services.gateway.portal.i18n import label
from services.gateway.portal.staff_evaluation import notice_page

STAFF = ("center", "bureau")
#: the states in which the center decides (again, after an objection reopened the case)
DECIDABLE = ("forwarded", "reopened")
GRADES = ("excellent", "good", "unqualified")
#: a refusal of the cycle's opening said at its field
CYCLE_FIELDS = {"cycle.already_open": "year", "report.year_out_of_range": "year"}


# -- the center decides a grade -------------------------------------------------------------


async def grade_page(ctx: Ctx, application_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The application, its experts' sheets, the year's grade scale, and for the center while
    the case waits for it the decision's form; once decided the points, total and grade."""
    app = await ctx.api.answer("evaluation", f"/v1/applications/{application_id}")
    if isinstance(app, ApiError):
        return ctx.error_page(app)
    assigned, pool, iset = await asyncio.gather(
        ctx.api.maybe("evaluation", "/v1/assignments/", application_id=application_id, page_size=WHOLE),
        ctx.api.maybe("evaluation", "/v1/experts/", page_size=WHOLE),
        ctx.api.maybe("evaluation", "/v1/indicator-set/", year=app["year"]),
    )
    sheets = (assigned or {}).get("items") or []
    names = {e["expert_id"]: e["name"] for e in (pool or {}).get("items") or []}
    iset = iset or {}
    indicators = [i for d in iset.get("dimensions") or [] for i in d.get("indicators") or []]
    scale = iset.get("parameters_of_year") or {}
    incomplete: dict[str, list[str]] = {}
    if error is not None and error.code == "grade.scores_incomplete":  # who has not scored, which role is missing: in words
        details = error.problem.get("details") or {}
        by_id = {s["assignment_id"]: s for s in sheets}
        incomplete = {
            "unscored": [f"{names.get(by_id[a]['expert_id'], label('expert_' + by_id[a]['role'], ctx.lang))}（{label('expert_' + by_id[a]['role'], ctx.lang)}）" for a in details.get("unscored_assignments") or [] if a in by_id],
            "missing": [label("expert_" + r, ctx.lang) for r in details.get("missing_roles") or []],
        }
    field_errors = error.field_errors(ctx.lang) if error else {}
    if error is not None and error.code.startswith("grade.") and not field_errors:  # a refusal at no field: at the button
        field_errors["grade"] = error.message(ctx.lang)
    return ctx.render(
        "evaluation_grade.html",
        a=app,
        sheets=sheets,
        names=names,
        indicators=indicators,
        expert_indicators=[i for i in indicators if i.get("source") == "expert"],
        scale=scale,
        grades=GRADES,
        decidable=app["status"] in DECIDABLE,
        incomplete=incomplete,
        points=points,
        **ctx.outcome(error, form, field_errors=field_errors),
    )


# -- the bureau opens the year ----------------------------------------------------------------


async def cycle_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The year's cycle (``?year=``, this year by default) and, for the bureau, the form opening one."""
    year = asked_year(ctx, (form or {}).get("year"))
    cycle = await ctx.api.maybe("evaluation", f"/v1/cycles/{year}")
    field_errors = error.field_errors(ctx.lang) if error else {}
    if error is not None:
        if error.code in CYCLE_FIELDS:
            field_errors.setdefault(CYCLE_FIELDS[error.code], error.message(ctx.lang))
        for api, shown in (("award_budget_fen", "award_budget"), ("redemption_opens_on", "redemption_opens_on"), ("redemption_closes_on", "redemption_closes_on")):
            if api in field_errors and api != shown:
                field_errors[shown] = field_errors.pop(api)
    typed = form if form is not None else {"year": str(year)}
    return ctx.render("evaluation_cycle.html", year=year, cycle=cycle, **ctx.outcome(error, typed, field_errors=field_errors))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/evaluation/applications/{application_id:str}")
    async def application(request: Request[Any, Any, Any], application_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, STAFF, grade_page, application_id)

    @action("/evaluation/applications/{application_id:str}/grade")
    async def decide_grade(request: Request[Any, Any, Any], application_id: FromPath[str]) -> Response[str]:
        """The center decides the grade of a scored application (the service computes it from the
        measures and the experts' means); deciding again a case an objection reopened needs a reason."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            # a reopened case without a reason: the service's grade.reason_required, at the reason field
            reason = str(form.get("reason") or "").strip()
            await ctx.api.post("evaluation", f"/v1/applications/{application_id}/grade", json={"reason": reason} if reason else {})

        return await kit.submit(request, ("center",), run, again=again(grade_page, application_id), done=f"/evaluation/applications/{application_id}?done=1#grade")

    @action("/notices/{notice_id:str}/finalize")
    async def finalize(request: Request[Any, Any, Any], notice_id: FromPath[str]) -> Response[str]:
        """The center makes a notice final once its window has closed and no objection is open."""

        async def run(ctx: Ctx, _form: dict[str, Any]) -> None:
            await ctx.api.post("evaluation", f"/v1/notices/{notice_id}/finalize", json={})

        async def again(ctx: Ctx, err: ApiError, _form: dict[str, Any]) -> Response[str]:
            with_field(err, "finalize", err.message)
            return await notice_page(ctx, notice_id, error=err, failed="finalize")

        return await kit.submit(request, ("center",), run, again=again, done=f"/notices/{notice_id}?done=1#finalize")

    @page("/evaluation/cycles")
    async def cycles(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, STAFF, cycle_page)

    @action("/evaluation/cycles")
    async def open_cycle(request: Request[Any, Any, Any]) -> Response[str]:
        """The bureau opens a year: its award budget in yuan, optionally the voucher redemption
        window (R20(1): both days or neither) and a reason."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> dict[str, Any]:
            year_text = str(form.get("year") or "").strip()
            body: dict[str, Any] = {
                "year": int(year_text) if year_text.isdigit() else year_text,
                "award_budget_fen": yuan_to_fen(str(form.get("award_budget") or "")),
            }
            for day in ("redemption_opens_on", "redemption_closes_on"):
                if form.get(day):
                    body[day] = str(form[day])
            if reason := str(form.get("reason") or "").strip():
                body["reason"] = reason
            return dict(await ctx.api.post("evaluation", "/v1/cycles/", json=body))

        return await kit.submit(request, ("bureau",), run, again=again(cycle_page), done=lambda c: f"/evaluation/cycles?year={c['year']}&done=1")

    return [application, decide_grade, finalize, cycles, open_cycle]
