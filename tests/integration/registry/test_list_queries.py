"""The order list and the usage-session list read a page in a fixed number of
SQL statements, however many items the page holds (issue 19: one query per
item made a page of 50 fifty times as slow to read as a page of 1), and a
listed item is the same as the item read alone (its lines, documents and
corrections belong to it), on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from services.runtime.db.service_db import ServiceDatabase
from tests.support.platform import Platform, running
from tests.support.registry import PDF, World, world

SESSIONS = "/v1/usage/sessions/"
MANY = 50


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


@contextlib.contextmanager
def statements(db: ServiceDatabase) -> Iterator[list[str]]:
    """The SQL statements the service's engines send while the block runs."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engines = {id(e.sync_engine): e.sync_engine for e in (db.engine, db.read_engine)}.values()
    for e in engines:
        event.listen(e, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for e in engines:
            event.remove(e, "before_cursor_execute", count)


async def read(w: World, path: str, page_size: int) -> tuple[list[dict[str, Any]], list[str]]:
    """(the page's items, the statements reading it took)."""
    with statements(w.p["registry"].db) as seen:
        r = await w.as_unit("GET", path, params={"page_size": page_size})
    assert r.status_code == 200, r.text
    return r.json()["items"], seen


def ago(hours: int) -> str:
    t = (datetime.now(UTC) - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
    return t.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()


async def test_a_page_of_orders_takes_as_many_statements_as_a_page_of_one(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:  # no background reads
        w = await world(p)
        made = [await w.order(quantity=1 + i % 3) for i in range(MANY)]
        for oid in made[:3]:  # a few orders with documents, one with two
            assert (await w.upload(oid, "contract", PDF)).status_code == 201
        assert (await w.upload(made[0], "contract", PDF + b"v2")).status_code == 201

        await read(w, "/v1/orders/", 1)  # the connections are open before counting
        one, one_sql = await read(w, "/v1/orders/", 1)
        page, page_sql = await read(w, "/v1/orders/", MANY)
        assert len(one) == 1 and len(page) == MANY
        assert len(page_sql) == len(one_sql), "\n".join(page_sql)
        # each listed order is the order as read alone: its own lines and documents
        assert {o["order_id"] for o in page} == set(made)
        for o in page:
            r = await w.as_unit("GET", f"/v1/orders/{o['order_id']}")
            assert o == r.json()
        docs = {o["order_id"]: len(o["documents"]) for o in page}
        assert [docs[oid] for oid in made[:4]] == [2, 1, 1, 0]


async def test_a_page_of_usage_sessions_takes_as_many_statements_as_a_page_of_one(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:  # no background reads
        w = await world(p)
        made = []
        for i in range(MANY):
            body = {"instrument_id": w.iid, "kind": "internal", "researcher": f"课题组{i}", "started_at": ago(2 * i + 3), "ended_at": ago(2 * i + 2)}
            r = await w.as_unit("POST", SESSIONS, json=body)
            assert r.status_code == 201, r.text
            made.append(r.json()["session_id"])
        for n, sid in enumerate(made[:2]):  # corrections on two sessions, two on the first
            for k in range(2 - n):
                fixed = {"started_at": ago(2 * n + 3), "ended_at": ago(2 * n + 2), "reason": f"补正{k}"}
                r = await w.as_unit("POST", f"{SESSIONS}{sid}/correct", json=fixed)
                assert r.status_code == 200, r.text

        await read(w, SESSIONS, 1)
        one, one_sql = await read(w, SESSIONS, 1)
        page, page_sql = await read(w, SESSIONS, MANY)
        assert len(one) == 1 and len(page) == MANY
        assert len(page_sql) == len(one_sql), "\n".join(page_sql)
        assert [s["session_id"] for s in page] == made  # newest start first
        for s in page:
            r = await w.as_unit("GET", f"{SESSIONS}{s['session_id']}")
            assert s == r.json()
        assert [[c["reason"] for c in s["corrections"]] for s in page[:3]] == [["补正0", "补正1"], ["补正0"], []]
