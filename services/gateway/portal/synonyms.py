"""The center's page for the catalogue search's synonym and abbreviation
dictionary: the entries, a form to add one, a button to remove one."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import Ctx, Kit, again
from services.gateway.portal.paging import page_links, page_number

CENTER = ("center",)
PAGE_SIZE = 50
#: synonyms are typed one a line or separated by commas or 、
_SPLIT = re.compile(r"[\n,，、;；]+")


async def synonyms_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    pg = page_number(ctx)
    q = ctx.request.query_params.get("q") or None
    try:
        result = await ctx.api.get("registry", "/v1/catalogue/synonyms/", q=q, page=pg, page_size=PAGE_SIZE)
    except ApiError as err:
        return ctx.error_page(err)
    return ctx.render(
        "synonyms.html", items=result["items"], q=q, base={"q": q} if q else {}, paging=page_links(result["total"], pg, PAGE_SIZE), **ctx.outcome(error, form)
    )


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/synonyms")
    async def show(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, CENTER, synonyms_page)

    @action("/synonyms")
    async def create(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Any:
            synonyms = [s.strip() for s in _SPLIT.split(str(form.get("synonyms") or "")) if s.strip()]
            return await ctx.api.post("registry", "/v1/catalogue/synonyms/", json={"canonical": str(form.get("canonical") or ""), "synonyms": synonyms})

        return await kit.submit(request, CENTER, run, again=again(synonyms_page), done="/synonyms?done=1")

    @action("/synonyms/{entry_id:str}/delete")
    async def remove(request: Request[Any, Any, Any], entry_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            reason = str(form.get("reason") or "").strip()
            await ctx.api.call("DELETE", "registry", f"/v1/catalogue/synonyms/{entry_id}", params={"reason": reason} if reason else None)

        return await kit.submit(request, CENTER, run, again=again(synonyms_page, form=False), done="/synonyms?done=1")

    return [show, create, remove]
