"""The evaluation's figures on pages (issue 17): the year's reports per unit, county and instrument
category for the center and the bureau (``getUnitsReport``, ``getCountiesReport``,
``getCategoriesReport``, each paged as the API pages, and their workbooks passed through the
gateway: ``exportUnitsReport``, ``exportCountiesReport``, ``exportCategoriesReport``); a competent
department's figures (``getDepartmentSummary``) with its units (``listEvaluationUnits``), each
linking to the unit's use of its instruments (``getUnitUse``), which the unit reaches from its
evaluation page; and the redemption claims as vouchers' review reached evaluation
(``listReviewedRedemptions``), each by its case number and its unit's name."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, asked_year
from services.gateway.portal.paging import kept_query, page_number, paged
from services.gateway.portal.figures import hours, minutes_as_hours, percent
from services.gateway.portal.party_names import looked_up, unit_names

STAFF = ("center", "bureau")
#: the workbooks passed through (``/reports/{year}/units.xlsx`` …)
EXPORTS = ("units.xlsx", "counties.xlsx", "categories.xlsx")


async def reports_page(ctx: Ctx, year: int) -> Response[str]:
    """Three tables, each with its own pages (units ``page``, counties ``cpage``, categories ``kpage``)."""
    year = asked_year(ctx, year)
    pg, cpg, kpg = page_number(ctx), page_number(ctx, "cpage"), page_number(ctx, "kpage")
    units, counties, categories = await asyncio.gather(
        ctx.api.answer("evaluation", f"/v1/reports/{year}/units", page=pg, page_size=REVIEW_PAGE_SIZE),
        ctx.api.answer("evaluation", f"/v1/reports/{year}/counties", page=cpg, page_size=REVIEW_PAGE_SIZE),
        ctx.api.answer("evaluation", f"/v1/reports/{year}/categories", page=kpg, page_size=REVIEW_PAGE_SIZE),
    )
    for got in (units, counties, categories):
        if isinstance(got, ApiError):
            return ctx.error_page(got)
    return ctx.render(
        "evaluation_reports.html",
        year=year,
        units=units,
        counties=counties,
        categories=categories,
        unit_pages=paged(units, pg, REVIEW_PAGE_SIZE),
        county_pages=paged(counties, cpg, REVIEW_PAGE_SIZE),
        category_pages=paged(categories, kpg, REVIEW_PAGE_SIZE),
        unit_base=kept_query(ctx, "page"),
        county_base=kept_query(ctx, "cpage"),
        category_base=kept_query(ctx, "kpage"),
        hours=hours,
        minutes_as_hours=minutes_as_hours,
    )


async def department_page(ctx: Ctx) -> Response[str]:
    """A department's own figures; the center and the bureau name the department (``?department=``)."""
    year = asked_year(ctx)
    department = (ctx.request.query_params.get("department") or "").strip()[:100] if ctx.role in STAFF else (ctx.org or "")
    if ctx.role in STAFF and not department:
        return ctx.render("department_summary.html", year=year, department="", summary=None, units=[], unit_pages=None, unit_base={}, hours=hours, percent=percent)
    pg = page_number(ctx)
    summary, units = await asyncio.gather(
        ctx.api.answer("evaluation", f"/v1/reports/{year}/department", department=department if ctx.role in STAFF else None),
        # the department's own units (center and bureau: the report of the units of that department)
        ctx.api.maybe("evaluation", "/v1/units/", page=pg, page_size=REVIEW_PAGE_SIZE)
        if ctx.role == "department"
        else ctx.api.maybe("evaluation", f"/v1/reports/{year}/units", department=department, page=pg, page_size=REVIEW_PAGE_SIZE),
    )
    if isinstance(summary, ApiError):
        return ctx.error_page(summary)
    rows = [u.get("unit") or u for u in (units or {}).get("items") or []]
    return ctx.render(
        "department_summary.html",
        year=year,
        department=department,
        summary=summary,
        units=rows,
        unit_pages=paged(units, pg, REVIEW_PAGE_SIZE),
        unit_base=kept_query(ctx, "page"),
        hours=hours,
        percent=percent,
    )


async def use_page(ctx: Ctx, unit_id: str) -> Response[str]:
    """A unit's use of its instruments in the year, each instrument by its name."""
    if ctx.role == "unit" and unit_id != ctx.org:
        return ctx.render("error.html", status=403, error=ctx.t("error"), code="auth.forbidden")
    year = asked_year(ctx)
    use, unit = await asyncio.gather(ctx.api.answer("evaluation", f"/v1/units/{unit_id}/use/{year}"), ctx.api.maybe("registry", f"/v1/units/{unit_id}"))
    if isinstance(use, ApiError):
        return ctx.error_page(use)
    names = await looked_up(ctx, "registry", "/v1/instruments/", (i["instrument_id"] for i in use.get("instruments") or []))
    return ctx.render("unit_use.html", year=year, use=use, unit=unit or {}, names=names, minutes_as_hours=minutes_as_hours, percent=percent)


async def redemptions_page(ctx: Ctx) -> Response[str]:
    """The year's reviewed claims, each by its case number (vouchers' claim), its unit's name
    and the notice that listed it (by the notice's case number)."""
    year = asked_year(ctx)
    pg = page_number(ctx)
    found = await ctx.api.answer("evaluation", "/v1/redemptions/", year=year, page=pg, page_size=REVIEW_PAGE_SIZE)
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    items = found["items"]
    names, case_nos, notice_nos = await asyncio.gather(
        unit_names(ctx, (r["unit_id"] for r in items)),
        looked_up(ctx, "vouchers", "/v1/redemption/claims/", (r["claim_id"] for r in items), "case_no"),
        looked_up(ctx, "evaluation", "/v1/notices/", (r.get("notice_id") for r in items), "case_no"),
    )
    return ctx.render(
        "evaluation_redemptions.html", year=year, items=items, names=names, case_nos=case_nos, notice_nos=notice_nos,
        paging=paged(found, pg, REVIEW_PAGE_SIZE), base=kept_query(ctx, "page"),
    )


def handlers(kit: Kit) -> list[Any]:
    page = kit.page

    @page("/reports")
    async def reports_now(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = kit.ctx(request)
        return kit.need(ctx, *STAFF) or ctx.redirect(f"/reports/{asked_year(ctx)}")

    @page("/reports/{year:int}")
    async def reports(request: Request[Any, Any, Any], year: FromPath[int]) -> Response[str]:
        return await kit.show(request, STAFF, reports_page, year)

    @get("/reports/{year:int}/{workbook:str}", include_in_schema=False, **kit.pub)
    async def report_export(request: Request[Any, Any, Any], year: FromPath[int], workbook: FromPath[str]) -> Response[Any]:
        """A report's workbook as the evaluation service answers it (type and file name kept)."""
        if workbook not in EXPORTS:
            return Kit.not_found(kit.ctx(request), "portal.not_found")
        return await kit.download(request, STAFF, "evaluation", f"/v1/reports/{year}/{workbook}")

    @page("/department/summary")
    async def department(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, ("department", *STAFF), department_page)

    @page("/units/{unit_id:str}/use")
    async def unit_use(request: Request[Any, Any, Any], unit_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, ("unit", "department", *STAFF), use_page, unit_id)

    @page("/evaluation/redemptions")
    async def redemptions(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, STAFF, redemptions_page)

    return [reports_now, reports, report_export, department, unit_use, redemptions]
