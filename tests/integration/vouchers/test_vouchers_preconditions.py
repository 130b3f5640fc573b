"""The vouchers records officers edit take If-Match (issue 17): a year's
budget (bureau and finance both change it) and the redemption window. A change
made from an older read is 412 instead of silently replacing the other
officer's. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.preconditions import first_save_guarded, malformed_refused, stale
from tests.support.vouchers import YEAR, open_programme

BUDGET = f"/v1/programmes/{YEAR}/budget"


async def test_a_budget_change_from_a_stale_read_is_refused(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"]), worker=False, relay=False) as p:

        async def change(budget_fen: int, tag: str | None = None, role: Role = Role.FINANCE) -> Any:
            return await p.call("vouchers", "PATCH", BUDGET, role=role, json={"budget_fen": budget_fen, "reason": "调整预算"}, headers={"If-Match": tag} if tag is not None else {})

        opened = await open_programme(p, budget_fen=10_000_000)
        read = await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")
        assert read.status_code == 200 and read.headers["etag"] == f'"v{opened["version"]}"'
        tag = read.headers["etag"]
        # the bureau raises the budget; finance, still on what it read, is refused
        first = await change(12_000_000, tag, Role.BUREAU)
        assert first.status_code == 200 and first.json()["budget_fen"] == 12_000_000, first.text
        assert first.headers["etag"] == f'"v{opened["version"] + 1}"' != tag
        stale(await change(8_000_000, tag), first.headers["etag"])
        now = await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")
        assert now.json()["budget_fen"] == 12_000_000 and now.headers["etag"] == first.headers["etag"]
        # the current tag applies; no header or * changes the current version; malformed is 400
        again = await change(8_000_000, first.headers["etag"])
        assert again.status_code == 200 and again.json()["budget_fen"] == 8_000_000, again.text
        assert (await change(9_000_000)).status_code == 200
        last = await change(9_500_000, "*")
        assert last.status_code == 200 and last.headers["etag"] == f'"v{opened["version"] + 4}"', last.text
        await malformed_refused(lambda bad: change(1_000_000, bad))
        # changes sent at once from one read: exactly one applies, whatever the database
        answers = await asyncio.gather(*(change(20_000_000 + n, last.headers["etag"]) for n in range(4)))
        won = [r for r in answers if r.status_code == 200]
        assert len(won) == 1, [r.text for r in answers]
        for r in answers:
            if r is not won[0]:
                stale(r, won[0].headers["etag"])
        assert (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")).json()["budget_fen"] == won[0].json()["budget_fen"]


async def test_a_window_change_from_a_stale_read_is_refused(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    path = f"/v1/redemption/windows/{YEAR}"
    async with running(Platform(settings, ["vouchers"]), worker=False, relay=False) as p:

        async def put(opens: str, closes: str, tag: str | None = None) -> Any:
            body = {"opens_on": f"{YEAR + 1}-{opens}", "closes_on": f"{YEAR + 1}-{closes}"}
            return await p.call("vouchers", "PUT", path, role=Role.CENTER, json=body, headers={"If-Match": tag} if tag is not None else {})

        # no window yet: If-Match (a tag or *) has nothing to match, and nothing is written
        stale(await put("03-01", "03-31", '"v1"'), None)
        stale(await put("03-01", "03-31", "*"), None)
        assert (await p.call("vouchers", "GET", path)).status_code == 404
        created = await put("03-01", "03-31")
        assert created.status_code == 200 and created.headers["etag"] == '"v1"' and created.json()["version"] == 1, created.text
        read = await p.call("vouchers", "GET", path)
        assert read.status_code == 200 and read.headers["etag"] == '"v1"'
        # two officers change it from the same read: the second is told the current tag
        first = await put("04-01", "04-30", read.headers["etag"])
        assert first.status_code == 200 and first.headers["etag"] == '"v2"', first.text
        stale(await put("03-15", "05-15", read.headers["etag"]), '"v2"')
        assert (await p.call("vouchers", "GET", path)).json()["opens_on"] == f"{YEAR + 1}-04-01"
        again = await put("03-15", "05-15", '"v2"')
        assert again.status_code == 200 and again.headers["etag"] == '"v3"', again.text
        assert (await put("03-16", "05-15")).headers["etag"] == '"v4"'
        assert (await put("03-17", "05-15", "*")).headers["etag"] == '"v5"'
        await malformed_refused(lambda bad: put("03-01", "03-31", bad))
        # changes sent at once from one read: exactly one applies
        answers = await asyncio.gather(*(put(f"03-2{n}", "05-31", '"v5"') for n in range(4)))
        won = [r for r in answers if r.status_code == 200]
        assert len(won) == 1 and won[0].headers["etag"] == '"v6"', [r.text for r in answers]
        for r in answers:
            if r is not won[0]:
                stale(r, '"v6"')
        assert (await p.call("vouchers", "GET", path)).json() == won[0].json()


async def test_a_first_window_from_two_forms_opened_without_one_keeps_the_first(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    path = f"/v1/redemption/windows/{YEAR}"
    async with running(Platform(settings, ["vouchers"]), worker=False, relay=False) as p:
        days = {1: ("03-01", "03-31"), 2: ("04-01", "04-30")}

        async def send(n: int, headers: dict[str, str]) -> Any:
            opens, closes = days[n]
            return await p.call("vouchers", "PUT", path, role=Role.CENTER, json={"opens_on": f"{YEAR + 1}-{opens}", "closes_on": f"{YEAR + 1}-{closes}"}, headers=headers)

        await first_save_guarded(send, lambda: p.call("vouchers", "GET", path), lambda b: (b["opens_on"], b["closes_on"]))
