"""Quotes away from the published price list on a page (M11(4), issue 17; registry
``listQuoteDeviations``) at ``/supervision/quote-deviations``, for the center and the bureau: a
year's quotes of fiscally funded instruments above the order's amount at the published prices,
newest first, 20 a page, each with its order's case number (linked to the order), the unit and
the user by name, the published and the quoted amount in yuan, the difference, the unit's
reason and when it was quoted (Beijing time). One unit's quotes are asked for by part of its
name or credit code (``unit_picker``), or by its id from a link."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, asked_year
from services.gateway.portal.paging import kept_query, page_number, paged
from services.gateway.portal.party_names import looked_up, unit_names, user_names
from services.gateway.portal.unit_picker import chosen_unit, pick_unit

STAFF = ("center", "bureau")


async def deviations_page(ctx: Ctx) -> Response[str]:
    year, pg, q = asked_year(ctx), page_number(ctx), ctx.request.query_params
    pick = await pick_unit(ctx, {k: q.get(k) for k in ("unit_id", "unit_id_q")}, "unit_id")
    try:
        unit_id = chosen_unit(pick, "unit_id", required=False)
    except ApiError as refused:  # no unit or several match what was typed: the page says so at the field
        return ctx.render("quote_deviations.html", year=year, items=[], case_nos={}, units={}, users={}, pick=pick, paging=paged(None, 1, REVIEW_PAGE_SIZE),
                          base={}, **(ctx.outcome(refused) | {"status": 200}))
    found = await ctx.api.answer("registry", "/v1/quote-deviations/", year=year, page=pg, page_size=REVIEW_PAGE_SIZE, **({"unit_id": unit_id} if unit_id else {}))
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    items = found["items"]
    case_nos, units, users = await asyncio.gather(
        looked_up(ctx, "registry", "/v1/orders/", (d["order_id"] for d in items), "case_no"),
        unit_names(ctx, (d["unit_id"] for d in items)),
        user_names(ctx, (d["user_id"] for d in items)),
    )
    return ctx.render(
        "quote_deviations.html", year=year, items=items, case_nos=case_nos, units=units, users=users, pick=pick, paging=paged(found, pg, REVIEW_PAGE_SIZE),
        base=kept_query(ctx, "page", "find") | ({"unit_id": unit_id} if unit_id else {}),
    )


def handlers(kit: Kit) -> list[Any]:
    @kit.page("/supervision/quote-deviations")
    async def deviations(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, STAFF, deviations_page)

    return [deviations]
