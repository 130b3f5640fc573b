"""Case numbers of orders (issue 17: three orders placed in one minute all
showed ``01a2384c``): each order gets DD-<year>-<n>, unique and consecutive,
also when requested at the same moment, counted per local year; it finds the
order in a list, as typed; a refused request uses no number; and the
migration numbers the orders placed before it in the order they came."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import select, update

from services.registry.db.order_models import case_counters, orders
from services.runtime.db.case_numbers import format_case_number, next_case_number
from services.runtime.db.migrations import alembic_config, upgrade
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import verified_user, world

FORM = re.compile(r"DD-(\d{4})-(\d{6})")


def _year() -> int:
    from services.runtime import clock

    return clock.local_year(clock.utc_now())


async def test_orders_requested_together_get_distinct_consecutive_numbers(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        first = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": w.pid, "quantity": 1}]})
        assert first.status_code == 201, first.text
        assert first.json()["case_no"] == format_case_number("DD", _year(), 1)
        # eight at the same moment: no two alike, none skipped
        answers = await asyncio.gather(
            *(w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": w.pid, "quantity": 1}]}) for _ in range(8))
        )
        assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201]
        numbers = sorted(int(FORM.fullmatch(a.json()["case_no"]).group(2)) for a in answers)  # type: ignore[union-attr]
        assert numbers == list(range(2, 10))
        # a refused request (an unknown price item) uses no number
        refused = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": "00000000-0000-0000-0000-000000000000", "quantity": 1}]})
        assert refused.status_code == 422 and refused.json()["code"] == "order.item_unavailable", refused.text
        tenth = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": w.pid, "quantity": 1}]})
        assert tenth.json()["case_no"] == format_case_number("DD", _year(), 10)
        # the order's page and the lists carry it
        one = await w.as_user("GET", f"/v1/orders/{tenth.json()['order_id']}")
        assert one.json()["case_no"] == tenth.json()["case_no"]
        # found by its number as typed, by its parties and staff; nobody else sees it
        typed = " " + tenth.json()["case_no"].lower() + " "
        for role, org in ((Role.USER, w.user), (Role.UNIT, w.unit), (Role.CENTER, None)):
            found = await p.call("registry", "GET", "/v1/orders/", role=role, org=org, params={"case_no": typed})
            assert found.status_code == 200 and [o["order_id"] for o in found.json()["items"]] == [tenth.json()["order_id"]], (role, found.text)
        stranger = await verified_user(p, "许昌市另一家公司")
        other = await p.call("registry", "GET", "/v1/orders/", role=Role.USER, org=stranger, params={"case_no": tenth.json()["case_no"]})
        assert other.status_code == 200 and other.json()["total"] == 0


async def test_each_year_counts_from_one(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        async with p["registry"].db.unit_of_work() as uow:
            got = [await next_case_number(uow.session, case_counters, "DD", y) for y in (2026, 2026, 2027, 2026, 2027)]
        assert got == ["DD-2026-000001", "DD-2026-000002", "DD-2027-000001", "DD-2026-000003", "DD-2027-000002"]
        async with p["registry"].db.unit_of_work() as uow:
            with pytest.raises(ValueError):
                await next_case_number(uow.session, case_counters, "dd", 2026)


async def test_the_migration_numbers_earlier_orders_in_the_order_they_came(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        ids = [await w.order() for _ in range(3)]
        # requested across a local new year: 31 Dec 23:30 and 1 Jan 00:30 Beijing time, and one later
        y = _year()
        moments = [datetime(y - 1, 12, 31, 15, 30, tzinfo=UTC), datetime(y - 1, 12, 31, 16, 30, tzinfo=UTC), datetime(y, 3, 1, 2, 0, tzinfo=UTC)]
        async with p["registry"].db.unit_of_work() as uow:
            for oid, at in zip(reversed(ids), moments, strict=True):  # the last requested is given the earliest time
                await uow.session.execute(update(orders).where(orders.c.id == oid).values(created_at=at))
    url = settings.database_url("registry")
    await asyncio.to_thread(command.downgrade, alembic_config("registry", url), "b5d8f3a1c7e4")
    await asyncio.to_thread(upgrade, "registry", url)
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        async with p["registry"].db.read() as s:
            numbered = dict((await s.execute(select(orders.c.id, orders.c.case_no))).all())
        assert [numbered[oid] for oid in reversed(ids)] == [f"DD-{y - 1}-000001", f"DD-{y}-000001", f"DD-{y}-000002"]
        # and the counters go on from there
        assert await w_order(p, ids[0]) == f"DD-{y}-000003"


async def w_order(p: Platform, like: str) -> str:
    """A new order by the same user, for the same price item, as ``like``."""
    async with p["registry"].db.read() as s:
        user_id = (await s.execute(select(orders.c.user_id).where(orders.c.id == like))).scalar_one()
    first = (await p.call("registry", "GET", f"/v1/orders/{like}", role=Role.CENTER)).json()
    r = await p.call(
        "registry", "POST", "/v1/orders/", role=Role.USER, org=user_id, json={"purpose": "research", "items": [{"price_item_id": first["items"][0]["price_item_id"], "quantity": 1}]}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["case_no"])
