"""The ledger on /finance/ledger and the budget execution report's Excel (issue 17), through the
gateway with the real registry and payments services: after a settlement with a voucher and an
award paid, finance reads every account named in Chinese — the unit and the user by name, the
year and the kind of money in words, never the account's code or a party's id — with its debits,
credits and balance in yuan, a page as payments pages them (4 accounts a page here) with
payments' totals of every account, and whether the books balance (the trial balance);
English with ?lang=en. The center and the bureau read the balances without the trial balance
(finance's alone); a unit is refused. /finance, the ledger page and /dashboard link the year's
budget execution report, which downloads as payments' Excel for the three staff roles.
SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from services.gateway.portal import ledger as ledger_page
from services.payments import postings
from services.payments.domain import ledger
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, verified_user
from tests.support.vouchers import uid
from tests.support.portal import as_party, gateway, text_of
from tests.support.payout_orders import due_award, payment_order, save_payee
from services.gateway.portal.core import this_year

SERVICES = ["registry", "payments", "vouchers"]  # vouchers: /dashboard reads the programme


def accounts(html: str) -> dict[str, list[str]]:
    """The ledger's rows: the account's words → its debits, credits and balance as shown."""
    found = re.search(r'<table class="list"[^>]* id="ledger-accounts">.*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert found, "no ledger table"
    rows = [[text_of(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)] for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.DOTALL)]
    return {r[0]: r[1:] for r in rows if len(r) == 4}


def totals(html: str) -> str:
    found = re.search(r'<tr id="ledger-totals">(.*?)</tr>', html, re.DOTALL)
    assert found, "no totals"
    return text_of(found.group(1))


async def test_the_ledger_in_words_and_the_budget_execution_export(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_page, "REVIEW_PAGE_SIZE", 4)
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as c:
        unit, user = await approved_unit(p, name="许昌学院"), await verified_user(p, name="许昌智造科技有限公司")
        async with p["payments"].db.unit_of_work() as uow:  # as a settlement posts it: ¥1,000.00 of which ¥400.00 by voucher
            await postings.post_once(uow.session, ledger.settlement_entry(order_id=uid(), user_id=user, unit_id=unit, year=2025, order_amount_fen=100_000, voucher_fen=40_000), None)
        await save_payee(p, unit)
        paid = await due_award(p, unit)  # a 2025 award of ¥50,000.00, ordered and paid
        await payment_order(p, {})
        r = await p.call("payments", "POST", f"/v1/payouts/{paid}/paid", role=Role.FINANCE, json={"bank_reference": "ICBC-1"})
        assert r.status_code == 201, r.text

        as_party(c, p, Role.FINANCE)
        first, second = await c.get("/finance/ledger"), await c.get("/finance/ledger", params={"page": 2})
        assert first.status_code == 200 and "账簿" in first.text
        shown = accounts(first.text) | accounts(second.text)
        assert len(accounts(first.text)) == 4 and len(shown) == 6, shown
        assert shown["用户应付服务费 · 许昌智造科技有限公司"] == ["¥600.00", "¥0.00", "借 ¥600.00"]
        assert shown["单位应收服务款 · 许昌学院"] == ["¥0.00", "¥1,000.00", "贷 ¥1,000.00"]
        assert shown["2025年度创新券抵扣"] == ["¥400.00", "¥0.00", "借 ¥400.00"]
        assert shown["2025年度已核定奖励"] == ["¥50,000.00", "¥0.00", "借 ¥50,000.00"]
        assert shown["2025年度应付奖励款"] == ["¥50,000.00", "¥50,000.00", "平"]
        assert shown["2025年度已拨付奖励款"] == ["¥0.00", "¥50,000.00", "贷 ¥50,000.00"]
        for page in (first, second):  # every account's totals on each page; the books balance
            assert "¥101,000.00" in totals(page.text) and totals(page.text).count("¥101,000.00") == 2
            trial = text_of(re.search(r'<p class="trial-balance balanced" id="trial-balance"[^>]*>(.*?)</p>', page.text, re.DOTALL).group(1))
            assert "借贷平衡" in trial and "借方合计 ¥101,000.00，贷方合计 ¥101,000.00，共 3 笔分录" in trial
            text = text_of(page.text)
            assert not any(code in text for code in ("payout_payable", "unit_receivable", "treasury_paid", unit, user, unit[:8], user[:8]))
        english = accounts((await c.get("/finance/ledger", params={"lang": "en", "page": 2})).text) | accounts((await c.get("/finance/ledger", params={"lang": "en"})).text)
        assert english["Owed to the unit for its services · 许昌学院"][2] == "Cr ¥1,000.00" and "Paid out (awards), 2025" in english
        await c.get("/finance/ledger?lang=zh")

        # the budget execution report: linked from /finance and the ledger, downloaded as payments' Excel
        year = this_year()
        link = f'href="/finance/budget-execution/{year}/export"'
        assert link in (await c.get("/finance")).text and link in first.text and 'href="/finance/ledger"' in (await c.get("/finance")).text
        for role in (Role.FINANCE, Role.CENTER, Role.BUREAU):
            as_party(c, p, role)
            xlsx = await c.get(f"/finance/budget-execution/{year}/export")
            assert xlsx.status_code == 200 and f'filename="budget-execution-{year}.xlsx"' in xlsx.headers["content-disposition"] and xlsx.content[:2] == b"PK"
            assert link in (await c.get("/finance")).text
            dashboard = (await c.get("/dashboard")).text  # the year's page links the books too
            assert link in dashboard and 'href="/finance/ledger"' in dashboard

        # the center and the bureau read the balances, not the trial balance (finance's alone)
        for role in (Role.CENTER, Role.BUREAU):
            as_party(c, p, role)
            seen = await c.get("/finance/ledger")
            assert seen.status_code == 200 and 'id="trial-balance"' not in seen.text and "¥101,000.00" in totals(seen.text)
            assert "单位应收服务款 · 许昌学院" in accounts(seen.text) | accounts((await c.get("/finance/ledger?page=2")).text)
        as_party(c, p, Role.UNIT, unit)
        assert (await c.get("/finance/ledger")).status_code == 403
        assert (await c.get(f"/finance/budget-execution/{year}/export")).status_code == 403
