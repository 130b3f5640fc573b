"""A unit's bank details take If-Match (issue 17): two people of one unit edit
them from the same read; the second edit is refused (412) instead of silently
replacing the account the first set. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.preconditions import CREATE_ONLY, first_save_guarded, malformed_refused, stale

UNIT = "01900000-0000-7000-8000-00000000a001"
PATH = f"/v1/payees/{UNIT}"


def details(number: str, bank: str = "中国工商银行许昌分行") -> dict[str, str]:
    return {"bank_name": bank, "account_name": "许昌某大学", "account_number": number}


async def test_a_payee_change_from_a_stale_read_is_refused(make_settings) -> None:
    settings = await make_settings(["payments"])
    async with running(Platform(settings, ["payments"]), worker=False, relay=False) as p:

        async def put(body: dict[str, str], tag: str | None = None) -> Any:
            return await p.call("payments", "PUT", PATH, role=Role.UNIT, org=UNIT, json=body, headers={"If-Match": tag} if tag is not None else {})

        # no details yet: If-Match (a tag or *) has nothing to match, and nothing is written
        stale(await put(details("62220212345678"), '"v1"'), None)
        stale(await put(details("62220212345678"), "*"), None)
        assert (await p.call("payments", "GET", PATH, role=Role.FINANCE)).status_code == 404
        created = await put(details("62220212345678"))
        assert created.status_code == 200 and created.headers["etag"] == '"v1"' and created.json()["version"] == 1, created.text
        read = await p.call("payments", "GET", PATH, role=Role.UNIT, org=UNIT)
        assert read.status_code == 200 and read.headers["etag"] == '"v1"'
        # two edits of the same read: the first applies, the second is told the current tag
        first = await put(details("104123456789012"), read.headers["etag"])
        assert first.status_code == 200 and first.headers["etag"] == '"v2"' and first.json()["account_number_masked"].endswith("9012"), first.text
        stale(await put(details("955880000011112222"), read.headers["etag"]), '"v2"')
        now = await p.call("payments", "GET", PATH, role=Role.FINANCE)
        assert now.json()["account_number_masked"].endswith("9012") and now.headers["etag"] == '"v2"'
        # the current tag applies; no header or * edits the current version; malformed is 400
        again = await put(details("955880000011112222"), '"v2"')
        assert again.status_code == 200 and again.headers["etag"] == '"v3"', again.text
        assert (await put(details("955880000011113333"))).headers["etag"] == '"v4"'
        assert (await put(details("955880000011114444", "中国银行许昌分行"), "*")).headers["etag"] == '"v5"'
        await malformed_refused(lambda bad: put(details("62220212345678"), bad))
        # edits sent at once from one read: exactly one applies
        answers = await asyncio.gather(*(put(details(f"6222021234567{n}"), '"v5"') for n in range(4)))
        won = [r for r in answers if r.status_code == 200]
        assert len(won) == 1 and won[0].headers["etag"] == '"v6"', [r.text for r in answers]
        for r in answers:
            if r is not won[0]:
                stale(r, '"v6"')
        final = (await p.call("payments", "GET", PATH, role=Role.FINANCE)).json()
        assert final["account_number_masked"] == won[0].json()["account_number_masked"] and final["version"] == 6
        # first details sent at once (no If-Match): never a 500, each 200 its own version
        other = "01900000-0000-7000-8000-00000000a002"
        answers = await asyncio.gather(*(p.call("payments", "PUT", f"/v1/payees/{other}", role=Role.UNIT, org=other, json=details(f"6222021234567{n}")) for n in range(4)))
        assert all(r.status_code in (200, 409) for r in answers), [r.text for r in answers]
        assert all(r.json()["code"] == "payee.concurrent_change" for r in answers if r.status_code == 409)
        versions = sorted(r.json()["version"] for r in answers if r.status_code == 200)
        assert versions == list(range(1, len(versions) + 1)), versions
        assert (await p.call("payments", "GET", f"/v1/payees/{other}", role=Role.FINANCE)).json()["version"] == versions[-1]


async def test_first_bank_details_from_two_forms_opened_without_any_keep_the_first(make_settings) -> None:
    """Two people of a unit open the form with no details yet and both save with If-None-Match: *:
    the second is 412 request.record_exists, not a silent overwrite; sent at once, exactly one saves."""
    settings = await make_settings(["payments"])
    async with running(Platform(settings, ["payments"]), worker=False, relay=False) as p:
        numbers = {1: "62220212345678", 2: "104123456789012"}

        async def send(n: int, headers: dict[str, str]) -> Any:
            return await p.call("payments", "PUT", PATH, role=Role.UNIT, org=UNIT, json=details(numbers[n]), headers=headers)

        await first_save_guarded(send, lambda: p.call("payments", "GET", PATH, role=Role.FINANCE), lambda b: b["account_number_masked"])
        other = "01900000-0000-7000-8000-00000000a003"
        answers = await asyncio.gather(*(p.call("payments", "PUT", f"/v1/payees/{other}", role=Role.UNIT, org=other, json=details(f"6222021234567{n}"), headers=CREATE_ONLY) for n in range(4)))
        won = [r for r in answers if r.status_code == 200]
        assert len(won) == 1 and won[0].headers["etag"] == '"v1"', [r.text for r in answers]
        assert all(r.status_code == 412 and r.json()["code"] == "request.record_exists" for r in answers if r is not won[0]), [r.text for r in answers]
        stored = (await p.call("payments", "GET", f"/v1/payees/{other}", role=Role.FINANCE)).json()
        assert (stored["account_number_masked"], stored["version"]) == (won[0].json()["account_number_masked"], 1)
