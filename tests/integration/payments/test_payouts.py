"""Award payouts and the budget execution report on both databases with a real
NATS: evaluation's events are published as the real contract events; every
payout and appropriation is posted once however often its event arrives."""

from __future__ import annotations

import io

import msgspec
from openpyxl import load_workbook
from sqlalchemy import func, select

from contracts.evaluation import AwardApproved, CycleOpened
from contracts.envelope import new_event_id
from services.payments.db.models import ledger_entries, payouts
from services.runtime.roles import Role
from tests.support.payouts import publish, read_xlsx
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.responses import ok
from tests.support.vouchers import uid

SERVICES = ["payments"]
YEAR = 2031
#: what the probe of issue 14 typed as its bank name
EVIL_BANK = '=HYPERLINK("http://evil","中国银行许昌分行")'


async def test_award_payout_is_idempotent_and_the_report_balances(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        cycle = CycleOpened(year=YEAR, indicator_set_version="2031.1", award_budget_fen=20_000_000, excellent_award_fen=5_000_000, good_award_fen=3_000_000)
        unit_a, unit_b = uid(), uid()
        award_a = AwardApproved(award_id=uid(), unit_id=unit_a, year=YEAR, grade="excellent", amount_fen=5_000_000, notice_id="n-award")
        award_b = AwardApproved(award_id=uid(), unit_id=unit_b, year=YEAR, grade="good", amount_fen=3_000_000, notice_id="n-award")
        # the same events redelivered, and the same facts again under new event ids
        await publish(p, cycle, award_a, award_b, award_a, cycle, msgspec.structs.replace(award_a, event_id=new_event_id()),
                      msgspec.structs.replace(cycle, event_id=new_event_id()))
        db = p["payments"].db

        async def posted() -> bool:
            async with db.read() as s:
                n = (await s.execute(select(func.count()).select_from(payouts).where(payouts.c.year == YEAR))).scalar_one()
                k = (await s.execute(select(func.count()).select_from(ledger_entries).where(ledger_entries.c.key == f"appropriation:award:{YEAR}"))).scalar_one()
            return n == 2 and k == 1

        await eventually(posted)
        # the last event (a repeat under a new id) is processed: still one payout and one entry each
        last = msgspec.structs.replace(award_b, event_id=new_event_id())
        await publish(p, last)
        inbox = db.metadata.tables["inbox"]

        async def processed() -> bool:
            async with db.read() as s:
                return (await s.execute(select(func.count()).select_from(inbox).where(inbox.c.event_id == last.event_id))).scalar_one() == 1

        await eventually(processed)
        async with db.read() as s:
            assert (await s.execute(select(func.count()).select_from(payouts).where(payouts.c.year == YEAR))).scalar_one() == 2
            assert (await s.execute(select(func.count()).select_from(ledger_entries).where(ledger_entries.c.key.like("payable:award:%")))).scalar_one() == 2

        due = await ok(await p.call("payments", "GET", f"/v1/payouts/due?year={YEAR}", role=Role.CENTER))
        assert due["total_fen"] == 8_000_000 and due["blocked_fen"] == 8_000_000
        # with no payee anywhere there is nothing to order
        r = await p.call("payments", "POST", "/v1/payment-orders/", role=Role.FINANCE, json={"year": YEAR})
        assert r.status_code == 409 and r.json()["code"] == "payment_order.nothing_due"
        await ok(await p.call("payments", "PUT", f"/v1/payees/{unit_a}", role=Role.UNIT, org=unit_a,
                              json={"bank_name": EVIL_BANK, "account_name": "许昌某研究院", "account_number": "104123456789012"}))
        # ordering all due: unit B (no payee) stays on the due list, blocked
        order = await ok(await p.call("payments", "POST", "/v1/payment-orders/", role=Role.FINANCE, json={"year": YEAR}), 201)
        assert order["count"] == 1 and order["payouts"][0]["unit_id"] == unit_a
        due = await ok(await p.call("payments", "GET", f"/v1/payouts/due?year={YEAR}", role=Role.FINANCE))
        assert [(i["unit_id"], i["blocked"]) for i in due["items"]] == [(unit_b, "payout.payee_missing")]
        export = (await p.call("payments", "GET", f"/v1/payment-orders/{order['payment_order_id']}/export", role=Role.FINANCE)).content
        rows = read_xlsx(export)
        assert rows[1][1] == EVIL_BANK and rows[1][3:5] == ["104123456789012", "50000.00"]
        # the unit's bank name is shown as the text it typed, never a live formula in finance's file
        bank_cell = load_workbook(io.BytesIO(export)).active["B2"]
        assert bank_cell.data_type == "s" and bank_cell.quotePrefix

        pid = order["payouts"][0]["payout_id"]
        await ok(await p.call("payments", "POST", f"/v1/payouts/{pid}/paid", role=Role.FINANCE, json={"bank_reference": "BOC-1"}), 201)
        assert (await ok(await p.call("payments", "GET", f"/v1/payouts/{pid}", role=Role.UNIT, org=unit_a)))["status"] == "paid"
        assert (await p.call("payments", "GET", f"/v1/payouts/{pid}", role=Role.UNIT, org=unit_b)).status_code == 404
        mine = await ok(await p.call("payments", "GET", "/v1/payouts/", role=Role.UNIT, org=unit_b))
        assert [i["unit_id"] for i in mine["items"]] == [unit_b]

        report = await ok(await p.call("payments", "GET", f"/v1/reports/budget-execution/{YEAR}", role=Role.FINANCE))
        assert report["award"] == {"appropriated_fen": 20_000_000, "approved_fen": 8_000_000, "paid_fen": 5_000_000, "payable_fen": 3_000_000,
                                   "remaining_fen": 12_000_000}
        assert report["balanced"] is True and all(c["ok"] for c in report["checks"])
        sheet = read_xlsx((await p.call("payments", "GET", f"/v1/reports/budget-execution/{YEAR}/export", role=Role.BUREAU)).content)
        assert ["后补助奖励", "remaining_fen", "120000.00", 12_000_000] in sheet
        tb = await ok(await p.call("payments", "GET", "/v1/ledger/trial-balance", role=Role.FINANCE))
        assert tb["balanced"] is True
