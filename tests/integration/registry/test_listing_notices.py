"""Issue 17, M11(3): a unit is reminded once, by the in-site message centre and
by mail, when an unlisted must-list instrument enters its due-soon window
(09:00 Beijing time on the first day the compliance view says "due soon");
never when it listed it (or retired it) first, nor about an instrument it need
not list. Once its deadline has passed still unlisted, the unit and the center
are told it is overdue (09:00 Beijing time on the first working day after the
deadline, the first working day the compliance view says "overdue"), unless it
was listed or retired first. Instruments registered before these notices existed
are scheduled by an idempotent pass. The platform runs on the test clock (Monday 2024-09-23);
the scheduled notices are sent as of chosen moments. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from services.registry import listing_backfill
from services.registry import scheduled_notices as scheduled
from services.registry.db.account_models import accounts
from services.registry.db.notification_models import scheduled_notices
from services.registry.db.recovery_models import mail_outbox
from services.registry.domain.listing import listing_deadline
from services.registry.policy import load_registry_policies
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.workdays import load_calendar
from tests.support.ledger_imports import row, upload, xlsx
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit

SERVICES = ["registry"]
#: the platform's "now": Monday 2024-09-23 10:00 in Beijing
NOW = datetime.fromisoformat("2024-09-23T10:00:00+08:00")
#: accepted Fri 2024-09-20: deadline Wed 2024-11-06, due soon (5 working days left) from Wed 2024-10-30
ACCEPTED = "2024-09-20"
DUE = datetime(2024, 10, 30, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
KIND = "instrument.listing_due"
OVERDUE, OVERDUE_CENTER = "instrument.listing_overdue", "compliance.listing_overdue"
#: the first working day after the deadline (Wed 2024-11-06): Thu 2024-11-07, 09:00 in Beijing
OVERDUE_AT = datetime(2024, 11, 7, 1, 0, tzinfo=UTC)


def on_the_test_clock() -> None:
    """The platform's policy time is ``NOW`` from here on: the test clock's simulation
    in this process, set directly (the operator's clock stays within 3 years of today,
    and the working-day calendar knows past years only); once the platform runs, whose
    start puts every test on real time."""
    clock.follow(clock.Simulation(offset_s=(NOW - clock.wall_now()).total_seconds(), set_by="test"))


@pytest.fixture(autouse=True)
def back_to_real_time() -> Iterator[None]:
    yield
    clock.follow(None)


async def unit_with_desk(p: Platform, name: str, email: str) -> str:
    unit = await approved_unit(p, name)
    body = {"username": email.replace("@", ".").split(".")[1], "password": "Notice-Pass-2026", "role": "unit", "org": unit}
    r = await p.call("registry", "POST", "/v1/accounts/", role=Role.SYSADMIN, json=body)
    assert r.status_code == 201, r.text
    async with p.services["registry"].db.sessions() as s, s.begin():
        await s.execute(update(accounts).where(accounts.c.username == body["username"]).values(email=email))
    return unit


async def register(p: Platform, unit: str, name: str, **kw: Any) -> str:
    body = {"unit_id": unit, "name": name, "category": "分析仪器", "original_value_fen": 20_000_000, "funding": "fiscal_full", "acceptance_date": ACCEPTED, **kw}
    r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body)
    assert r.status_code == 201, r.text
    iid: str = r.json()["instrument_id"]
    return iid


async def notes(p: Platform, org: str) -> list[dict[str, Any]]:
    r = await p.call("registry", "GET", "/v1/notifications/", role=Role.UNIT, org=org)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def mails(p: Platform, kind: str = KIND) -> list[tuple[str, str]]:
    async with p.services["registry"].db.read() as s:
        return [(m.recipient, m.subject) for m in (await s.execute(select(mail_outbox.c.recipient, mail_outbox.c.subject).where(mail_outbox.c.kind == kind))).all()]


async def center_desk(p: Platform) -> None:
    r = await p.call("registry", "POST", "/v1/accounts/", role=Role.SYSADMIN, json={"username": "center-desk", "password": "Notice-Pass-2026", "role": "center", "org": None})
    assert r.status_code == 201, r.text
    async with p.services["registry"].db.sessions() as s, s.begin():
        await s.execute(update(accounts).where(accounts.c.username == "center-desk").values(email="center@kjj.example.gov.cn"))


async def center_notes(p: Platform) -> list[dict[str, Any]]:
    r = await p.call("registry", "GET", "/v1/notifications/", role=Role.CENTER)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def scheduled_rows(p: Platform) -> list[tuple[str, str, datetime | None]]:
    async with p.services["registry"].db.read() as s:
        rows = (await s.execute(select(scheduled_notices.c.kind, scheduled_notices.c.ref, scheduled_notices.c.due_at).where(scheduled_notices.c.cancelled_at.is_(None)))).all()
    return sorted((r.kind, r.ref, r.due_at) for r in rows)


async def test_a_unit_is_reminded_once_when_its_instrument_becomes_due_soon_unless_it_listed_it_first(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        on_the_test_clock()
        db = p.services["registry"].db
        unit, other = await unit_with_desk(p, "许昌学院", "desk@lab.example.edu.cn"), await unit_with_desk(p, "许昌职业技术学院", "desk@other.example.edu.cn")
        unlisted = await register(p, unit, "液相色谱质谱联用仪", asset_number="XC-2024-017")
        listed = await register(p, unit, "扫描电子显微镜")
        retired = await register(p, unit, "X射线衍射仪")
        await register(p, unit, "台式离心机", original_value_fen=19_999_999)  # below the M5 threshold: need not be listed
        await register(p, other, "核磁共振波谱仪", funding="non_fiscal")
        assert (await p.call("registry", "POST", f"/v1/instruments/{listed}/list", role=Role.UNIT, org=unit)).status_code == 200
        r = await p.call("registry", "POST", f"/v1/instruments/{retired}/retire", role=Role.UNIT, org=unit, json={"reason": "登记有误"})
        assert r.status_code == 200, r.text

        assert await scheduled.send_due(db, DUE - timedelta(seconds=1)) == 0  # 08:59:59 in Beijing: not yet
        assert await scheduled.send_due(db, DUE) == 1  # the unlisted one only
        assert await scheduled.send_due(db, datetime(2024, 11, 6, 8, 0, tzinfo=UTC)) == 0  # once
        [n] = await notes(p, unit)
        assert n["kind"] == KIND and n["link"] == "/unit/instruments"
        assert "“液相色谱质谱联用仪”（资产编号 XC-2024-017）的上线期限为 2024年11月6日（北京时间，含当日）" in n["text_zh"] and unlisted not in n["text_zh"]
        assert await notes(p, other) == []
        assert await mails(p) == [("desk@lab.example.edu.cn", "[科技创新券平台] 仪器上线期限将至 / An instrument's listing deadline is near")]
        # listing it now (in the window, after the reminder) changes nothing told
        assert (await p.call("registry", "POST", f"/v1/instruments/{unlisted}/list", role=Role.UNIT, org=unit)).status_code == 200
        assert await scheduled.send_due(db, datetime(2024, 11, 6, 8, 0, tzinfo=UTC)) == 0 and len(await notes(p, unit)) == 1


async def test_instruments_registered_before_the_reminder_existed_are_scheduled_once(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        on_the_test_clock()
        db = p.services["registry"].db
        calendar, policy = load_calendar(settings), load_registry_policies(settings).listing
        unit = await unit_with_desk(p, "许昌学院", "desk@lab.example.edu.cn")
        old = await register(p, unit, "液相色谱质谱联用仪")
        old_listed = await register(p, unit, "扫描电子显微镜")
        overdue = await register(p, unit, "X射线衍射仪", acceptance_date="2024-07-01")  # deadline 2024-08-12: already passed
        assert (await p.call("registry", "POST", f"/v1/instruments/{old_listed}/list", role=Role.UNIT, org=unit)).status_code == 200
        old_retired = await register(p, unit, "台式离心机")
        assert (await p.call("registry", "POST", f"/v1/instruments/{old_retired}/retire", role=Role.UNIT, org=unit, json={"reason": "已报废"})).status_code == 200
        async with db.sessions() as s, s.begin():  # as if registered before the reminder existed
            await s.execute(delete(scheduled_notices))

        assert await listing_backfill.ensure_scheduled(db, calendar, policy) == 2  # its reminder and its overdue notice
        assert await listing_backfill.ensure_scheduled(db, calendar, policy) == 0  # idempotent
        rows = await scheduled_rows(p)
        assert rows == [(OVERDUE_CENTER, old, OVERDUE_AT), (KIND, old, DUE), (OVERDUE, old, OVERDUE_AT)] and overdue not in {r[1] for r in rows}
        assert await scheduled.send_due(db, DUE) == 1
        assert await listing_backfill.ensure_scheduled(db, calendar, policy) == 0  # told: never again
        assert await scheduled.send_due(db, datetime(2024, 11, 6, 8, 0, tzinfo=UTC)) == 0
        [n] = await notes(p, unit)
        assert n["kind"] == KIND and "液相色谱质谱联用仪" in n["text_zh"]


async def test_a_ledger_import_schedules_the_reminder_of_each_must_list_row(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        on_the_test_clock()
        db = p.services["registry"].db
        unit = await unit_with_desk(p, "许昌学院", "desk@lab.example.edu.cn")
        ledger = [row("ZC-0001"), row("ZC-0002", **{"原值（元）": "199999.99"}), row("ZC-0003", **{"是否涉密": "是"})]  # must list; below the threshold; classified
        r = await upload(p, unit, xlsx(ledger))
        assert r.status_code == 201 and r.json()["created_count"] == 3, r.text
        assert await scheduled.send_due(db, DUE - timedelta(seconds=1)) == 0
        assert await scheduled.send_due(db, DUE) == 1
        [n] = await notes(p, unit)
        assert n["kind"] == KIND and "（资产编号 ZC-0001）" in n["text_zh"] and "2024年11月6日" in n["text_zh"]


async def test_a_cancellation_racing_the_backfill_cancels_its_reminder_and_fails_nobody(make_settings) -> None:
    """The backfill schedules a reminder while, in another transaction, the unit lists
    the same instrument (which cancels it): the unit's request waits for the backfill's
    commit, then cancels what it made; neither fails on the (kind, ref) index."""
    from services.registry.domain.notices import Notice

    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        db = p.services["registry"].db
        notice = Notice(recipient_role="unit", recipient_org="u-race", kind=KIND, subject_zh="仪器上线期限将至", text_zh="…", subject_en="due", text_en="…")
        now = clock.utc_now()
        async with db.sessions() as backfill:
            await backfill.begin()
            assert await scheduled.schedule(backfill, notice, ref="i-race", due_at=now + timedelta(days=3), link=None, now=now)

            async def the_unit_lists_it() -> None:
                async with db.sessions() as s, s.begin():
                    await scheduled.cancel(s, KIND, "i-race", role="unit", org="u-race", now=now)

            listing = asyncio.create_task(the_unit_lists_it())
            await asyncio.sleep(0.3)  # the unit's cancel has reached the database and waits on the backfill's row
            await backfill.commit()
        await listing  # no IntegrityError
        async with db.sessions() as s:
            rows = (await s.execute(select(scheduled_notices.c.cancelled_at, scheduled_notices.c.sent_at).where(scheduled_notices.c.ref == "i-race"))).all()
        assert len(rows) == 1 and rows[0].cancelled_at is not None and rows[0].sent_at is None
        # and the other order: a cancellation recorded first makes a later schedule do nothing
        async with db.sessions() as s, s.begin():
            await scheduled.cancel(s, KIND, "i-later", role="unit", org="u-race", now=now)
        async with db.sessions() as s, s.begin():
            assert not await scheduled.schedule(s, notice, ref="i-later", due_at=now, link=None, now=now)


async def test_the_unit_and_the_center_are_told_once_on_the_first_working_day_an_unlisted_instrument_is_overdue(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        on_the_test_clock()
        db = p.services["registry"].db
        unit, other = await unit_with_desk(p, "许昌学院", "desk@lab.example.edu.cn"), await unit_with_desk(p, "许昌职业技术学院", "desk@other.example.edu.cn")
        await center_desk(p)
        unlisted = await register(p, unit, "液相色谱质谱联用仪", asset_number="XC-2024-017")
        listed = await register(p, unit, "扫描电子显微镜")
        retired = await register(p, unit, "X射线衍射仪")
        await register(p, other, "核磁共振波谱仪", funding="non_fiscal")  # need not be listed
        assert await scheduled_rows(p) == sorted(
            [(OVERDUE_CENTER, i, OVERDUE_AT) for i in (unlisted, listed, retired)] + [(KIND, i, DUE) for i in (unlisted, listed, retired)] + [(OVERDUE, i, OVERDUE_AT) for i in (unlisted, listed, retired)]
        )
        assert (await p.call("registry", "POST", f"/v1/instruments/{listed}/list", role=Role.UNIT, org=unit)).status_code == 200
        r = await p.call("registry", "POST", f"/v1/instruments/{retired}/retire", role=Role.UNIT, org=unit, json={"reason": "登记有误"})
        assert r.status_code == 200, r.text
        assert await scheduled_rows(p) == [(OVERDUE_CENTER, unlisted, OVERDUE_AT), (KIND, unlisted, DUE), (OVERDUE, unlisted, OVERDUE_AT)]  # theirs are cancelled

        assert await scheduled.send_due(db, DUE) == 1  # the reminder before the deadline
        assert await scheduled.send_due(db, OVERDUE_AT - timedelta(seconds=1)) == 0  # Thu 2024-11-07 08:59:59 in Beijing: not yet
        # the compliance view says overdue from the day after the deadline; the notice waits for its 09:00
        r = await p.call("registry", "GET", "/v1/compliance/", role=Role.CENTER, params={"as_of": "2024-11-07"})
        assert r.status_code == 200 and [(a["instrument_id"], a["state"]) for a in r.json()["attention"]] == [(unlisted, "overdue")], r.text
        assert await scheduled.send_due(db, OVERDUE_AT) == 2  # the unit's and the center's
        assert await scheduled.send_due(db, OVERDUE_AT + timedelta(days=30)) == 0  # once
        mine = {n["kind"]: n for n in await notes(p, unit)}
        assert set(mine) == {KIND, OVERDUE} and mine[OVERDUE]["link"] == "/unit/instruments"
        assert "“液相色谱质谱联用仪”（资产编号 XC-2024-017）的上线期限 2024年11月6日（北京时间，含当日）已过，目前仍未上线" in mine[OVERDUE]["text_zh"]
        assert "管理办法第十一条第三项" in mine[OVERDUE]["text_zh"] and unlisted not in mine[OVERDUE]["text_zh"] + mine[OVERDUE]["text_en"]
        [theirs] = await center_notes(p)
        assert theirs["kind"] == OVERDUE_CENTER and theirs["link"] == "/supervision/compliance"
        assert "许昌学院的仪器“液相色谱质谱联用仪”（资产编号 XC-2024-017）上线期限为 2024年11月6日" in theirs["text_zh"] and unlisted not in theirs["text_zh"]
        assert await notes(p, other) == []
        assert await mails(p, OVERDUE) == [("desk@lab.example.edu.cn", "[科技创新券平台] 仪器已逾期未上线 / An instrument is overdue for listing")]
        assert await mails(p, OVERDUE_CENTER) == [("center@kjj.example.gov.cn", "[科技创新券平台] 有仪器逾期未上线 / A unit's instrument is overdue for listing")]
        # listing it late now changes nothing told
        assert (await p.call("registry", "POST", f"/v1/instruments/{unlisted}/list", role=Role.UNIT, org=unit)).status_code == 200
        assert len(await notes(p, unit)) == 2 and len(await center_notes(p)) == 1


async def test_an_instrument_whose_overdue_day_is_today_is_told_at_once_and_one_already_past_never(make_settings) -> None:
    """Registered (or found by the pass) on the first working day after its deadline, the
    notice is due at once; a day later it is not scheduled at all: the compliance view
    already shows it, and a notice that late would tell nothing new. NOW is Monday
    2024-09-23: the last working day before it is Friday 2024-09-20."""
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        on_the_test_clock()
        db = p.services["registry"].db
        calendar, policy = load_calendar(settings), load_registry_policies(settings).listing
        accepted = {listing_deadline(d, calendar, policy.for_year(d.year)): d for d in (NOW.date() - timedelta(days=n) for n in range(40, 60))}
        unit = await unit_with_desk(p, "许昌学院", "desk@lab.example.edu.cn")
        await center_desk(p)
        today = await register(p, unit, "液相色谱质谱联用仪", acceptance_date=accepted[date(2024, 9, 20)].isoformat())  # deadline Fri 2024-09-20
        past = await register(p, unit, "扫描电子显微镜", acceptance_date=accepted[date(2024, 9, 19)].isoformat())  # deadline Thu 2024-09-19: told Fri, gone
        monday = datetime(2024, 9, 23, 1, 0, tzinfo=UTC)
        assert await scheduled_rows(p) == [(OVERDUE_CENTER, today, monday), (OVERDUE, today, monday)]
        async with db.sessions() as s, s.begin():  # as if registered before the notices existed
            await s.execute(delete(scheduled_notices))
        assert await listing_backfill.ensure_scheduled(db, calendar, policy) == 1
        assert await scheduled_rows(p) == [(OVERDUE_CENTER, today, monday), (OVERDUE, today, monday)] and past not in {r[1] for r in await scheduled_rows(p)}
        assert await scheduled.send_due(db) == 2  # due at once (NOW, 10:00 in Beijing)
        [n] = await notes(p, unit)
        assert n["kind"] == OVERDUE and "2024年9月20日" in n["text_zh"] and len(await center_notes(p)) == 1
