"""An instrument's schedule takes If-Match (issue 17): ``GET`` answers its
version as the ``ETag``, a ``PUT`` from an older read is 412, and the write is
conditional on the version read, so no concurrent write is silently lost
(before, two first schedules at once failed on the primary key, and a later
update overwrote without looking at the version). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.preconditions import first_save_guarded, malformed_refused, stale
from tests.support.registry import World, priced_instrument, world

HOURS = {d: [["09:00", "12:00"]] for d in ("mon", "tue", "wed")}


async def put(w: World, iid: str, body: dict[str, Any], tag: str | None = None) -> Any:
    return await w.as_unit("PUT", f"/v1/instruments/{iid}/schedule", json=body, headers={"If-Match": tag} if tag is not None else {})


async def get(w: World, iid: str) -> Any:
    return await w.p.call("registry", "GET", f"/v1/instruments/{iid}/schedule", role=Role.CENTER)


async def test_a_schedule_edit_from_a_stale_read_is_refused(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        # no schedule yet: any If-Match (a tag or *) has no current version to match
        stale(await put(w, w.iid, {}, '"v1"'), None)
        stale(await put(w, w.iid, {}, "*"), None)
        assert (await get(w, w.iid)).json()["code"] == "booking.no_schedule"
        first = await put(w, w.iid, {"weekly_hours": HOURS})
        assert first.status_code == 200 and first.headers["etag"] == '"v1"', first.text
        read = await get(w, w.iid)
        assert read.status_code == 200 and read.headers["etag"] == '"v1"' and read.json()["version"] == 1
        # two edits from the same read: the first applies, the second is told the current tag
        one = await put(w, w.iid, {"weekly_hours": HOURS, "slot_minutes": 60, "min_minutes": 60}, read.headers["etag"])
        assert one.status_code == 200 and one.headers["etag"] == '"v2"' and one.json()["slot_minutes"] == 60, one.text
        stale(await put(w, w.iid, {"weekly_hours": HOURS, "approval": "automatic"}, read.headers["etag"]), '"v2"')
        now = (await get(w, w.iid)).json()
        assert (now["slot_minutes"], now["approval"], now["version"]) == (60, "required", 2)
        # with the current tag it applies; no header or * edits the current version
        again = await put(w, w.iid, {"weekly_hours": HOURS, "approval": "automatic"}, '"v2"')
        assert again.status_code == 200 and again.headers["etag"] == '"v3"' and again.json()["approval"] == "automatic", again.text
        assert (await put(w, w.iid, {"weekly_hours": HOURS})).headers["etag"] == '"v4"'
        assert (await put(w, w.iid, {"weekly_hours": HOURS, "book_ahead_days": 14}, "*")).headers["etag"] == '"v5"'
        await malformed_refused(lambda bad: put(w, w.iid, {}, bad))
        assert (await get(w, w.iid)).json()["book_ahead_days"] == 14


async def test_concurrent_schedule_writes_are_never_lost(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        bodies = [{"weekly_hours": HOURS, "book_ahead_days": n} for n in (10, 11, 12, 13)]
        # four edits sent at once from the same read: exactly one applies, the others are 412
        assert (await put(w, w.iid, {"weekly_hours": HOURS})).status_code == 200
        answers = await asyncio.gather(*(put(w, w.iid, b, '"v1"') for b in bodies))
        won = [r for r in answers if r.status_code == 200]
        assert len(won) == 1 and won[0].headers["etag"] == '"v2"', [r.text for r in answers]
        for r in answers:
            if r is not won[0]:
                stale(r, '"v2"')
        assert (await get(w, w.iid)).json() == won[0].json()
        # four first schedules of another instrument at once, no If-Match: never a 500; each
        # one that answered 200 got a version of its own (nothing written over unseen)
        iid, _ = await priced_instrument(p, w.unit)
        answers = await asyncio.gather(*(put(w, iid, b) for b in bodies))
        assert all(r.status_code in (200, 409) for r in answers), [r.text for r in answers]
        assert all(r.json()["code"] == "schedule.concurrent_change" for r in answers if r.status_code == 409)
        versions = sorted(r.json()["version"] for r in answers if r.status_code == 200)
        assert versions == list(range(1, len(versions) + 1)), versions
        last = next(r for r in answers if r.status_code == 200 and r.json()["version"] == versions[-1])
        assert (await get(w, iid)).json() == last.json()
        trail = await p.call("registry", "GET", "/v1/audit/", role=Role.AUDITOR, params={"action": "instrument.schedule", "object_id": iid})
        assert len(trail.json()["items"]) == len(versions)


async def test_a_first_schedule_from_two_forms_opened_without_one_keeps_the_first(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        bodies = {1: {"weekly_hours": HOURS, "slot_minutes": 60, "min_minutes": 60}, 2: {"weekly_hours": HOURS}}

        async def send(n: int, headers: dict[str, str]) -> Any:
            return await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json=bodies[n], headers=headers)

        await first_save_guarded(send, lambda: get(w, w.iid), lambda b: b["slot_minutes"])
