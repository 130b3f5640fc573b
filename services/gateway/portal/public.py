"""Pages anybody may see: the home page, the catalogue and an instrument with its
prices, the notices (and the portal's stylesheet); the blacklist is blacklist.py's."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from services.gateway.portal import staff_evaluation
from services.gateway.portal.bookings import week_view
from services.gateway.portal.client import ApiError
from services.gateway.portal.instrument_photos import photos_of
from services.gateway.portal.unit_picker import chosen_unit, pick_unit
from services.gateway.portal.core import HERE, PAGE_SIZE, REVIEW_PAGE_SIZE, Ctx, Kit, this_year
from services.gateway.portal.paging import kept_query, page_links, page_number, paged, searched_case_no

#: the catalogue's orders (the registry's search_sql.SORTS)
SORTS = ("relevance", "price_asc", "price_desc", "name")
#: the latest comments an instrument's page shows
RATING_COMMENTS = 5


async def instrument_page(ctx: Ctx, instrument_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """An instrument, its photos, its active prices, its week of free and busy time and its users'
    ratings (the latest comments); the order form of a user (shown again with a refused order)."""
    found, prices, week, ratings = await asyncio.gather(
        ctx.api.answer("registry", f"/v1/instruments/{instrument_id}"),
        ctx.api.maybe("registry", f"/v1/instruments/{instrument_id}/prices"),
        week_view(ctx, instrument_id),
        ctx.api.maybe("registry", f"/v1/instruments/{instrument_id}/ratings", page_size=RATING_COMMENTS),
    )
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    inst = found
    unit, photos = await asyncio.gather(ctx.api.maybe("registry", f"/v1/units/{inst['unit_id']}"), photos_of(ctx, instrument_id))
    book_base = f"/instruments/{instrument_id}/book" if ctx.role == "user" and week["schedule"] else None
    return ctx.render(
        "instrument.html",
        inst=inst,
        unit=unit,
        prices=[p for p in (prices["items"] if prices else []) if p.get("active", True)],
        week=week,
        ratings=ratings,
        book_base=book_base,
        photos=photos,
        **ctx.outcome(error, form),
    )


async def home_page(ctx: Ctx) -> Response[str]:
    """The platform in figures, the latest instruments and notices (asked of the services at once);
    the few latest by design, each list's whole count among the figures."""
    year = this_year()
    cat, units, programme, notices = await asyncio.gather(
        ctx.api.maybe("registry", "/v1/catalogue/instruments", page_size=6),
        ctx.api.maybe("registry", "/v1/units/", page_size=1),
        ctx.api.maybe("vouchers", f"/v1/programmes/{year}"),
        ctx.api.maybe("evaluation", "/v1/notices/", page_size=5),
    )
    stats = {
        "instruments": cat["total"] if cat else 0,
        "units": units["total"] if units else 0,
        "budget": programme["budget_fen"] if programme else None,
        "committed": programme["committed_fen"] if programme else None,
        "notices": notices["total"] if notices else 0,
    }
    return ctx.render("home.html", stats=stats, year=year, latest=cat["items"] if cat else [], notices=notices["items"] if notices else [])


async def catalogue_page(ctx: Ctx) -> Response[str]:
    """The catalogue searched by ``?q=`` and filters, a page at a time, with the units to filter by."""
    q = ctx.request.query_params
    try:
        pg = max(1, int(q.get("page") or 1))
    except ValueError:
        pg = 1
    try:
        size = min(50, max(5, int(q.get("page_size") or PAGE_SIZE)))
    except ValueError:
        size = PAGE_SIZE
    filters = {k: q.get(k) or None for k in ("q", "category", "county_code", "unit_id", "sort")}
    filters["accepts_vouchers"] = "1" if q.get("accepts_vouchers") else None
    # the unit: part of its name or credit code (unit_picker), or its id from a link
    pick = await pick_unit(ctx, {k: q.get(k) for k in ("unit_id", "unit_id_q")}, "unit_id", approved_only=True)
    filters["unit_id"], filters["unit_id_q"] = pick.unit_id, pick.shown or None
    try:
        chosen_unit(pick, "unit_id", required=False)
    except ApiError as refused:  # no unit or several match what was typed: nothing searched until one is chosen
        found: Any = refused
    else:
        wanted = {k: v for k, v in filters.items() if v and k != "unit_id_q"} | ({"accepts_vouchers": "true"} if filters["accepts_vouchers"] else {})
        found = await ctx.api.answer("registry", "/v1/catalogue/instruments", page=pg, page_size=size, **wanted)
    error, result = (found, {"items": [], "total": 0}) if isinstance(found, ApiError) else (None, found)
    base = {k: v for k, v in filters.items() if v} | ({"page_size": size} if size != PAGE_SIZE else {})
    outcome = ctx.outcome(error) | {"status": 200}  # a refused filter is shown on the page, which still answers 200
    return ctx.render(
        "catalogue.html",
        items=result["items"],
        filters=filters,
        base=base,
        paging=page_links(result["total"], pg, size),
        pick=pick,
        suggestions=result.get("suggestions") or [],
        base_without_q={k: v for k, v in base.items() if k not in ("q", "category")},
        sorts=SORTS,
        **outcome,
    )


async def notices_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The notices, or the one with the case number searched for; the center and the bureau publish or propose from here."""
    case_no, pg = searched_case_no(ctx), page_number(ctx)
    result = await ctx.api.maybe("evaluation", "/v1/notices/", page=pg, page_size=REVIEW_PAGE_SIZE, case_no=case_no or None) or {"items": []}
    return ctx.render("notices.html", items=result["items"], case_no=case_no, paging=paged(result, pg, REVIEW_PAGE_SIZE), base=kept_query(ctx, "page"), may_publish=ctx.role in ("center", "bureau"), year=this_year(), **ctx.outcome(error, form))


def handlers(kit: Kit) -> list[Any]:
    page = kit.page

    @get("/static/portal.css", include_in_schema=False, media_type="text/css", **kit.pub)
    async def css() -> Response[bytes]:
        return Response((HERE / "static" / "portal.css").read_bytes(), media_type="text/css", headers={"Cache-Control": "public, max-age=300"})

    @page("/")
    async def home(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.public(request, home_page)

    @page("/instruments")
    async def catalogue(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.public(request, catalogue_page)

    @page("/instruments/{instrument_id:str}")
    async def instrument(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        return await kit.public(request, instrument_page, instrument_id)

    @page("/notices")
    async def notices(request: Request[Any, Any, Any]) -> Response[str]:
        return await notices_page(kit.ctx(request))

    @page("/notices/{notice_id:str}")
    async def notice(request: Request[Any, Any, Any], notice_id: FromPath[str]) -> Response[str]:
        return await staff_evaluation.notice_page(kit.ctx(request), notice_id)  # with its objections

    return [css, home, catalogue, instrument, notices, notice]  # /blacklist: blacklist.py
