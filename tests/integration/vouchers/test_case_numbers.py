"""Case numbers of voucher applications (SQ-<year>-<n>) and redemption claims
(DF-<year>-<n>), issue 17, on both databases: unique and consecutive also for
applications decided together in a batch, where a refused request uses none;
carried by the events; found in the lists as typed by those who may see them;
and the migration numbers earlier rows in the order they came, per Beijing
year, the counters going on from there."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import select, update

from contracts import vouchers as ve
from services.runtime.db.migrations import alembic_config, upgrade
from services.runtime.roles import Role
from services.vouchers import application_batches as batches_module
from services.vouchers.db.models import applications, redemption_claims
from tests.support.outbox import emitted
from tests.support.payouts import RECEIPT, RESULTS, claim_item, open_window, upload, used_vouchers
from tests.support.platform import Platform, running
from tests.support.vouchers import YEAR, Registry, activate, call, open_programme, submit, uid

VOUCHER = 300_000  # 30% of a 1,000,000 fen testing fee
SQ = re.compile(rf"SQ-{YEAR}-(\d{{6}})")
DF = re.compile(rf"DF-{YEAR}-(\d{{6}})")


def _n(form: re.Pattern[str], case_no: str) -> int:
    m = form.fullmatch(case_no)
    assert m is not None, case_no
    return int(m.group(1))


def _batches() -> int:
    return sum(b.batches for per in batches_module._BATCHERS.values() for b in per.values())


async def test_applications_submitted_at_once_are_numbered_consecutively_and_a_refused_one_uses_none(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        users = [reg.user() for _ in range(24)]
        orders = [(u, reg.order(u, unit, fee=1_000_000)) for u in users]
        await reg.flush()
        await open_programme(p, 100 * VOUCHER, auto_approve=True)
        for u in users:
            await activate(p, u)

        # 24 applications at once, and among them 6 that are refused in the batch: another user's order, an unknown order
        theirs = [(users[i], orders[i + 1][1]) for i in range(3)] + [(users[i], uid()) for i in range(3)]
        requests = orders + theirs
        before = _batches()
        answers = await asyncio.gather(*(call(p, "POST", "/v1/applications/", Role.USER, org=u, json={"order_id": o}) for u, o in requests))
        assert 0 < _batches() - before < len(requests)  # decided many per transaction
        made = [a.json() for a in answers if a.status_code == 201]
        refused = [a for a in answers if a.status_code != 201]
        assert len(made) == 24 and all(b["status"] == "approved" for b in made), [a.text for a in refused]
        assert len(refused) == 6 and {r.status_code for r in refused} == {404}, [r.text for r in refused]
        # unique and consecutive from the year's first: the refused took none
        assert sorted(_n(SQ, b["case_no"]) for b in made) == list(range(1, 25))

        # the next application on its own goes on from there
        late_user = reg.user()
        late_order = reg.order(late_user, unit, fee=1_000_000)
        await reg.flush()
        await activate(p, late_user)
        late = await submit(p, late_user, late_order)
        assert late["case_no"] == f"SQ-{YEAR}-000025"

        # the events carry it: each application's submitted and approved events its number
        numbers = {b["application_id"]: b["case_no"] for b in [*made, late]}
        for event_type in (ve.ApplicationSubmitted, ve.ApplicationApproved):
            events = await emitted(p, "vouchers", event_type)
            assert {e.application_id: e.case_no for e in events} == numbers, event_type  # type: ignore[attr-defined]

        # the application's page carries it; the list finds it as typed, for its user and staff only
        one = (await call(p, "GET", f"/v1/applications/{late['application_id']}", Role.USER, org=late_user, status=200)).json()
        assert one["case_no"] == late["case_no"]
        typed = " " + late["case_no"].lower().replace("-", " - ") + " "
        for role, org in ((Role.USER, late_user), (Role.CENTER, None)):
            found = await p.call("vouchers", "GET", "/v1/applications/", role=role, org=org, params={"case_no": typed})
            assert found.status_code == 200 and [a["application_id"] for a in found.json()["items"]] == [late["application_id"]], (role, found.text)
        other = await p.call("vouchers", "GET", "/v1/applications/", role=Role.USER, org=users[0], params={"case_no": late["case_no"]})
        assert other.status_code == 200 and other.json()["total"] == 0

        # the list finds an order's application by the order (issue 17: the portal's order page), for its user and staff only
        for role, org in ((Role.USER, late_user), (Role.CENTER, None)):
            found = await p.call("vouchers", "GET", "/v1/applications/", role=role, org=org, params={"order_id": late_order})
            assert found.status_code == 200 and [a["application_id"] for a in found.json()["items"]] == [late["application_id"]], (role, found.text)
        other = await p.call("vouchers", "GET", "/v1/applications/", role=Role.USER, org=users[0], params={"order_id": late_order})
        assert other.status_code == 200 and other.json()["total"] == 0


async def test_claims_are_numbered_in_their_transaction_and_found_as_typed(make_settings) -> None:
    settings = await make_settings(["vouchers", "payments"])
    async with running(Platform(settings, ["vouchers", "payments"])) as p:
        unit, (v1, v2) = await used_vouchers(p, 2)
        other, _ = await used_vouchers(p, 1)
        await open_window(p)
        receipt, results = await upload(p, unit, RECEIPT), await upload(p, unit, RESULTS)
        # refused (a malformed invoice number): no number used
        bad = [claim_item(v1, receipt, results, number="123")]
        assert (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": bad}, status=422)).json()["code"] == "redemption.invoice_invalid"
        first = (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": [claim_item(v1, receipt, results, number="26412000000000011111")]}, status=201)).json()
        # refused (the voucher is claimed already): no number used either
        again = [claim_item(v1, receipt, results, number="26412000000000022222")]
        assert (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": again}, status=409)).json()["code"] == "redemption.voucher_claimed"
        second = (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": [claim_item(v2, receipt, results, number="26412000000000033333")]}, status=201)).json()
        assert (first["case_no"], second["case_no"]) == (f"DF-{YEAR}-000001", f"DF-{YEAR}-000002")

        # the event carries it, the claim's page too
        claimed = await emitted(p, "vouchers", ve.RedemptionClaimed)
        assert {e.claim_id: e.case_no for e in claimed} == {first["claim_id"]: first["case_no"], second["claim_id"]: second["case_no"]}  # type: ignore[attr-defined]
        one = (await call(p, "GET", f"/v1/redemption/claims/{second['claim_id']}", Role.UNIT, org=unit, status=200)).json()
        assert one["case_no"] == second["case_no"]

        # found as typed by its unit and staff; another unit finds nothing
        typed = f" df-{YEAR}-000002 "
        for role, org in ((Role.UNIT, unit), (Role.CENTER, None)):
            found = await p.call("vouchers", "GET", "/v1/redemption/claims", role=role, org=org, params={"case_no": typed})
            assert found.status_code == 200 and [c["claim_id"] for c in found.json()["items"]] == [second["claim_id"]], (role, found.text)
        stranger = await p.call("vouchers", "GET", "/v1/redemption/claims", role=Role.UNIT, org=other, params={"case_no": typed})
        assert stranger.status_code == 200 and stranger.json()["total"] == 0


async def test_the_migration_numbers_earlier_applications_and_claims_in_the_order_they_came(make_settings) -> None:
    settings = await make_settings(["vouchers", "payments"])
    services = ["vouchers", "payments"]
    y = YEAR
    # across a Beijing new year: 31 Dec 23:30 and 1 Jan 00:30 Beijing time, and one later
    moments = [datetime(y - 1, 12, 31, 15, 30, tzinfo=UTC), datetime(y - 1, 12, 31, 16, 30, tzinfo=UTC), datetime(y, 3, 1, 2, 0, tzinfo=UTC)]
    async with running(Platform(settings, services)) as p:
        unit, vids = await used_vouchers(p, 3)
        await open_window(p)
        receipt, results = await upload(p, unit, RECEIPT), await upload(p, unit, RESULTS)
        claims = [
            (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": y, "items": [claim_item(v, receipt, results, number=f"2641200000000004444{i}")]}, status=201)).json()["claim_id"]
            for i, v in enumerate(vids)
        ]
        async with p["vouchers"].db.read() as s:
            apps = list((await s.execute(select(applications.c.id).order_by(applications.c.submitted_at, applications.c.id))).scalars())
        assert len(apps) == 3
        async with p["vouchers"].db.unit_of_work() as uow:
            for app_id, at in zip(reversed(apps), moments, strict=True):  # the last submitted is given the earliest time
                await uow.session.execute(update(applications).where(applications.c.id == app_id).values(submitted_at=at))
            for claim_id, at in zip(reversed(claims), moments, strict=True):
                await uow.session.execute(update(redemption_claims).where(redemption_claims.c.id == claim_id).values(claimed_at=at))
    url = settings.database_url("vouchers")
    await asyncio.to_thread(command.downgrade, alembic_config("vouchers", url), "9a3f6d2e8b15")
    await asyncio.to_thread(upgrade, "vouchers", url)
    async with running(Platform(settings, services)) as p:
        async with p["vouchers"].db.read() as s:
            app_numbers = dict((await s.execute(select(applications.c.id, applications.c.case_no))).all())
            claim_numbers = dict((await s.execute(select(redemption_claims.c.id, redemption_claims.c.case_no))).all())
        expected = [f"{{}}-{y - 1}-000001", f"{{}}-{y}-000001", f"{{}}-{y}-000002"]
        assert [app_numbers[a] for a in reversed(apps)] == [e.format("SQ") for e in expected]
        assert [claim_numbers[c] for c in reversed(claims)] == [e.format("DF") for e in expected]
        # and the counters go on from there
        _, (v4,) = await used_vouchers(p, 1, unit=unit)
        async with p["vouchers"].db.read() as s:
            newest = (await s.execute(select(applications.c.case_no).where(applications.c.id.not_in(apps)))).scalar_one()
        assert newest == f"SQ-{y}-000003"
        later = (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": y, "items": [claim_item(v4, receipt, results, number="26412000000000055555")]}, status=201)).json()
        assert later["case_no"] == f"DF-{y}-000003"
