"""``Page[T]`` (issue 18): every list answer's four fields in the order clients
read them, and an OpenAPI component that keeps the page type's own name and
describes its items."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Litestar, get
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.runtime.http.pagination import Page, page_schema, read_page


class Thing(msgspec.Struct):
    name: str


ThingPage = Annotated[Page[Thing], page_schema("ThingPage")]


def test_a_page_answers_its_four_fields_in_the_order_clients_read_them() -> None:
    body = msgspec.json.encode(Page(items=[Thing("a")], total=3, page=2, page_size=1))
    assert body == b'{"items":[{"name":"a"}],"total":3,"page":2,"page_size":1}'
    assert msgspec.json.decode(body, type=ThingPage) == Page(items=[Thing("a")], total=3, page=2, page_size=1)


def test_map_makes_each_item_another_and_keeps_the_count_and_page() -> None:
    records = Page(items=[{"name": "a"}, {"name": "b"}], total=7, page=3, page_size=2)
    assert records.map(lambda r: Thing(**r)) == Page(items=[Thing("a"), Thing("b")], total=7, page=3, page_size=2)


def test_the_openapi_component_keeps_the_page_types_name_and_refers_to_its_items() -> None:
    @get("/things", sync_to_thread=False)
    def things() -> ThingPage:
        return Page(items=[], total=0, page=1, page_size=20)

    doc = Litestar([things]).openapi_schema.to_schema()
    answer = doc["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/ThingPage"}
    component = doc["components"]["schemas"]["ThingPage"]
    assert component["title"] == "ThingPage"
    assert list(component["properties"]) == ["items", "total", "page", "page_size"]
    assert component["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Thing"}
    assert sorted(component["required"]) == ["items", "page", "page_size", "total"]
    assert not [k for k in doc["components"]["schemas"] if k.startswith("Page")]


async def test_read_page_counts_every_row_and_answers_one_page_in_order(tmp_path: Path) -> None:
    md = MetaData()
    things = Table("things", md, Column("id", Integer, primary_key=True), Column("name", String))
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(md.create_all)
            await conn.execute(insert(things), [{"id": i, "name": n} for i, n in enumerate("edcba")])
        async with engine.connect() as conn:
            async with AsyncSession(bind=conn) as s:
                p = await read_page(s, select(things).where(things.c.name != "c"), order_by=[things.c.name], page=2, page_size=3, item=lambda r: Thing(r["name"]))
    finally:
        await engine.dispose()
    assert p == Page(items=[Thing("e")], total=4, page=2, page_size=3)
