"""The registry's public instrument search, for the search tests: a unit's instrument
registered (and listed), a price published as the price catalogue does, a search asked
and the ids it found, and the wait until the index holds every instrument's current
version and the API's cache has seen it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry.db.instrument_models import instruments, price_items
from services.registry.db.search_models import search_docs
from services.registry.search import GENERATION_TTL_S
from services.runtime.roles import Role
from tests.support.platform import Platform
from tests.support.polling import eventually

URL = "/v1/catalogue/instruments"


async def instrument(p: Platform, unit_id: str, name: str, *, listed: bool = True, **kw: Any) -> str:
    body = {
        "unit_id": unit_id,
        "name": name,
        "category": "分析仪器",
        "original_value_fen": 50_000_000,
        "funding": "fiscal_full",
        "acceptance_date": "2024-09-20",
        **kw,
    }
    r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit_id, json=body)
    assert r.status_code == 201, r.text
    iid = r.json()["instrument_id"]
    if listed:
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=unit_id)
        assert r.status_code == 200, r.text
    return iid


async def publish_price(p: Platform, iid: str, unit_id: str, price_fen: int, *, active: bool = True) -> None:
    """What the price catalogue does: store the item, emit PricePublished."""
    now = datetime.now(UTC)
    item = dict(id=new_event_id(), instrument_id=iid, unit_id=unit_id, name="测试", billing_unit="per_sample", price_fen=price_fen, basis="cost_compensation", active=active, version=1)
    async with p["registry"].db.unit_of_work() as uow:
        await uow.session.execute(price_items.insert().values(**item, created_at=now, updated_at=now))
        await uow.emit(
            ev.PricePublished(
                price_item_id=item["id"], instrument_id=iid, unit_id=unit_id, version=1, name="测试", billing_unit="per_sample", price_fen=price_fen, basis="cost_compensation", active=active
            )
        )


async def found(p: Platform, **params: Any) -> dict[str, Any]:
    r = await p.call("registry", "GET", URL, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [i["instrument_id"] for i in page["items"]]


async def settled(p: Platform) -> None:
    """Wait until the read model holds every instrument at its current version
    (events arrive on several subjects, in any order), then until the API's
    cache has looked at the index's generation again."""

    async def caught_up() -> bool:
        async with p["registry"].db.read() as s:
            current = dict((await s.execute(select(instruments.c.id, instruments.c.version))).all())
            indexed = dict((await s.execute(select(search_docs.c.instrument_id, search_docs.c.instrument_version))).all())
        return current == indexed

    await eventually(caught_up)
    await asyncio.sleep(GENERATION_TTL_S + 0.05)
