"""A list's pages on a portal page: the page asked for (``?page=``), the pager of a list the
API pages (``paged``) or one a service answers whole (``page_in``), the query a pager's links
keep, a list read whole as a choice (``first_only``), a lookup through every page
(``find_listed``) and the case number typed in a list's search box."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.gateway.portal.core import Ctx


def page_links(total: int, page: int, page_size: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / page_size)) if total else 1
    return {"page": page, "pages": pages, "total": total, "prev": page - 1 if page > 1 else None, "next": page + 1 if page < pages else None}


#: the services' highest page number (services/runtime/http/pagination.py); a page asked beyond is page 1
MAX_PAGE = 100_000
#: a list the page reads whole as a choice or a lookup: the services' largest page
WHOLE = 100


def page_number(ctx: Ctx, name: str = "page") -> int:
    """The page asked for in ``?page=`` (or ``name``, where a page pages two lists); any value
    that is not a page number the services accept is page 1, never a refusal."""
    try:
        page = int(ctx.request.query_params.get(name) or 1)
    except ValueError:
        return 1
    return page if 1 <= page <= MAX_PAGE else 1


def paged(result: dict[str, Any] | None, page: int, page_size: int) -> dict[str, Any]:
    """The pager of a list answer (``Page[T]``: items, total); none (a refusal) is an empty page."""
    return page_links(int((result or {}).get("total") or 0), page, page_size)


def page_in(every: list[Any], page: int, page_size: int) -> tuple[list[Any], dict[str, Any]]:
    """One page of a list a service answers whole (paged here, not by the API): the page's items
    and its pager, as ``paged`` gives for a list the API pages."""
    return every[(page - 1) * page_size : page * page_size], page_links(len(every), page, page_size)


def kept_query(ctx: Ctx, *dropped: str) -> dict[str, str]:
    """The query as asked, without ``dropped`` (nor a form's ``done``): what a pager's links keep (the other list's
    page, the searches)."""
    return {k: v for k, v in ctx.request.query_params.items() if k not in dropped and k != "done"}


async def find_listed(ctx: Ctx, service: str, path: str, match: Callable[[dict[str, Any]], bool], **params: Any) -> dict[str, Any] | None:
    """The first item of a list that ``match`` accepts, read a whole page (100) at a time and on
    through its pages until found: a lookup of one record the API has no filter for (the user's
    application of an order, the expert's assignment), so that the 101st is found too."""
    page = 1
    while True:
        got = await ctx.api.maybe(service, path, **params, page=page, page_size=WHOLE) or {}
        items = got.get("items") or []
        hit = next((i for i in items if match(i)), None)
        if hit is not None or not items or page * WHOLE >= int(got.get("total") or 0) or page >= MAX_PAGE:
            return hit
        page += 1


def first_only(result: dict[str, Any] | None) -> dict[str, int] | None:
    """A list read whole in one page (a choice, a lookup) that holds more than that page:
    ``{shown, total}`` for the macro ``first_only`` ("仅显示前 100 条，共 N 条"), else None."""
    items, total = (result or {}).get("items") or [], int((result or {}).get("total") or 0)
    return {"shown": len(items), "total": total} if total > len(items) else None


def searched_case_no(ctx: Ctx, name: str = "case_no") -> str:
    """The case number typed in a list's search box (``?case_no=``, or ``name`` where a page
    has two boxes), as typed; empty when none."""
    return (ctx.request.query_params.get(name) or "").strip()[:40]
