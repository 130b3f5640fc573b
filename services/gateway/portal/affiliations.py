"""Ties between users and units on a page (R26 关联关系, issue 17): a voucher is refused
where the user is tied to the unit (subordination, co-construction, property rights). At
``/affiliations`` a user declares its own ties to units (found with the unit picker), a unit
reads the ties recorded for it, and the center and the bureau record a tie between any user
and unit (both pickers) or remove one with a reason (``recordAffiliation``,
``removeAffiliation``, ``listAffiliations``). Parties are shown by name."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, missing, reason_required
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit
from services.gateway.portal.paging import kept_query, page_number, paged
from services.gateway.portal.party_names import unit_names, user_names
from services.gateway.portal.unit_picker import Pick, chosen_unit, is_search, pick_unit, pick_user

READERS = ("user", "unit", "center", "bureau")
RECORDERS = ("user", "center", "bureau")
REVIEWERS = ("center", "bureau")
KINDS = ("subordination", "co_construction", "property_right")


async def affiliations_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    pg = page_number(ctx)
    found = await ctx.api.maybe("registry", "/v1/affiliations/", page=pg, page_size=REVIEW_PAGE_SIZE) or {"items": []}
    items = found["items"]
    units, users, unit_pick, user_pick = await asyncio.gather(
        unit_names(ctx, (a["unit_id"] for a in items)),
        user_names(ctx, (a["user_id"] for a in items)) if ctx.role in REVIEWERS else asyncio.sleep(0, {}),
        pick_unit(ctx, form, "unit_id") if ctx.role in RECORDERS else asyncio.sleep(0, Pick()),
        pick_user(ctx, form, "user_id") if ctx.role in REVIEWERS else asyncio.sleep(0, Pick()),
    )
    return ctx.render(
        "affiliations.html", items=items, unit_names=units, user_names=users, pick=unit_pick, user_pick=user_pick, kinds=KINDS, failed=failed,
        paging=paged(found, pg, REVIEW_PAGE_SIZE), base=kept_query(ctx, "page"), **ctx.outcome(error, form),
    )


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/affiliations")
    async def show(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, READERS, affiliations_page)

    @action("/affiliations")
    async def record(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            if is_search(form):
                return await affiliations_page(ctx, form=form)
            user_id = ctx.org if ctx.role == "user" else chosen_unit(await pick_user(ctx, form, "user_id"), "user_id")
            unit_id = chosen_unit(await pick_unit(ctx, form, "unit_id"), "unit_id")
            kind = str(form.get("kind") or "")
            if kind not in KINDS:
                raise missing("kind")
            body: dict[str, Any] = {"user_id": user_id, "unit_id": unit_id, "kind": kind}
            if note := str(form.get("note") or "").strip():
                body["note"] = note
            await ctx.api.post("registry", "/v1/affiliations/", json=body)
            return None

        return await kit.submit(request, RECORDERS, run, again=lambda ctx, err, form: affiliations_page(ctx, error=err, form=form), done="/affiliations?done=1")

    @action("/affiliations/{affiliation_id:str}/remove")
    async def remove(request: Request[Any, Any, Any], affiliation_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            reason = str(form.get("removal_reason") or "").strip()
            if not reason:
                raise reason_required("affiliation_removal_reason", "removal_reason")
            await ctx.api.call("DELETE", "registry", f"/v1/affiliations/{affiliation_id}", json={"reason": reason})

        async def at_row(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await affiliations_page(ctx, error=err, form=form, failed=affiliation_id)

        return await kit.submit(request, REVIEWERS, run, again=at_row, done="/affiliations?done=1")

    return [show, record, remove]
