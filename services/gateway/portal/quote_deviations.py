"""Quotes away from the published price list on a page (M11(4), issue 17; registry
``listQuoteDeviations``) at ``/supervision/quote-deviations``, for the center and the bureau: a
year's quotes of fiscally funded instruments above the order's amount at the published prices,
newest first, 20 a page, each with its order's case number (linked to the order), the unit and
the user by name, the published and the quoted amount in yuan, the difference, the unit's
reason and when it was quoted (Beijing time)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, asked_year
from services.gateway.portal.paging import kept_query, page_number, paged
from services.gateway.portal.party_names import looked_up, unit_names, user_names

STAFF = ("center", "bureau")


async def deviations_page(ctx: Ctx) -> Response[str]:
    year, pg = asked_year(ctx), page_number(ctx)
    found = await ctx.api.answer("registry", "/v1/quote-deviations/", year=year, page=pg, page_size=REVIEW_PAGE_SIZE)
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    items = found["items"]
    case_nos, units, users = await asyncio.gather(
        looked_up(ctx, "registry", "/v1/orders/", (d["order_id"] for d in items), "case_no"),
        unit_names(ctx, (d["unit_id"] for d in items)),
        user_names(ctx, (d["user_id"] for d in items)),
    )
    return ctx.render(
        "quote_deviations.html", year=year, items=items, case_nos=case_nos, units=units, users=users, paging=paged(found, pg, REVIEW_PAGE_SIZE), base=kept_query(ctx, "page")
    )


def handlers(kit: Kit) -> list[Any]:
    @kit.page("/supervision/quote-deviations")
    async def deviations(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, STAFF, deviations_page)

    return [deviations]
