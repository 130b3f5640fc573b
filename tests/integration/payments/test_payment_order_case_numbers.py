"""Case numbers of payment orders (付款单, issue 17): each order finance creates
gets FK-<year>-<n> from payments' own counters in the creating transaction,
unique and consecutive also for orders created at once, counted per Beijing
year; a refused creation uses no number; the order's record, its PayoutOrdered
events and its Excel file (name and column) carry it; it finds the order in
the list as typed, for the staff who may see payment orders; and the migration
numbers the orders made before it in the order they were created."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from contracts import payments as pe
from services.payments.db.models import payment_orders
from services.runtime import clock
from services.runtime.roles import Role
from tests.support.payouts import read_xlsx
from tests.support.case_numbers import backdate, migrate_again
from tests.support.platform import Platform, running
from tests.support.vouchers import uid
from tests.support.payout_orders import due_award, emitted, payment_order, save_payee

SERVICES = ["payments"]


def _at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: moment)


async def test_payment_orders_get_consecutive_numbers_per_beijing_year_and_refusals_use_none(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        paid_unit, no_payee = uid(), uid()
        await save_payee(p, paid_unit)
        # refused before any order: nothing due, a payout that does not exist
        assert (await payment_order(p, {}, 409))["code"] == "payment_order.nothing_due"
        # 31 December 2025, 23:30 in Beijing (15:30 UTC): still 2025
        _at(monkeypatch, datetime(2025, 12, 31, 15, 30, tzinfo=UTC))
        first = await payment_order(p, {"payout_ids": [await due_award(p, paid_unit)]})
        assert first["case_no"] == "FK-2025-000001"

        # 1 January 2026, 00:30 in Beijing: the new year counts from one; refusals in between use none
        _at(monkeypatch, datetime(2025, 12, 31, 16, 30, tzinfo=UTC))
        blocked = await due_award(p, no_payee)
        assert (await payment_order(p, {"payout_ids": [blocked]}, 409))["code"] == "payout.payee_missing"
        assert (await payment_order(p, {"payout_ids": [uid()]}, 409))["code"] == "payout.not_due"
        assert (await payment_order(p, {"kind": "redemption"}, 409))["code"] == "payment_order.nothing_due"
        # three created at once get three consecutive numbers
        ids = [await due_award(p, paid_unit) for _ in range(3)]
        together = await asyncio.gather(*(payment_order(p, {"payout_ids": [i]}) for i in ids))
        assert sorted(o["case_no"] for o in together) == ["FK-2026-000001", "FK-2026-000002", "FK-2026-000003"]
        assert (await payment_order(p, {"payout_ids": [ids[0]]}, 409))["code"] == "payout.not_due"  # already ordered: no number
        last = await payment_order(p, {"payout_ids": [await due_award(p, paid_unit)]})
        assert last["case_no"] == "FK-2026-000004"

        # the record and each payout's PayoutOrdered event carry it
        orders = [first, *together, last]
        read = await p.call("payments", "GET", f"/v1/payment-orders/{last['payment_order_id']}", role=Role.CENTER)
        assert read.status_code == 200 and read.json()["case_no"] == "FK-2026-000004"
        by_order = {e.batch_id: e.payment_order_case_no for e in await emitted(p, pe.PayoutOrdered) if isinstance(e, pe.PayoutOrdered)}
        assert by_order == {o["payment_order_id"]: o["case_no"] for o in orders}


async def test_the_list_finds_a_payment_order_by_its_number_and_its_file_shows_it(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        unit = uid()
        await save_payee(p, unit)
        _at(monkeypatch, datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
        orders = [await payment_order(p, {"payout_ids": [await due_award(p, unit)]}) for _ in range(3)]
        wanted = orders[1]
        assert wanted["case_no"] == "FK-2026-000002"

        # as typed (case and spaces aside), by each role that may see payment orders
        for role in (Role.FINANCE, Role.CENTER, Role.BUREAU):
            found = await p.call("payments", "GET", "/v1/payment-orders/", role=role, params={"case_no": " fk-2026-000002 "})
            assert found.status_code == 200, found.text
            assert [(o["payment_order_id"], o["case_no"]) for o in found.json()["items"]] == [(wanted["payment_order_id"], "FK-2026-000002")], role
        none = await p.call("payments", "GET", "/v1/payment-orders/", role=Role.FINANCE, params={"case_no": "FK-2026-000009"})
        assert none.status_code == 200 and none.json()["total"] == 0
        # a unit sees no payment orders, with or without a number
        assert (await p.call("payments", "GET", "/v1/payment-orders/", role=Role.UNIT, org=unit, params={"case_no": "FK-2026-000002"})).status_code == 403

        # the Excel file is named by the number and each row names its payment order
        xlsx = await p.call("payments", "GET", f"/v1/payment-orders/{wanted['payment_order_id']}/export", role=Role.FINANCE)
        assert xlsx.status_code == 200
        assert xlsx.headers["content-disposition"] == 'attachment; filename="payment-order-FK-2026-000002.xlsx"'
        rows = read_xlsx(xlsx.content)
        assert rows[0][-2:] == ["拨付编号", "付款单编号"]
        assert [r[-2:] for r in rows[1:]] == [[wanted["payouts"][0]["case_no"], "FK-2026-000002"]]


async def test_the_migration_numbers_earlier_payment_orders_in_the_order_they_were_created(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        unit = uid()
        await save_payee(p, unit)
        orders = [await payment_order(p, {"payout_ids": [await due_award(p, unit)]}) for _ in range(3)]
        # created across a Beijing new year; the last created is given the earliest time
        await backdate(p["payments"].db, payment_orders.c.id, payment_orders.c.created_at, [o["payment_order_id"] for o in orders])
    await migrate_again(settings, "payments", "b2e6c8a4f1d9")
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        async with p["payments"].db.read() as s:
            numbered = dict((await s.execute(select(payment_orders.c.id, payment_orders.c.case_no))).all())
        assert [numbered[o["payment_order_id"]] for o in reversed(orders)] == ["FK-2025-000001", "FK-2026-000001", "FK-2026-000002"]
        # the counters go on from there
        _at(monkeypatch, datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
        nxt = await payment_order(p, {"payout_ids": [await due_award(p, unit)]})
        assert nxt["case_no"] == "FK-2026-000003"


async def test_each_payout_names_its_payment_order_and_the_orders_number_finds_its_payouts(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        unit, other = uid(), uid()
        await save_payee(p, unit)
        await save_payee(p, other)
        _at(monkeypatch, datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
        two = [await due_award(p, unit), await due_award(p, other)]
        order = await payment_order(p, {"payout_ids": two})
        lone = await payment_order(p, {"payout_ids": [await due_award(p, unit)]})
        still_due = await due_award(p, unit)
        assert (order["case_no"], lone["case_no"]) == ("FK-2026-000001", "FK-2026-000002")
        assert {i["payment_order_case_no"] for i in order["payouts"]} == {"FK-2026-000001"}  # the creation's answer

        # the order's number, as typed, finds its payouts and only them, each naming it
        found = await p.call("payments", "GET", "/v1/payouts/", role=Role.FINANCE, params={"case_no": " fk-2026-000001 "})
        assert found.status_code == 200, found.text
        assert sorted(i["payout_id"] for i in found.json()["items"]) == sorted(two) and found.json()["total"] == 2
        assert {i["payment_order_case_no"] for i in found.json()["items"]} == {"FK-2026-000001"}
        # a payout's own number still finds it; a due payout is on no order
        bf = (await p.call("payments", "GET", f"/v1/payouts/{still_due}", role=Role.FINANCE)).json()
        assert bf["payment_order_case_no"] is None
        by_bf = (await p.call("payments", "GET", "/v1/payouts/", role=Role.BUREAU, params={"case_no": bf["case_no"]})).json()["items"]
        assert [i["payout_id"] for i in by_bf] == [still_due]
        assert (await p.call("payments", "GET", "/v1/payouts/", role=Role.FINANCE, params={"case_no": "FK-2026-000009"})).json()["total"] == 0
        # every read names the order: one payout, the order's read, the confirmation of payment; a unit only its own
        assert (await p.call("payments", "GET", f"/v1/payouts/{two[0]}", role=Role.CENTER)).json()["payment_order_case_no"] == "FK-2026-000001"
        read = (await p.call("payments", "GET", f"/v1/payment-orders/{lone['payment_order_id']}", role=Role.FINANCE)).json()
        assert [i["payment_order_case_no"] for i in read["payouts"]] == ["FK-2026-000002"]
        paid = await p.call("payments", "POST", f"/v1/payouts/{two[0]}/paid", role=Role.FINANCE, json={"bank_reference": "BOC-20260302-1"})
        assert paid.status_code == 201 and paid.json()["payment_order_case_no"] == "FK-2026-000001", paid.text
        theirs = (await p.call("payments", "GET", "/v1/payouts/", role=Role.UNIT, org=other, params={"case_no": "FK-2026-000001"})).json()["items"]
        assert [i["payout_id"] for i in theirs] == [two[1]]
