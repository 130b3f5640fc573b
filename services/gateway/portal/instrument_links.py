"""An instrument's calendar feeds and usage recorders on the unit's page (issues 16 and 17):
at ``/unit/instruments/{id}/connections`` the unit creates an iCalendar feed of the
instrument's bookings for its own calendar (``createCalendarFeed``), gives it a new address
(``rotateCalendarFeed``: the old one stops answering) or revokes it, and creates a recorder —
the credential of a terminal beside the instrument that records use (``createUsageRecorder``)
— or revokes it. A feed's address and a recorder's token are shown once, on the page that
answers their creation (the registry keeps only digests); the lists never show them."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import Ctx, Kit, again, instrument_of

UNIT = ("unit",)


async def links_page(ctx: Ctx, instrument_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None, secret: dict[str, str] | None = None) -> Response[str]:
    inst = await instrument_of(ctx, instrument_id)
    if isinstance(inst, Response):
        return inst
    feeds, recorders = await asyncio.gather(
        ctx.api.maybe("registry", f"/v1/instruments/{instrument_id}/calendar-feeds/"),
        ctx.api.maybe("registry", "/v1/usage/recorders/", instrument_id=instrument_id),
    )
    return ctx.render("instrument_links.html", inst=inst, feeds=feeds or [], recorders=recorders or [], secret=secret, **ctx.outcome(error, form))


def feed_url(ctx: Ctx, url_path: str) -> str:
    """The feed's address through the gateway (``/api/registry`` + the registry's path), on the
    portal's public address (XCISS_PUBLIC_URL: behind an ingress the request's own host is an
    internal one), else on the address the request came to."""
    base = ctx.portal.settings.public_url or str(ctx.request.base_url)
    return f"{base.rstrip('/')}/api/registry{url_path}"


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action
    base = "/unit/instruments/{instrument_id:str}/connections"

    @page(base)
    async def show(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, UNIT, links_page, instrument_id)

    @action(base + "/feeds")
    async def create_feed(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str]:
            label = str(form.get("label") or "").strip()
            made = await ctx.api.post("registry", f"/v1/instruments/{instrument_id}/calendar-feeds/", json={"label": label} if label else {})
            return await links_page(ctx, instrument_id, secret={"feed_url": feed_url(ctx, made["url_path"])})

        return await kit.submit(request, UNIT, run, again=again(links_page, instrument_id), done="")

    @action(base + "/feeds/{feed_id:str}/{op:str}")
    async def change_feed(request: Request[Any, Any, Any], instrument_id: FromPath[str], feed_id: FromPath[str], op: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, _form: dict[str, Any]) -> Response[str] | None:
            if op not in ("rotate", "revoke"):
                return kit.not_found(ctx, "portal.unknown_decision")
            made = await ctx.api.post("registry", f"/v1/instruments/{instrument_id}/calendar-feeds/{feed_id}/{op}", json=None)
            if op == "rotate":
                return await links_page(ctx, instrument_id, secret={"feed_url": feed_url(ctx, made["url_path"])})
            return None

        return await kit.submit(request, UNIT, run, again=again(links_page, instrument_id, form=False), done=f"/unit/instruments/{instrument_id}/connections?done=1")

    @action(base + "/recorders")
    async def create_recorder(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str]:
            name = str(form.get("name") or "").strip()
            made = await ctx.api.post("registry", "/v1/usage/recorders/", json={"instrument_id": instrument_id, "name": name})
            return await links_page(ctx, instrument_id, secret={"token": made["token"], "recorder": made["name"]})

        return await kit.submit(request, UNIT, run, again=again(links_page, instrument_id), done="")

    @action(base + "/recorders/{recorder_id:str}/revoke")
    async def revoke_recorder(request: Request[Any, Any, Any], instrument_id: FromPath[str], recorder_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, _form: dict[str, Any]) -> None:
            await ctx.api.post("registry", f"/v1/usage/recorders/{recorder_id}/revoke", json=None)

        return await kit.submit(request, UNIT, run, again=again(links_page, instrument_id, form=False), done=f"/unit/instruments/{instrument_id}/connections?done=1")

    return [show, create_feed, change_feed, create_recorder, revoke_recorder]
