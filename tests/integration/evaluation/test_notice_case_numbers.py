"""Case numbers of public notices (公示, issue 17): each notice gets
GS-<year>-<n> from evaluation's own counters, unique and consecutive also when
published at the same moment, counted per Beijing year of publication; the
notice's record and its events carry it; it finds the notice in the public
list, as typed; and the migration numbers the notices published before it in
the order they came."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from contracts import evaluation as ee
from services.evaluation import notices
from services.evaluation.db.models import notices as notice_table
from services.runtime import clock
from services.runtime.workdays import load_calendar
from tests.support.evaluation_cycle import emitted
from tests.support.vouchers import uid
from tests.support.case_numbers import backdate, migrate_again
from tests.support.platform import Platform, running

SERVICES = ["evaluation"]


async def _publish(p: Platform, kind: str, year: int) -> notices.Notice:
    """A notice of ``kind`` for ``year`` with one line, published as the use cases do."""
    async with p["evaluation"].db.unit_of_work() as uow:
        line = {"ref": uid(), "unit_id": uid(), "label": "许昌某单位：优秀（95.00 分）"}
        return await notices.publish(uow, load_calendar(p.settings), kind=kind, year=year, title=f"{year} 年度公示", window=5, lines=[line], on=date(2026, 3, 2), reason=None)


async def test_notices_published_together_get_distinct_consecutive_numbers_per_beijing_year(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        # 31 December 2025, 23:30 in Beijing (15:30 UTC): still 2025
        monkeypatch.setattr(clock, "utc_now", lambda: datetime(2025, 12, 31, 15, 30, tzinfo=UTC))
        first = await _publish(p, notices.GRADES, 2025)
        assert first.case_no == "GS-2025-000001"
        # 1 January 2026, 00:30 in Beijing: the new year counts from one, whatever the notice's evaluation year
        monkeypatch.setattr(clock, "utc_now", lambda: datetime(2025, 12, 31, 16, 30, tzinfo=UTC))
        together = await asyncio.gather(*(_publish(p, kind, 2025) for kind in (notices.AWARD_PLAN, notices.REDEMPTION, notices.GRADES, notices.REDEMPTION)))
        assert sorted(n.case_no for n in together) == [f"GS-2026-{n:06d}" for n in range(1, 5)]
        # the record and the events carry it
        one = together[2]
        got = await p.call("evaluation", "GET", f"/v1/notices/{one.notice_id}")
        assert got.status_code == 200 and got.json()["case_no"] == one.case_no
        published = {e.notice_id: e.case_no for e in await emitted(p, ee.NoticePublished)}
        assert published == {n.notice_id: n.case_no for n in (first, *together)}
        # found by its number as typed, by anybody (notices are public)
        typed = " " + one.case_no.lower().replace("-", " - ", 1) + "  "
        found = await p.call("evaluation", "GET", "/v1/notices/", params={"case_no": typed})
        assert found.status_code == 200 and [n["notice_id"] for n in found.json()["items"]] == [one.notice_id], found.text
        none = await p.call("evaluation", "GET", "/v1/notices/", params={"case_no": "GS-2026-999999"})
        assert none.status_code == 200 and none.json()["total"] == 0


async def test_the_migration_numbers_earlier_notices_in_the_order_they_were_published(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        ids = [(await _publish(p, notices.GRADES, 2025)).notice_id for _ in range(3)]
        # published across a Beijing new year; the last published is given the earliest time
        await backdate(p["evaluation"].db, notice_table.c.id, notice_table.c.published_at, ids)
    await migrate_again(settings, "evaluation", "d6f2a8c4b9e3")
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        async with p["evaluation"].db.read() as s:
            numbered = dict((await s.execute(select(notice_table.c.id, notice_table.c.case_no))).all())
        assert [numbered[nid] for nid in reversed(ids)] == ["GS-2025-000001", "GS-2026-000001", "GS-2026-000002"]
        # the counters go on from there
        year = clock.local_year(clock.utc_now())
        assert (await _publish(p, notices.AWARD_PLAN, 2025)).case_no == f"GS-{year}-{(3 if year == 2026 else 1):06d}"
