"""Payouts by their case numbers on pages (issue 17): finance sees each due
payout's number (BF-<year>-<n>) on /finance and finds one by its number as
typed in the search box, whatever its status, each named with its unit's name; the unit sees the numbers of its
own payouts beside its bank details. Finance's journey ends where the money does: on the payment
order's own page it confirms a payout the bank paid (a blank reference refused at its field), and the
unit is told. The payouts are made due as payments'
consumer of ``evaluation.award.approved`` does (evaluation's side has its own tests)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from contracts.evaluation import AwardApproved
from services.payments import payouts
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import sign_in_as, submit, until
from tests.support.foreign_text import foreign_text
from tests.support.vouchers import uid

pytestmark = pytest.mark.browser

UNIT = "许昌学院"


async def _awards_due(portal: RunningPortal) -> list[str]:
    """Two awards to the demo unit made due; their case numbers."""
    r = await portal.platform.call("registry", "GET", "/v1/units/")
    unit_id = next(u["unit_id"] for u in r.json()["items"] if u["name"] == UNIT)
    numbers = []
    for amount in (5_000_000, 3_000_000):
        e = AwardApproved(award_id=uid(), unit_id=unit_id, year=2026, grade="excellent", amount_fen=amount, notice_id="n-award")
        async with portal.platform["payments"].db.unit_of_work() as uow:
            await payouts.on_award_approved(uow, e)
        found = await portal.platform.call("payments", "GET", "/v1/payouts/", role="finance", params={"unit_id": unit_id, "page_size": 100})
        numbers.append(next(i["case_no"] for i in found.json()["items"] if i["ref"] == e.award_id))
    return numbers


def test_finance_finds_a_payout_by_its_case_number_and_the_unit_sees_its_numbers(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    first, second = portal.run(_awards_due(portal))
    assert re.fullmatch(r"BF-\d{4}-\d{6}", first) and first != second

    finance = new_page()
    sign_in_as(finance, "finance")
    finance.goto("/finance")
    due = finance.inner_text("main table.list tbody")
    assert first in due and second in due, due
    row = finance.locator("main table.list tbody tr", has_text=first)
    assert row.locator("td.unit-name").inner_text() == UNIT, row.inner_text()  # the party by name, never by id
    assert finance.locator("#payout-found").count() == 0  # nothing searched, no result table
    finance.locator("#payout-filter input[name=case_no]").fill(" " + second.lower())
    submit(finance, "#payout-filter")
    rows = finance.locator("#payout-found tbody tr")
    assert rows.count() == 1 and second in rows.inner_text() and "待支付" in rows.inner_text(), finance.inner_text("main")
    assert rows.locator("td.unit-name").inner_text() == UNIT, rows.inner_text()
    assert not foreign_text(finance.inner_text("body")), foreign_text(finance.inner_text("body"))
    screenshot(finance, "80-finance-payout-found")
    finance.locator("#payout-filter input[name=case_no]").fill("BF-1999-000001")
    submit(finance, "#payout-filter")
    assert finance.locator("#payout-found tbody tr").count() == 1 and "暂无记录" in finance.inner_text("#payout-found"), finance.inner_text("#payout-found")

    unit = new_page()
    sign_in_as(unit, "unit")
    unit.goto("/unit/payee")
    mine = unit.inner_text("main")
    assert first in mine and second in mine, mine


def test_finance_creates_a_payment_order_and_finds_it_by_its_case_number(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    """The payment order is named FK-<year>-<n> in the list (never by a fragment of its id) and found by its number as typed."""
    due = portal.run(_awards_due(portal))
    unit = new_page()
    sign_in_as(unit, "unit")
    unit.goto("/unit/payee")
    form = unit.locator("#payee-form")
    form.get_by_label("开户银行").fill("中国银行许昌分行")
    form.get_by_label("账户名称").fill(UNIT)
    form.get_by_label("银行账号").fill("104123456789012")
    submit(unit, "#payee-form")

    finance = new_page()
    sign_in_as(finance, "finance")
    finance.goto("/finance")
    finance.get_by_role("button", name="生成付款单").click()
    finance.wait_for_load_state()
    orders = finance.locator("#payment-orders tbody tr")
    numbers = [n.strip() for n in finance.locator("#payment-orders td.case-no").all_inner_texts()]
    assert numbers and all(re.fullmatch(r"FK-\d{4}-\d{6}", n) for n in numbers), finance.inner_text("#payment-orders")
    mine = numbers[0]  # newest first
    assert finance.locator("#payment-orders th", has_text="付款单编号").count() == 1
    finance.locator("#payment-order-filter input[name=order_case_no]").fill(" " + mine.lower() + " ")
    submit(finance, "#payment-order-filter")
    assert orders.count() == 1 and mine in orders.inner_text() and orders.get_by_role("link", name="导出 Excel").count() == 1, finance.inner_text("main")
    assert not foreign_text(finance.inner_text("body")), foreign_text(finance.inner_text("body"))
    screenshot(finance, "81-finance-payment-order-found")
    with finance.expect_download() as download:
        orders.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename == f"payment-order-{mine}.xlsx"
    # the payouts it holds are no longer due
    assert not any(n in finance.inner_text("main table.list tbody") for n in due)
    # the payment order's own page: finance confirms each payout the bank paid, with its reference
    orders.get_by_role("link", name=mine).click()
    assert finance.inner_text("#order-case-no") == mine
    row = finance.locator("#order-payouts tbody tr", has_text=due[0])
    row.locator("input[name=bank_reference]").fill("  ")  # typed blank: refused at the field, in Chinese
    row.get_by_role("button").click()
    assert finance.inner_text("#bank_reference-error") == "请填写银行流水号", finance.inner_text("main")
    row = finance.locator("#order-payouts tbody tr", has_text=due[0])
    row.locator("input[name=bank_reference]").fill("ICBC-20261205-0001")
    row.get_by_role("button").click()
    row = finance.locator("#order-payouts tbody tr", has_text=due[0])
    assert "已支付" in row.inner_text() and "ICBC-20261205-0001" in row.inner_text(), row.inner_text()
    assert not foreign_text(finance.inner_text("body")), foreign_text(finance.inner_text("body"))
    screenshot(finance, "82-finance-payout-paid")
    # the unit is told the payout was made, by its case number
    until(lambda: (unit.goto("/notifications"), due[0] in unit.inner_text("main"))[1], "the unit's payout-made notice")
    screenshot(unit, "83-unit-payout-made")
