"""An instrument's usage log on the unit's page (issue 16, issue 17) at
``/unit/instruments/{id}/usage``: its sessions of use, latest first, 20 a page
(``listUsageSessions``), each with its order by case number (or the unit's own researcher), the
start, end and minutes in Beijing time and its corrections; the unit enters a finished session
by hand (``recordUsage``: for one of its in-service orders of the instrument, or for its own
research) and corrects a closed session's start and end with a reason (``correctUsage``). A time
left blank or mistyped, no order, no researcher, no reason are refused at their fields before the
registry is asked; the registry's refusals (the end before the start, in the future, too long,
overlapping another session) at theirs, in the row of the session they concern."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, missing, reason_required
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, instrument_of
from services.gateway.portal.paging import WHOLE, kept_query, page_number, paged
from services.gateway.portal.instrument_time import local_moment
from services.gateway.portal.party_names import looked_up
from services.runtime.clock import POLICY_ZONE

UNIT = ("unit",)
KINDS = ("outside", "internal")


def input_value(value: Any) -> str:
    """A moment the registry answered (UTC) as a ``datetime-local`` field's value in Beijing time."""
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return moment.astimezone(POLICY_ZONE).strftime("%Y-%m-%dT%H:%M")


def times_of(form: dict[str, Any]) -> tuple[str, str]:
    """The form's start and end as ISO 8601 (Beijing time); a blank one is refused at its field."""
    if blank := [f for f in ("started_at", "ended_at") if not str(form.get(f) or "").strip()]:
        raise missing(*blank)
    started, ended = local_moment(str(form["started_at"]), "started_at"), local_moment(str(form["ended_at"]), "ended_at")
    return str(started), str(ended)


async def usage_page(ctx: Ctx, instrument_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    inst = await instrument_of(ctx, instrument_id)
    if isinstance(inst, Response):
        return inst
    pg = page_number(ctx)
    sessions, serving = await asyncio.gather(
        ctx.api.maybe("registry", "/v1/usage/sessions/", instrument_id=instrument_id, page=pg, page_size=REVIEW_PAGE_SIZE),
        ctx.api.maybe("registry", "/v1/orders/", status="in_service", page_size=WHOLE),
    )
    items = (sessions or {"items": []})["items"]
    orders = [o for o in (serving or {"items": []})["items"] if any(i.get("instrument_id") == instrument_id for i in o.get("items") or [])]
    known = {o["order_id"]: o.get("case_no") for o in orders}
    known |= await looked_up(ctx, "registry", "/v1/orders/", (s.get("order_id") for s in items if s.get("order_id") not in known), "case_no")
    for s in items:
        s["started_input"], s["ended_input"] = input_value(s.get("started_at")), input_value(s.get("ended_at"))
    return ctx.render(
        "instrument_usage.html",
        inst=inst,
        items=items,
        orders=orders,
        case_nos=known,
        kinds=KINDS,
        paging=paged(sessions, pg, REVIEW_PAGE_SIZE),
        base=kept_query(ctx, "page"),
        failed=failed,
        **ctx.outcome(error, form),
    )


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/unit/instruments/{instrument_id:str}/usage")
    async def log(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, UNIT, usage_page, instrument_id)

    @action("/unit/instruments/{instrument_id:str}/usage")
    async def record(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        """A finished session entered whole: an in-service order's, or the unit's own research."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            kind = str(form.get("kind") or "outside")
            body: dict[str, Any] = {"instrument_id": instrument_id, "kind": kind if kind in KINDS else "outside"}
            if body["kind"] == "outside":
                if not form.get("order_id"):
                    raise missing("order_id")
                body["order_id"] = str(form["order_id"])
            else:
                if not str(form.get("researcher") or "").strip():
                    raise missing("researcher")
                body["researcher"] = str(form["researcher"]).strip()
            body["started_at"], body["ended_at"] = times_of(form)
            await ctx.api.post("registry", "/v1/usage/sessions/", json=body)

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await usage_page(ctx, instrument_id, error=err, form=form, failed="new")

        return await kit.submit(request, UNIT, run, again=again, done=f"/unit/instruments/{instrument_id}/usage?done=1")

    @action("/unit/instruments/{instrument_id:str}/usage/{session_id:str}/correct")
    async def correct(request: Request[Any, Any, Any], instrument_id: FromPath[str], session_id: FromPath[str]) -> Response[str]:
        """A closed session's start and end corrected, with the reason (kept with the times before)."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            started, ended = times_of(form)
            reason = str(form.get("reason") or "").strip()
            if not reason:
                raise reason_required("a_usage_correction_needs_a_reason")
            await ctx.api.post("registry", f"/v1/usage/sessions/{session_id}/correct", json={"started_at": started, "ended_at": ended, "reason": reason})

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await usage_page(ctx, instrument_id, error=err, form=form, failed=session_id)

        return await kit.submit(request, UNIT, run, again=again, done=f"/unit/instruments/{instrument_id}/usage?done=1")

    return [log, record, correct]
