"""The test clock (issue 15 §1) against a real nats-server and both databases:
an operator moves every service's policy time at once, over the API or the
command line; the services follow the stored time, periodic tasks with them;
production refuses it."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import select

from services.runtime import clock, safety
from services.runtime.bus import testclock
from services.runtime.roles import Role
from services.runtime.bus.connect import connect_nats
from services.runtime.settings import Settings
from services.vouchers.db.models import vouchers
from services.vouchers.domain.applications import expires_at
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.vouchers import YEAR, Registry, activate, approve, open_programme, programme, submit

ROOT = Path(__file__).resolve().parents[3]
NEW_YEAR = expires_at(YEAR)  # 00:00 on 1 January after YEAR, Asia/Shanghai


async def xciss_clock(settings: Settings, *args: str) -> str:
    """``xciss clock …`` in its own process, as an operator runs it."""
    env = {
        **os.environ,
        "XCISS_NATS_URL": str(settings.nats_url),
        "XCISS_NATS_CREDENTIALS_DIR": str(settings.nats_credentials_dir),
        "XCISS_DATA_DIR": str(settings.data_dir),
        "XCISS_MODE": settings.mode,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.command.cli", "clock", *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_an_operator_sets_advances_and_resets_the_platform_time(make_settings) -> None:
    settings = await make_settings(["registry"], clock_poll_s=0.05)
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        real = (await p.call("registry", "GET", "/v1/clock")).json()
        assert real["simulated"] is False

        target = f"{YEAR}-12-31T23:59:50+08:00"
        assert (await p.call("registry", "PUT", "/v1/clock/", role=Role.CENTER, json={"at": target})).status_code == 403
        r = await p.call("registry", "PUT", "/v1/clock/", role=Role.SYSADMIN, json={"at": f"{YEAR}-12-31T23:59:50"})
        assert r.status_code == 422 and r.json()["code"] == "clock.naive_time" and r.json()["details"]["field"] == "at"

        r = await p.call("registry", "PUT", "/v1/clock/", role=Role.SYSADMIN, json={"at": target})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["simulated"] is True and body["local_now"].startswith(f"{YEAR}-12-31T23:59:5") and body["set_by"].startswith("sysadmin:")
        # the stored time is what another process sees: the command line reads it back
        assert f"SIMULATED: {YEAR}-12-31T23:59:5" in await xciss_clock(settings, "show")

        r = await p.call("registry", "POST", "/v1/clock/advance", role=Role.SYSADMIN, json={"by": "5 days"})
        assert r.status_code == 422 and r.json()["code"] == "clock.bad_span" and r.json()["details"]["field"] == "by"
        r = await p.call("registry", "POST", "/v1/clock/advance", role=Role.SYSADMIN, json={"by": "5d"})
        assert r.json()["local_now"].startswith(f"{YEAR + 1}-01-05T23:59:5")

        audit = (await p.call("registry", "GET", "/v1/audit/", role=Role.AUDITOR, params={"object_type": "clock"})).json()
        assert [e["action"] for e in audit["items"]] == ["clock.advance", "clock.set"]

        assert (await p.call("registry", "DELETE", "/v1/clock/", role=Role.SYSADMIN)).json()["simulated"] is False
        assert "real time:" in await xciss_clock(settings, "show")
        assert clock.simulation() is None


async def test_services_follow_the_stored_time_and_expiry_runs_on_it(make_settings) -> None:
    """An operator's ``xciss clock`` (another process) moves the vouchers service:
    at 23:59:50 on 31 December its voucher still counts; once the clock passes
    midnight the worker's periodic expiry voids it, the reservation is released,
    and the year's programme reads closed."""
    settings = await make_settings(["vouchers"], clock_poll_s=0.05, voucher_expiry_interval_s=0.2)
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, user = reg.unit(), reg.user()
        order = reg.order(user, unit)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        voucher = (await approve(p, (await submit(p, user, order))["application_id"])).json()["voucher_id"]
        committed = (await programme(p))["committed_fen"]
        assert committed > 0

        async def status() -> str:
            async with p["vouchers"].db.read() as s:
                return str((await s.execute(select(vouchers.c.status).where(vouchers.c.id == voucher))).scalar_one())

        await xciss_clock(settings, "set", f"{YEAR}-12-31T23:59:50+08:00")
        await eventually(lambda: clock.simulation() is not None)  # the API's follower read the bucket
        assert clock.local_year() == YEAR
        await asyncio.sleep(0.6)  # several expiry runs on the simulated 31 December
        assert await status() == "issued" and (await programme(p))["open"] is True

        await xciss_clock(settings, "advance", "15s")  # 00:00:05 on 1 January
        await eventually(lambda: clock.utc_now() >= NEW_YEAR)
        assert await eventually(lambda: _is(status, "expired"))
        prog = await programme(p)
        assert prog["committed_fen"] == 0 and prog["open"] is False and prog["closed_reason"] == "year_ended"

        await xciss_clock(settings, "reset")
        await eventually(lambda: clock.simulation() is None)


async def set_clock(settings: Settings, at: datetime | None = None, *, by: timedelta | None = None) -> None:
    """Set (or advance) the platform's time as the operator, straight into the bucket."""
    nc = await connect_nats(settings.bus("operator"), "test-clock")
    try:
        kv = await testclock.bucket(nc, create=True)
        if at is not None:
            offset = testclock.offset_for(at, clock.wall_now())
        else:
            current = await testclock.read(kv)
            offset = (current.offset_s if current else 0.0) + (by or timedelta()).total_seconds()
        await testclock.store(kv, offset, "test")
    finally:
        await nc.close()


async def test_an_appeal_inside_its_window_and_one_just_after_it(make_settings) -> None:
    """R19(2): rejected at the same moment, one user appeals 15 days less a
    minute later (accepted), the other 15 days and a minute later (refused)."""
    settings = await make_settings(["vouchers"], clock_poll_s=0.05)
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, early, late = reg.unit(), reg.user(), reg.user()
        orders = {early: reg.order(early, unit), late: reg.order(late, unit)}
        await reg.flush()
        await set_clock(settings, datetime.fromisoformat(f"{YEAR}-03-02T09:00:00+08:00"))
        await open_programme(p)
        apps = {}
        for user, order in orders.items():
            await activate(p, user)
            apps[user] = (await submit(p, user, order))["application_id"]
            r = await p.call("vouchers", "POST", f"/v1/applications/{apps[user]}/reject", role=Role.CENTER, json={"reason": "合同真实性存疑"})
            assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
        window = (await programme(p))["appeal_window_days"]

        await set_clock(settings, by=timedelta(days=window, minutes=-1))
        r = await p.call("vouchers", "POST", f"/v1/applications/{apps[early]}/appeal", role=Role.USER, org=early, json={"reason": "请复议"})
        assert r.status_code == 200 and r.json()["status"] == "appealed", r.text

        await set_clock(settings, by=timedelta(minutes=2))
        r = await p.call("vouchers", "POST", f"/v1/applications/{apps[late]}/appeal", role=Role.USER, org=late, json={"reason": "请复议"})
        assert r.status_code == 409 and r.json()["code"] == "voucher.appeal_window_closed" and r.json()["message_zh"], r.text


async def _is(read, value: str) -> bool:  # type: ignore[no-untyped-def]
    return await read() == value


async def test_production_refuses_to_start_on_a_simulated_time_and_has_no_clock_api(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    nc = await connect_nats(settings.bus("operator"), "test-clock")
    try:
        kv = await testclock.bucket(nc, create=True)
        await testclock.store(kv, -86_400.0, "test")
        prod = msgspec.structs.replace(settings, mode="prod")
        staging = msgspec.structs.replace(settings, mode="staging")
        assert "clock.simulated" in {p.code for p in await safety.problems_of(prod, "vouchers")}
        assert "clock.simulated" not in {p.code for p in await safety.problems_of(staging, "vouchers")}
        await testclock.clear(kv)
        assert "clock.simulated" not in {p.code for p in await safety.problems_of(prod, "vouchers")}
    finally:
        await nc.close()
    code = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.command.cli", "clock", "set", "2026-12-31T23:59:50+08:00", cwd=ROOT,
        env={**os.environ, "XCISS_MODE": "prod", "XCISS_NATS_URL": str(settings.nats_url), "XCISS_DATA_DIR": str(settings.data_dir)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await code.communicate()
    assert code.returncode == 2 and b"production runs on real time" in err


@pytest.mark.parametrize("mode", ["prod"])
async def test_no_clock_route_in_production(make_settings, mode: str) -> None:
    from services.runtime.service import create_app, load_spec

    settings = msgspec.structs.replace(await make_settings(["vouchers"]), mode=mode, field_keys="k1=" + "A" * 44)
    app = create_app(load_spec("vouchers"), settings)
    paths = {route.path for route in app.routes}
    assert not any(p.startswith("/v1/clock") for p in paths)
    dev_paths = {route.path for route in create_app(load_spec("registry"), await make_settings(["registry"])).routes}
    assert "/v1/clock" in dev_paths and "/v1/clock/advance" in dev_paths


def test_the_portal_shows_a_banner_while_time_is_simulated() -> None:
    from services.gateway.portal.core import simulated_time

    clock.follow(None)
    assert simulated_time() is None
    clock.follow(clock.Simulation(offset_s=(datetime.fromisoformat("2026-12-31T23:59:00+08:00") - clock.wall_now()).total_seconds() + 1))
    try:
        assert simulated_time() == "2026-12-31 23:59"
    finally:
        clock.follow(None)


async def test_an_expiry_run_as_of_a_given_moment(make_settings) -> None:
    """An operator voids as of 00:00 on 1 January after the fact; never ahead of time."""
    settings = await make_settings(["vouchers"], clock_poll_s=0.05)
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, user = reg.unit(), reg.user()
        order = reg.order(user, unit)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        voucher = (await approve(p, (await submit(p, user, order))["application_id"])).json()["voucher_id"]
        await set_clock(settings, NEW_YEAR + timedelta(hours=9))  # 09:00 on 1 January: the sweep has not run

        def run(as_of: str) -> object:
            return p.call("vouchers", "POST", "/v1/vouchers/expire", role=Role.CENTER, params={"as_of": as_of})

        r = await run((NEW_YEAR + timedelta(hours=10)).isoformat())
        assert r.status_code == 422 and r.json()["code"] == "as_of.in_future" and r.json()["details"]["field"] == "as_of"
        r = await run("2027-01-01T00:00:00")
        assert r.status_code == 422 and r.json()["code"] == "as_of.naive"
        r = await run((NEW_YEAR - timedelta(seconds=1)).isoformat())  # 23:59:59 on 31 December: still valid
        assert r.status_code == 200 and r.json()["expired"] == 0
        r = await run(NEW_YEAR.isoformat())
        assert r.status_code == 200 and r.json()["expired"] == 1, r.text
        v = (await p.call("vouchers", "GET", f"/v1/vouchers/{voucher}", role=Role.CENTER)).json()
        assert v["status"] == "expired" and datetime.fromisoformat(v["expired_at"]) == NEW_YEAR
        assert (await programme(p))["committed_fen"] == 0


async def test_a_notice_publication_day_is_data_checked_against_the_platform_day(make_settings) -> None:
    """A notice put up on the board earlier is recorded with its day, while its window
    runs; never a future day (the platform's day is the test clock's)."""
    settings = await make_settings(["evaluation"], clock_poll_s=0.05)
    async with running(Platform(settings, ["evaluation"])) as p:
        await set_clock(settings, datetime.fromisoformat(f"{YEAR}-09-30T10:00:00+08:00"))
        r = await p.call("evaluation", "POST", "/v1/cycles/", role=Role.BUREAU, json={"year": YEAR, "award_budget_fen": 1_000_000})
        assert r.status_code == 201, r.text

        def publish(**kw: str) -> object:
            return p.call("evaluation", "POST", "/v1/notices/", role=Role.CENTER, json={"kind": "grades", "year": YEAR, **kw})

        r = await publish(published_on=f"{YEAR}-10-01")
        assert r.status_code == 422 and r.json()["code"] == "notice.published_in_future" and r.json()["details"]["field"] == "published_on"
        r = await publish(published_on=f"{YEAR}-09-01")
        assert r.status_code == 422 and r.json()["code"] == "notice.window_already_closed" and r.json()["details"]["field"] == "published_on"
        r = await publish(published_on=f"{YEAR}-09-29")  # yesterday: accepted as a day (nothing graded to list yet)
        assert r.status_code == 409 and r.json()["code"] == "notice.nothing_to_publish"
