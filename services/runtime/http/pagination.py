"""Paginated lists, the same on every endpoint: the query parameters, the
answer ``Page[T]`` and the one way a page is read from a query (issue 18).

A list answer is ``{"items": [...], "total": n, "page": p, "page_size": s}``
in that order. Each service names its page types as before, so that the OpenAPI
component (and the TypeScript client generated from it) keeps its name::

    VoucherPage = Annotated[Page[Voucher], page_schema("VoucherPage")]

Without the name litestar would call the component ``Page_<module>.Voucher_``.
A page type with more fields (``unread``, ``year``, ``totals``) that stand among
or before these four keeps its own struct, since a subclass would append them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import KwargDefinition, Parameter
from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

PageNumber = Annotated[int, Parameter(ge=1, le=100_000, description="1-based page number")]
PageSize = Annotated[int, Parameter(ge=1, le=100, description="items per page (at most 100)")]

T = TypeVar("T")
U = TypeVar("U")


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list: its items, how many the whole list holds, which page and how large."""

    items: list[T]
    total: int
    page: int
    page_size: int

    def map(self, f: Callable[[T], U]) -> Page[U]:
        """The same page with each item made another by ``f`` (a record into its API struct)."""
        return Page(items=[f(i) for i in self.items], total=self.total, page=self.page, page_size=self.page_size)


def page_schema(name: str) -> KwargDefinition:
    """The ``Annotated`` mark naming a ``Page[X]``'s OpenAPI component (key and title) ``name``."""
    return KwargDefinition(schema_component_key=name, schema_extra={"title": name})


async def read_page(
    s: AsyncSession, query: Select[Any], *, order_by: Sequence[ColumnElement[Any]], page: int, page_size: int, item: Callable[[RowMapping], T]
) -> Page[T]:
    """Page ``page`` (1-based) of ``query`` in ``order_by`` order, each row made an item by
    ``item``; ``total`` counts every row the query selects."""
    total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (await s.execute(query.order_by(*order_by).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return Page(items=[item(r) for r in rows], total=total, page=page, page_size=page_size)
