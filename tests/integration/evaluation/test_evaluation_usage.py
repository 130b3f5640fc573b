"""Evaluation from real use (issue 16), on SQLite and PostgreSQL with a real
NATS: sessions recorded in the registry's usage log travel over the bus to
evaluation, whose use indicators for the year (有效工作机时, 对外服务机时, the
sharing rate, idle instruments) equal the usage log to the minute; a
correction changes the figures; a session over local new year counts its
minutes in each year; the indicator tree scores them.

Everything happens on the platform's test clock (issue 15) in a past year, so
the instruments are in the stock of the test year and no date is in the future."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from services.evaluation.domain.usage_years import minutes_by_year
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import World, priced_instrument, world
from tests.support.responses import ok

SERVICES = ["registry", "evaluation"]
YEAR = 2025
SESSIONS = "/v1/usage/sessions/"


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


def local(text: str) -> str:
    """A wall-clock time in Xuchang, with its offset."""
    return f"{text}+08:00"


async def clock_at(p: Platform, at: str) -> None:
    await ok(await p.call("registry", "PUT", "/v1/clock/", role=Role.SYSADMIN, json={"at": at}))


async def session(w: World, iid: str, start: str, end: str, **use: Any) -> dict[str, Any]:
    body = {"instrument_id": iid, "started_at": local(start), "ended_at": local(end), **(use or {"kind": "internal", "researcher": "材料课题组"})}
    return dict(await ok(await w.as_unit("POST", SESSIONS, json=body), 201))


async def log_minutes(p: Platform, unit: str, year: int) -> tuple[int, int]:
    """Effective and outside minutes of ``year`` as the registry's usage log lists them."""
    r = await ok(await p.call("registry", "GET", SESSIONS, role=Role.UNIT, org=unit, params={"page_size": 100}))
    effective = outside = 0
    for s in r["items"]:
        part = minutes_by_year(datetime.fromisoformat(s["started_at"]), datetime.fromisoformat(s["ended_at"]), s["minutes"]).get(year, 0)
        effective += part
        outside += part if s["kind"] == "outside" else 0
    return effective, outside


async def use_of(p: Platform, unit: str, year: int, want: dict[str, Any], instruments: int = 3) -> dict[str, Any]:
    """The unit's use figures once evaluation has caught up with ``want`` and
    knows all ``instruments`` of the unit. An instrument's registration and its
    listing arrive on their own subscriptions, independently of the usage log's:
    the minutes can be whole while a registration or a listing is still on its
    way (on SQLite a locked write is retried after a delay), so ``want`` names
    every figure the test then reads (the idle instruments too)."""

    async def caught_up() -> Any:
        r = await p.call("evaluation", "GET", f"/v1/units/{unit}/use/{year}", role=Role.CENTER)
        if r.status_code != 200:
            return None
        got = r.json()
        return got if all(got[k] == v for k, v in want.items()) and len(got["instruments"]) == instruments else None

    return dict(await eventually(caught_up, timeout=30))


async def test_use_indicators_equal_the_usage_log_to_the_minute(make_settings) -> None:
    settings = await make_settings(SERVICES, clock_poll_s=0.05)
    async with running(Platform(settings, SERVICES)) as p:
        await clock_at(p, local(f"{YEAR}-03-02T09:00:00"))
        w = await world(p)
        idle_iid, _ = await priced_instrument(p, w.unit)  # listed, never used: idle
        await priced_instrument(p, w.unit, listed=False)  # not listed: not idle, whatever its use
        oid = await w.contracted()
        await ok(await w.as_unit("POST", f"/v1/orders/{oid}/start"))
        outside = {"kind": "outside", "order_id": oid}

        await clock_at(p, local(f"{YEAR + 1}-01-02T10:00:00"))
        await session(w, w.iid, f"{YEAR}-06-10T09:00:00", f"{YEAR}-06-10T11:30:00", **outside)  # 150
        await session(w, w.iid, f"{YEAR}-07-01T08:15:00", f"{YEAR}-07-01T12:02:40")  # 227 (seconds dropped)
        to_fix = await session(w, w.iid, f"{YEAR}-09-01T14:00:00", f"{YEAR}-09-01T15:00:00", **outside)  # 60, corrected below
        # over local new year: 40 minutes in YEAR, 65 in the next
        await session(w, w.iid, f"{YEAR}-12-31T23:20:00", f"{YEAR + 1}-01-01T01:05:00")

        want = {"effective_minutes": 150 + 227 + 60 + 40, "outside_minutes": 150 + 60, "idle_instrument_ids": [idle_iid]}
        use = await use_of(p, w.unit, YEAR, want)
        assert (use["effective_minutes"], use["outside_minutes"]) == await log_minutes(p, w.unit, YEAR)
        assert use["sharing_rate_bp"] == 210 * 10_000 // 477
        assert use["idle_instrument_ids"] == [idle_iid]
        by_iid = {i["instrument_id"]: i for i in use["instruments"]}
        assert len(by_iid) == 3
        assert (by_iid[w.iid]["effective_minutes"], by_iid[w.iid]["outside_minutes"], by_iid[w.iid]["idle"]) == (477, 210, False)

        # the unit corrects a session (a recorder lost power): the figures follow, to the minute
        fix = {"started_at": local(f"{YEAR}-09-01T14:00:00"), "ended_at": local(f"{YEAR}-09-01T16:45:00"), "reason": "记录器断电，按值班记录补正"}
        await ok(await w.as_unit("POST", f"{SESSIONS}{to_fix['session_id']}/correct", json=fix))
        want = {"effective_minutes": 150 + 227 + 165 + 40, "outside_minutes": 150 + 165}
        use = await use_of(p, w.unit, YEAR, want)
        assert (use["effective_minutes"], use["outside_minutes"]) == await log_minutes(p, w.unit, YEAR)
        assert use["sharing_rate_bp"] == 315 * 10_000 // 582

        # the next year holds the rest of the new-year session, and both instruments without use are idle there
        nxt = await use_of(p, w.unit, YEAR + 1, {"effective_minutes": 65, "outside_minutes": 0, "idle_instrument_ids": [idle_iid]})
        assert nxt["sharing_rate_bp"] == 0 and nxt["idle_instrument_ids"] == [idle_iid]
        assert (nxt["effective_minutes"], nxt["outside_minutes"]) == await log_minutes(p, w.unit, YEAR + 1)

        # the unit's measures carry the same figures, and the 2023 tree scores them
        m = await ok(await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units/{w.unit}", role=Role.UNIT, org=w.unit))
        assert {k: m["measures"][k] for k in ("effective_minutes", "outside_minutes", "instruments_idle")} == {"effective_minutes": 582, "outside_minutes": 315, "instruments_idle": 1}

        # who may read: the unit, not another unit (told nothing exists), not a user; a year out of range
        assert (await ok(await p.call("evaluation", "GET", f"/v1/units/{w.unit}/use/{YEAR}", role=Role.UNIT, org=w.unit)))["effective_minutes"] == 582
        r = await p.call("evaluation", "GET", f"/v1/units/{w.unit}/use/{YEAR}", role=Role.UNIT, org="another-unit")
        assert r.status_code == 404 and r.json()["code"] == "unit.not_found"
        r = await p.call("evaluation", "GET", f"/v1/units/{w.unit}/use/{YEAR}", role=Role.USER, org=w.user)
        assert r.status_code == 403
        r = await p.call("evaluation", "GET", f"/v1/units/{w.unit}/use/1999", role=Role.CENTER)
        assert r.status_code == 400 and r.json()["code"] == "report.year_out_of_range"
        await ok(await p.call("registry", "DELETE", "/v1/clock/", role=Role.SYSADMIN))
