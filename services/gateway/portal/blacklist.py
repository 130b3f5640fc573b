"""The credit blacklist (R26, R27) on a page (issue 17): everybody reads the active entries
(``listBlacklist``: name, credit code, reason, date); the bureau also puts a unit or a user
on it — found by part of its name or credit code with the pickers — with a reason
(``addToBlacklist``; a unit also loses its voucher acceptance), and takes an entry off with a
reason (``removeFromBlacklist``). A missing reason or party is refused at its field."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, missing, reason_required
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit
from services.gateway.portal.paging import kept_query, page_number, paged
from services.gateway.portal.unit_picker import chosen_party, is_search, pick_unit, pick_user

BUREAU = ("bureau",)


async def blacklist_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    pg = page_number(ctx)
    result = await ctx.api.maybe("registry", "/v1/blacklist/", page=pg, page_size=REVIEW_PAGE_SIZE) or {"items": []}
    extra: dict[str, Any] = {}
    if ctx.role == "bureau":  # the add form's pickers, as the form left them
        extra = {"pick": await pick_unit(ctx, form, "unit_id"), "user_pick": await pick_user(ctx, form, "user_id")}
    return ctx.render(
        "blacklist.html", items=result["items"], paging=paged(result, pg, REVIEW_PAGE_SIZE), base=kept_query(ctx, "page"), failed=failed, **extra, **ctx.outcome(error, form)
    )


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/blacklist")
    async def blacklist(request: Request[Any, Any, Any]) -> Response[str]:
        return await blacklist_page(kit.ctx(request))

    @action("/blacklist")
    async def add(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            if is_search(form):
                return await blacklist_page(ctx, form=form)
            party_type, party_id = await chosen_party(ctx, form)
            if not party_id:
                raise missing("party_type")
            reason = str(form.get("reason") or "").strip()
            if not reason:
                raise reason_required("blacklist_reason")
            await ctx.api.post("registry", "/v1/blacklist/", json={"party_type": party_type, "party_id": party_id, "reason": reason})
            return None

        return await kit.submit(request, BUREAU, run, again=lambda ctx, err, form: blacklist_page(ctx, error=err, form=form), done="/blacklist?done=1")

    @action("/blacklist/{entry_id:str}/remove")
    async def remove(request: Request[Any, Any, Any], entry_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            reason = str(form.get("removal_reason") or "").strip()
            if not reason:
                raise reason_required("blacklist_removal_reason", "removal_reason")
            await ctx.api.call("DELETE", "registry", f"/v1/blacklist/{entry_id}", json={"reason": reason})

        async def at_row(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await blacklist_page(ctx, error=err, form=form, failed=entry_id)

        return await kit.submit(request, BUREAU, run, again=at_row, done="/blacklist?done=1")

    return [blacklist, add, remove]
