"""Case numbers of complaints (issue 17): each complaint gets TS-<year>-<n>,
unique and consecutive also when filed at the same moment, counted per local
(Beijing) year of filing; it finds the complaint in the list, as typed, for
those who may read it; a refused complaint uses no number; and the migration
numbers the complaints filed before it in the order they came."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.registry.db.oversight_models import complaints
from services.runtime import clock
from services.runtime.roles import Role
from tests.support.case_numbers import backdate, migrate_again
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, verified_user

SERVICES = ["registry"]


async def test_complaints_filed_together_get_distinct_consecutive_numbers_per_beijing_year(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        user = await verified_user(p, "许昌投诉企业")
        # 31 December 2025, 23:30 in Beijing (15:30 UTC): still 2025
        monkeypatch.setattr(clock, "utc_now", lambda: datetime(2025, 12, 31, 15, 30, tzinfo=UTC))
        first = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": "收费高于公布标准", "unit_id": unit})
        assert first.status_code == 201, first.text
        assert first.json()["case_no"] == "TS-2025-000001"
        # 1 January 2026, 00:30 in Beijing (16:30 UTC on the 31st): the new year counts from one
        monkeypatch.setattr(clock, "utc_now", lambda: datetime(2025, 12, 31, 16, 30, tzinfo=UTC))
        answers = await asyncio.gather(
            *(p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": f"第{i}件", "unit_id": unit}) for i in range(6)),
            p.call("registry", "POST", "/v1/complaints/", role=Role.USER, org=user, json={"category": "refusal", "text": "拒绝服务", "unit_id": unit}),
        )
        assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201]
        assert sorted(a.json()["case_no"] for a in answers) == [f"TS-2026-{n:06d}" for n in range(1, 8)]
        # a refused complaint (an unknown unit) uses no number
        refused = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": "收费高", "unit_id": "no-such-unit"})
        assert refused.status_code == 422 and refused.json()["code"] == "complaint.unknown_unit", refused.text
        last = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": "收费高", "unit_id": unit})
        assert last.json()["case_no"] == "TS-2026-000008"

        mine = answers[-1].json()
        assert (await p.call("registry", "GET", f"/v1/complaints/{mine['complaint_id']}", role=Role.CENTER)).json()["case_no"] == mine["case_no"]
        # found by its number as typed, by staff, the unit concerned and its complainant; nobody else
        typed = "  " + mine["case_no"].lower().replace("-2026", " -2026") + " "
        for role, org in ((Role.CENTER, None), (Role.BUREAU, None), (Role.UNIT, unit), (Role.USER, user)):
            found = await p.call("registry", "GET", "/v1/complaints/", role=role, org=org, params={"case_no": typed})
            assert found.status_code == 200 and [c["complaint_id"] for c in found.json()["items"]] == [mine["complaint_id"]], (role, found.text)
        stranger = await verified_user(p, "许昌无关企业")
        other = await p.call("registry", "GET", "/v1/complaints/", role=Role.USER, org=stranger, params={"case_no": mine["case_no"]})
        assert other.status_code == 200 and other.json()["total"] == 0
        # nine complaints, nine numbers
        async with p["registry"].db.read() as s:
            numbers = (await s.execute(select(complaints.c.case_no))).scalars().all()
        assert len(numbers) == len(set(numbers)) == 9


async def test_the_migration_numbers_earlier_complaints_in_the_order_they_were_filed(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        ids = [(await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": f"第{i}件", "unit_id": unit})).json()["complaint_id"] for i in range(3)]
        # filed across a Beijing new year: 31 Dec 2025 23:30 and 1 Jan 2026 00:30, and one later; the last filed is given the earliest time
        await backdate(p["registry"].db, complaints.c.id, complaints.c.filed_at, ids)
    await migrate_again(settings, "registry", "e7c2a4b9d1f6")
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        async with p["registry"].db.read() as s:
            numbered = dict((await s.execute(select(complaints.c.id, complaints.c.case_no))).all())
        assert [numbered[cid] for cid in reversed(ids)] == ["TS-2025-000001", "TS-2026-000001", "TS-2026-000002"]
        # the counters go on from there (filed now: this year's next number)
        year = clock.local_year(clock.utc_now())
        nxt = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": "再投诉", "unit_id": unit})
        assert nxt.json()["case_no"] == f"TS-{year}-{(3 if year == 2026 else 1):06d}"
