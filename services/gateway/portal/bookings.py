"""Instrument time in the portal (issue 16): an instrument's week of free and busy
time (anybody), booking a free slot for one of the user's orders and the user's
bookings ("我的预约"), the unit's booking management ("预约管理": confirm,
decline, no-show, cancel) and its schedule and downtime forms. The registry
decides every rule; the pages show its refusals at their fields."""

from __future__ import annotations

import asyncio

from datetime import timedelta
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal import instrument_time as it
from services.gateway.portal.client import ApiError, reason_required
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, again
from services.gateway.portal.paging import WHOLE, kept_query, page_number, paged
from services.gateway.portal.i18n import said_problem
from services.gateway.portal.party_names import looked_up
from services.gateway.portal.notifications import booking_page
from services.gateway.portal.versioned import if_match
from services.runtime import clock

#: the order states in which an order takes bookings
BOOKABLE = ("requested", "quoted", "contracted", "in_service")
#: 我的预约's three lists, each paged by its own query parameter: to confirm, confirmed, all
GROUP_PAGES = {"requested": "rpage", "confirmed": "cpage", "all": "page"}
UNIT = ("unit",)


async def week_view(ctx: Ctx, instrument_id: str) -> dict[str, Any]:
    """The week ``?week=`` names (this one by default) of an instrument: its days with free and
    busy time (never who booked), the links to the weeks before and after."""
    monday = it.monday_of(ctx.request.query_params.get("week"), clock.local_today())
    start, end = it.week_bounds(monday)
    error = None
    availability, schedule = await asyncio.gather(
        ctx.api.answer("registry", f"/v1/instruments/{instrument_id}/availability", **{"from": start, "to": end}),
        ctx.api.maybe("registry", f"/v1/instruments/{instrument_id}/schedule"),
    )
    if isinstance(availability, ApiError):  # an instrument not listed or not in service has no public time: nothing to say
        availability, error = None, (None if availability.status in (403, 404) else availability.message(ctx.lang))
    minutes = int((schedule or {}).get("min_minutes") or 30)
    days = it.week_days(monday, availability, ctx.lang)
    slot = int((schedule or {}).get("slot_minutes") or 30)
    for day in days:
        day["free"] = it.on_grid(day["free"], slot, minutes)
        for piece in day["free"]:
            piece["first_end"] = it.first_slot(piece, minutes)
    return {
        "monday": monday.isoformat(),
        "sunday": (monday + timedelta(days=6)).isoformat(),
        "prev": (monday - timedelta(days=7)).isoformat(),
        "next": (monday + timedelta(days=7)).isoformat(),
        "days": days,
        "schedule": schedule,
        "error": error,
    }


async def orders_for(ctx: Ctx, instrument_id: str) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The signed-in user's orders that include the instrument and may still be booked for: its open
    orders read by state, a whole page (100) of each; beyond that, how many were left unread."""
    found = await asyncio.gather(*(ctx.api.maybe("registry", "/v1/orders/", status=s, page_size=WHOLE) for s in BOOKABLE))
    items = [o for got in found for o in (got or {}).get("items") or []]
    total = sum(int((got or {}).get("total") or 0) for got in found)
    more = {"shown": len(items), "total": total} if total > len(items) else None
    return [o for o in items if any(i["instrument_id"] == instrument_id for i in o.get("items") or [])], more


async def book_page(ctx: Ctx, instrument_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    try:
        inst = await ctx.api.get("registry", f"/v1/instruments/{instrument_id}")
    except ApiError as err:
        return ctx.error_page(err)
    q = ctx.request.query_params
    typed = form or {"day": q.get("day") or "", "start": q.get("start") or "", "end": q.get("end") or ""}
    shown = ctx.outcome(error, typed)
    if error:  # the API names the times' fields; the form has a day and two times
        errs = shown["field_errors"]
        for api, own in (("starts_at", "start"), ("ends_at", "end"), ("instrument_id", "start")):
            if api in errs:
                errs.setdefault(own, errs.pop(api))
    orders, more = await orders_for(ctx, instrument_id)
    return ctx.render("booking.html", inst=inst, orders=orders, orders_more=more, **shown)


async def bookings_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The user's bookings, or the unit's bookings of its instruments: the requested ones
    (``?rpage=``), the confirmed ones (``?cpage=``) and all of them, whatever their state
    (``?page=``), each list paged."""
    pages = {key: page_number(ctx, param) for key, param in GROUP_PAGES.items()}
    answers = await asyncio.gather(
        *(ctx.api.maybe("registry", "/v1/bookings/", status=None if key == "all" else key, page=pages[key], page_size=REVIEW_PAGE_SIZE) for key in GROUP_PAGES)
    )
    results = {key: got or {"items": []} for key, got in zip(GROUP_PAGES, answers, strict=True)}
    names = await looked_up(ctx, "registry", "/v1/instruments/", (b["instrument_id"] for r in results.values() for b in r["items"]))
    return ctx.render(
        "bookings.html",
        groups={key: r["items"] for key, r in results.items()},
        paging={key: paged(r, pages[key], REVIEW_PAGE_SIZE) for key, r in results.items()},
        bases={key: kept_query(ctx, param) for key, param in GROUP_PAGES.items()},
        params=GROUP_PAGES,
        names=names,
        is_unit=ctx.role == "unit",
        **ctx.outcome(error, form),
    )


async def time_page(ctx: Ctx, instrument_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The unit's page of one instrument's time: its week, schedule form, downtime form and list."""
    try:
        inst = await ctx.api.get("registry", f"/v1/instruments/{instrument_id}")
    except ApiError as err:
        return ctx.error_page(err)
    week = await week_view(ctx, instrument_id)
    downtimes = await ctx.api.maybe("registry", f"/v1/instruments/{instrument_id}/downtimes")
    shown = ctx.outcome(error, form)
    shown["form"] = it.schedule_form(week["schedule"]) | shown["form"]
    errs = shown["field_errors"]
    for key in list(errs):
        if key.startswith("weekly_hours"):
            errs.setdefault("weekly_hours", errs.pop(key))
    items = downtimes.get("items", downtimes) if isinstance(downtimes, dict) else (downtimes or [])
    qualifications = await ctx.api.maybe("registry", f"/v1/instruments/{instrument_id}/qualifications") or []
    return ctx.render("instrument_time.html", inst=inst, week=week, downtimes=items, qualifications=qualifications, weekdays=it.WEEKDAYS, weekday_names=it.WEEKDAY_NAMES, **shown)


async def grant_qualification(ctx: Ctx, form: dict[str, Any], instrument_id: str) -> None:
    """The unit records a person trained on the instrument until a day (Beijing)."""
    body = {"username": str(form.get("username") or "").strip(), "valid_until": str(form.get("valid_until") or "").strip()}
    missing = [k for k, v in body.items() if not v]
    if missing:
        raise ApiError(422, {"code": "request.invalid", "details": {"missing": missing}})
    await ctx.api.call("PUT", "registry", f"/v1/instruments/{instrument_id}/qualifications", json=body)


async def revoke_qualification(ctx: Ctx, form: dict[str, Any], instrument_id: str, qualification_id: str) -> None:
    """The unit withdraws a qualification with a reason, shown at that qualification's form."""
    field = f"revoke_{qualification_id}"
    reason = str(form.get("reason") or "").strip()
    if not reason:
        raise reason_required("a_revocation_needs_a_reason", field)
    try:
        await ctx.api.post("registry", f"/v1/instruments/{instrument_id}/qualifications/{qualification_id}/revoke", json={"reason": reason})
    except ApiError as err:
        details = err.problem.get("details") if isinstance(err.problem.get("details"), dict) else {}
        err.problem["details"] = {**details, "field": field}
        err.problem.pop("errors", None)
        raise


async def booking_step(ctx: Ctx, form: dict[str, Any], booking_id: str, step: str) -> Response[str] | None:
    base = f"/v1/bookings/{booking_id}"
    if step in ("confirm", "no-show"):
        await ctx.api.post("registry", f"{base}/{step}")
    elif step in ("decline", "cancel"):
        reason = str(form.get("reason") or "").strip()
        if not reason:
            raise reason_required("give_a_reason", f"reason_{booking_id}")
        try:
            await ctx.api.post("registry", f"{base}/{step}", json={"reason": reason})
        except ApiError as err:
            details = err.problem.get("details") if isinstance(err.problem.get("details"), dict) else {}
            err.problem["details"] = {**details, "field": f"reason_{booking_id}"}
            raise
    else:
        return Kit.not_found(ctx, "portal.unknown_step")
    return None


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/instruments/{instrument_id:str}/book")
    async def book(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, ("user",), book_page, instrument_id)

    @action("/bookings")
    async def book_post(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Any:
            day = str(form.get("day") or "")
            body: dict[str, Any] = {
                "instrument_id": str(form.get("instrument_id") or ""),
                "order_id": str(form.get("order_id") or ""),
                "starts_at": it.on_day(day, str(form.get("start") or ""), "start"),
                "ends_at": it.on_day(day, str(form.get("end") or ""), "end"),
            }
            if str(form.get("note") or "").strip():
                body["note"] = str(form["note"]).strip()
            if not body["order_id"]:
                raise ApiError(422, {"code": "booking.order_required", **said_problem("booking_order"), "details": {"field": "order_id"}})
            return await ctx.api.post("registry", "/v1/bookings/", json=body)

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await book_page(ctx, str(form.get("instrument_id") or ""), error=err, form=form)

        return await kit.submit(request, ("user",), run, again=refused, done="/bookings?done=1")

    @page("/bookings")
    async def my_bookings(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, ("user",), bookings_page)

    @page("/unit/bookings")
    async def unit_bookings(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, UNIT, bookings_page)

    @action("/bookings/{booking_id:str}/{step:str}")
    async def booking_action(request: Request[Any, Any, Any], booking_id: FromPath[str], step: FromPath[str]) -> Response[str]:
        ctx = kit.ctx(request)
        back = "/unit/bookings" if ctx.role == "unit" else "/bookings"

        async def run(c: Ctx, form: dict[str, Any]) -> Response[str] | None:
            refused = await booking_step(c, form, booking_id, step)
            if refused is None and form.get("back") == "booking":  # sent from the booking's own page
                return c.redirect(f"/bookings/{booking_id}?done=1")
            return refused

        async def shown_again(c: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            if form.get("back") == "booking":
                return await booking_page(c, booking_id, error=err, form=form)
            return await bookings_page(c, error=err, form=form)

        return await kit.submit(request, ("user", "unit"), run, again=shown_again, done=f"{back}?done=1")

    @page("/unit/instruments/{instrument_id:str}/time")
    async def instrument_time(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, UNIT, time_page, instrument_id)

    @action("/unit/instruments/{instrument_id:str}/schedule")
    async def schedule_post(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            await ctx.api.call("PUT", "registry", f"/v1/instruments/{instrument_id}/schedule", json=it.schedule_body(form), headers=if_match(form))

        return await kit.submit(request, UNIT, run, again=again(time_page, instrument_id), done=f"/unit/instruments/{instrument_id}/time?done=1")

    @action("/unit/instruments/{instrument_id:str}/downtimes")
    async def downtime_post(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            body = {
                "starts_at": it.local_moment(str(form.get("downtime_start") or ""), "downtime_start"),
                "ends_at": it.local_moment(str(form.get("downtime_end") or ""), "downtime_end"),
                "reason": str(form.get("downtime_reason") or "").strip(),
            }
            missing = [k for k, v in (("downtime_start", body["starts_at"]), ("downtime_end", body["ends_at"])) if not v]
            if missing:
                raise ApiError(422, {"code": "request.invalid", "details": {"missing": missing}})
            if not body["reason"]:
                raise reason_required("downtime_needs_a_reason", "downtime_reason")
            try:
                await ctx.api.post("registry", f"/v1/instruments/{instrument_id}/downtimes", json=body)
            except ApiError as err:
                details = err.problem.get("details") if isinstance(err.problem.get("details"), dict) else {}
                field = {"starts_at": "downtime_start", "ends_at": "downtime_end", "reason": "downtime_reason"}.get(str(details.get("field")), "downtime_end")
                err.problem["details"] = {**details, "field": field}
                err.problem.pop("errors", None)
                raise

        return await kit.submit(request, UNIT, run, again=again(time_page, instrument_id), done=f"/unit/instruments/{instrument_id}/time?done=1")

    @action("/unit/instruments/{instrument_id:str}/qualifications")
    async def qualification_post(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        done = f"/unit/instruments/{instrument_id}/time?done=1#qualifications"
        return await kit.submit(request, UNIT, lambda c, f: grant_qualification(c, f, instrument_id), again=again(time_page, instrument_id), done=done)

    @action("/unit/instruments/{instrument_id:str}/qualifications/{qualification_id:str}/revoke")
    async def qualification_revoke(request: Request[Any, Any, Any], instrument_id: FromPath[str], qualification_id: FromPath[str]) -> Response[str]:
        done = f"/unit/instruments/{instrument_id}/time?done=1#qualifications"
        return await kit.submit(request, UNIT, lambda c, f: revoke_qualification(c, f, instrument_id, qualification_id), again=again(time_page, instrument_id, form=False), done=done)

    return [book, book_post, my_bookings, unit_bookings, booking_action, instrument_time, schedule_post, downtime_post, qualification_post, qualification_revoke]
