"""The portal's notices (issues 16 and 17): the signed-in organisation's
notifications ("通知", newest first, the unread ones marked, each marked read with a
button, each link named by what it leads to: i18n_notices) and one booking's page ("/bookings/{id}", where a notification links): its
instrument, time in Beijing time, status, order and reason, with the user's cancel and
the unit's confirm and decline forms, which post to the bookings' own actions.

The unread count is shown on the notifications page only: the navigation bar is
rendered without calling any service, and one call per page render is not worth it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import PAGE_SIZE, Ctx, Kit
from services.gateway.portal.paging import page_links, page_number
from services.gateway.portal.i18n_notices import link_key

PARTIES = ("user", "unit")
#: who has a message centre: the parties and the city-wide staff roles
READERS = (*PARTIES, "center", "bureau", "finance")


async def notifications_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    page = page_number(ctx)
    unread_only = ctx.request.query_params.get("unread") == "1"
    try:
        result = await ctx.api.get("registry", "/v1/notifications/", page=page, page_size=PAGE_SIZE, unread="true" if unread_only else None)
    except ApiError as err:
        return ctx.error_page(err)
    base = {"unread": "1"} if unread_only else {}
    return ctx.render(
        "notifications.html",
        items=[{**n, "link_key": link_key(n["kind"])} for n in result["items"]],
        unread=result["unread"],
        unread_only=unread_only,
        pages=page_links(result["total"], page, PAGE_SIZE),
        base=base,
        **ctx.outcome(error, form),
    )


async def booking_page(ctx: Ctx, booking_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """One booking as its user or its unit sees it, with the steps it may take next."""
    try:
        booking = await ctx.api.get("registry", f"/v1/bookings/{booking_id}")
    except ApiError as err:
        return ctx.error_page(err)
    inst = await ctx.api.maybe("registry", f"/v1/instruments/{booking['instrument_id']}")
    shown = ctx.outcome(error, form)
    return ctx.render("booking_detail.html", b=booking, inst=inst, is_unit=ctx.role == "unit", **shown)


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/notifications")
    async def notifications(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, READERS, notifications_page)

    @action("/notifications/{notification_id:str}/read")
    async def mark_read(request: Request[Any, Any, Any], notification_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            await ctx.api.post("registry", f"/v1/notifications/{notification_id}/read")

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await notifications_page(ctx, error=err)

        return await kit.submit(request, READERS, run, again=refused, done="/notifications?done=1")

    @page("/bookings/{booking_id:str}")
    async def booking(request: Request[Any, Any, Any], booking_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, (), booking_page, booking_id)

    return [notifications, mark_read, booking]
