"""An instrument's public ratings (R19(4), issue 17): the count, the average
(one decimal, half up), the stars' distribution and the latest comments of the
rated orders that used the instrument, read by anybody who may see the
instrument, never naming who rated (R23). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from sqlalchemy import select, update

from services.registry.db.search_models import search_docs
from services.runtime.clock import local_today
from services.runtime.db.migrations import alembic_config, upgrade
from services.runtime.roles import Role
from tests.support.order_settlement import rated, settled
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import World, priced_instrument, world

SERVICES = ["registry"]


async def ratings_of(p: Platform, iid: str, *, role: Role | None = None, org: str | None = None, **params: Any) -> Any:
    return await p.call("registry", "GET", f"/v1/instruments/{iid}/ratings", role=role, org=org, params=params)


async def test_the_public_sees_the_average_distribution_and_latest_comments_but_never_who(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w = await world(p)
        # nothing rated yet: no average, every star at zero
        r = await ratings_of(p, w.iid)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "instrument_id": w.iid, "count": 0, "average": None, "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
            "items": [], "total": 0, "page": 1, "page_size": 10,
        }

        # four rated orders of this instrument (one without a comment), one settled but not
        # rated, and a rated order of another instrument of the same unit: none of those counts
        oids = [await rated(w, 5, " 数据可靠，出报告快 "), await rated(w, 4, "服务及时"), await rated(w, 3, "等待时间较长"), await rated(w, 5)]
        oids.append(await settled(w))
        iid2, pid2 = await priced_instrument(p, w.unit)
        other = World(p, w.unit, w.user, iid2, pid2)
        oids.append(await rated(other, 1, "另一台仪器的评价"))

        r = await ratings_of(p, w.iid)
        assert r.status_code == 200, r.text
        body = r.json()
        # 17 / 4 = 4.25: one decimal, half up
        assert (body["count"], body["average"]) == (4, 4.3)
        assert body["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 2}
        today = local_today().isoformat()
        assert body["items"] == [
            {"rating": 3, "rated_on": today, "comment": "等待时间较长"},
            {"rating": 4, "rated_on": today, "comment": "服务及时"},
            {"rating": 5, "rated_on": today, "comment": "数据可靠，出报告快"},
        ]
        assert (body["total"], body["page"], body["page_size"]) == (3, 1, 10)

        # R23: the answer names no user, order or company, by key or by value
        assert set(body) == {"instrument_id", "count", "average", "distribution", "items", "total", "page", "page_size"}
        assert all(set(item) == {"rating", "rated_on", "comment"} for item in body["items"])
        for secret in [w.user, *oids, "许昌测试企业", "DD-"]:
            assert secret not in r.text, secret

        # pages of comments, newest first
        first = (await ratings_of(p, w.iid, page=1, page_size=2)).json()
        second = (await ratings_of(p, w.iid, page=2, page_size=2)).json()
        assert [i["comment"] for i in first["items"]] == ["等待时间较长", "服务及时"] and first["total"] == 3 and first["count"] == 4
        assert [i["comment"] for i in second["items"]] == ["数据可靠，出报告快"] and (second["page"], second["page_size"]) == (2, 2)
        assert (await ratings_of(p, w.iid, page_size=101)).status_code == 400

        # the other instrument has its own
        mine = (await ratings_of(p, iid2)).json()
        assert (mine["count"], mine["average"], mine["distribution"]["1"]) == (1, 1.0, 1)
        assert [i["comment"] for i in mine["items"]] == ["另一台仪器的评价"]

        # the catalogue shows each instrument's average and count beside it
        async def catalogue() -> Any:
            r = await p.call("registry", "GET", "/v1/catalogue/instruments", params={"unit_id": w.unit})
            assert r.status_code == 200, r.text
            found = {i["instrument_id"]: (i["rating_average"], i["rating_count"]) for i in r.json()["items"]}
            return found if len(found) == 2 else None

        assert await eventually(catalogue, what="both instruments in the catalogue") == {w.iid: (4.3, 4), iid2: (1.0, 1)}
        # a new rating shows in the catalogue's page as it was just read (the page is kept per index generation)
        assert await catalogue() == {w.iid: (4.3, 4), iid2: (1.0, 1)}
        await rated(other, 5)

        async def rerated() -> Any:
            found = await catalogue()
            return found if found and found[iid2] == (3.0, 2) else None

        assert await eventually(rerated, what="the new rating in the catalogue") == {w.iid: (4.3, 4), iid2: (3.0, 2)}

    # migration a9c3e5f7b2d4 fills the documents' ratings from the rated orders (no worker, no refresh)
    url = settings.database_url("registry")
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        async with p["registry"].db.unit_of_work() as uow:
            await uow.session.execute(update(search_docs).values(rating_count=0, rating_points=0))
    await asyncio.to_thread(command.downgrade, alembic_config("registry", url), "c5e1a7d3b9f2")
    await asyncio.to_thread(upgrade, "registry", url)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        async with p["registry"].db.read() as s:
            docs = {r.instrument_id: (r.rating_count, r.rating_points) for r in await s.execute(select(search_docs.c.instrument_id, search_docs.c.rating_count, search_docs.c.rating_points))}
        assert docs == {w.iid: (4, 17), iid2: (2, 6)}


async def test_who_sees_the_ratings_follows_the_instrument(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p:
        w = await world(p)
        # an unknown instrument
        r = await ratings_of(p, "no-such-instrument")
        assert r.status_code == 404 and r.json()["code"] == "instrument.not_found", r.text
        # an unlisted one: hidden from the public and other units, as the instrument is; its unit and staff see it
        draft, _ = await priced_instrument(p, w.unit, listed=False)
        for role, org in ((None, None), (Role.USER, w.user), (Role.UNIT, "another-unit")):
            r = await ratings_of(p, draft, role=role, org=org)
            assert r.status_code == 404 and r.json()["code"] == "instrument.not_found", (role, r.text)
            assert (await p.call("registry", "GET", f"/v1/instruments/{draft}", role=role, org=org)).status_code == 404
        assert (await ratings_of(p, draft, role=Role.UNIT, org=w.unit)).json()["count"] == 0
        assert (await ratings_of(p, draft, role=Role.CENTER)).status_code == 200
        # a retired one: the same rule (the public no longer sees it)
        assert (await ratings_of(p, w.iid)).status_code == 200
        r = await p.call("registry", "POST", f"/v1/instruments/{w.iid}/retire", role=Role.UNIT, org=w.unit, json={"reason": "报废"})
        assert r.status_code == 200, r.text
        assert (await ratings_of(p, w.iid)).status_code == 404
        assert (await ratings_of(p, w.iid, role=Role.UNIT, org=w.unit)).status_code == 200
