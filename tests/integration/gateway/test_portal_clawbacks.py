"""Clawbacks on /finance (R27 追回, issue 17), through the gateway: finance, the center
and the bureau read the clawbacks a fraud finding recorded, each named by its case
number (ZH-<year>-<n>), what it claws back, how much and what is still outstanding;
the list is paged by ``?kpage=`` and keeps the page's other lists. SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from contracts import registry as ev
from services.gateway.portal import staff
from services.runtime.roles import Role
from tests.support.clawbacks import apply_finding, paid_award, unit_finding
from tests.support.payouts import used_vouchers
from tests.support.platform import Platform, running
from tests.support.portal import as_party, csrf_of, error_at, gateway, pager, text_of
from tests.support.registry import verified_user
from tests.support.vouchers import uid

SERVICES = ["registry", "payments"]


def clawback_rows(html: str) -> list[list[str]]:
    found = re.search(r'<table class="list"[^>]* id="clawback-list">.*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert found, "no clawbacks table"
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.DOTALL)
    return [[text_of(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)] for row in rows if "colspan" not in row]


async def test_finance_lists_clawbacks_by_their_case_numbers(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff, "REVIEW_PAGE_SIZE", 2)
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as c:
        units = [uid() for _ in range(3)]
        for u in units:
            await paid_award(p, u)
            await apply_finding(p, unit_finding(u))
        numbers = sorted(x["case_no"] for x in (await p.call("payments", "GET", "/v1/clawbacks/", role=Role.FINANCE)).json()["items"])
        assert len(numbers) == 3 and all(re.fullmatch(r"ZH-\d{4}-\d{6}", n) for n in numbers)

        as_party(c, p, Role.FINANCE)
        first = await c.get("/finance")
        rows = clawback_rows(first.text)
        assert [r[0] for r in rows] == numbers[:2], rows
        assert rows[0][2] == "奖励款" and rows[0][4] == "¥50,000.00" and rows[0][5] == "¥50,000.00" and rows[0][6] == "待追回"
        words, links = pager(first.text, "clawback-pages")
        assert words == "第 1 页，共 3 条 下一页" and links == {"下一页": "?kpage=2"}
        second = await c.get("/finance", params={"kpage": 2, "page": 1})
        assert [r[0] for r in clawback_rows(second.text)] == numbers[2:]
        assert pager(second.text, "due-pages")[1] == {}  # nothing due: the other list untouched
        english = await c.get("/finance", params={"lang": "en"})
        assert clawback_rows(english.text)[0][6] == "Outstanding" and "Clawbacks" in english.text

        for role in (Role.CENTER, Role.BUREAU):
            as_party(c, p, role)
            assert [r[0] for r in clawback_rows((await c.get("/finance")).text)] == numbers[:2], role


async def test_a_clawback_from_a_user_names_the_user(make_settings) -> None:
    """A finding against a user (an enterprise that had a voucher deducted) claws back the voucher
    part of its settlement; finance sees the enterprise's name as the party, not just 用户 —
    finance may read the user's record (getUser) to collect it. The settlement is a real one:
    vouchers issued the voucher and payments deducted it when the order was settled."""
    services = ["registry", "vouchers", "payments"]
    settings = await make_settings(services)
    async with running(Platform(settings, services)) as p, gateway(p) as c:
        user = await verified_user(p, "许昌追回测试企业")
        assert (await p.call("registry", "GET", f"/v1/users/{user}", role=Role.FINANCE)).status_code == 200
        await used_vouchers(p, 1, fee=100_000, user=user)  # 30% of ¥1,000 deducted
        await apply_finding(p, ev.FraudFound(finding_id=uid(), party_type="user", party_id=user, reason="以不实合同申领创新券"))
        as_party(c, p, Role.FINANCE)
        rows = clawback_rows((await c.get("/finance")).text)
        assert len(rows) == 1 and rows[0][1] == "许昌追回测试企业" and rows[0][4] == "¥300.00", rows


async def test_finance_records_a_repayment_on_the_page(make_settings) -> None:
    """Finance records what a unit paid back on its clawback (R27): more than is outstanding is
    refused at the amount, in Chinese; a repayment lowers what is outstanding, the same form sent
    twice records it once, and the whole amount repaid closes the clawback (no form left)."""
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as c:
        unit = uid()
        await paid_award(p, unit)
        await apply_finding(p, unit_finding(unit))
        [claw] = (await p.call("payments", "GET", "/v1/clawbacks/", role=Role.FINANCE)).json()["items"]
        action = f"/finance/clawbacks/{claw['clawback_id']}/repayments"
        as_party(c, p, Role.FINANCE)
        page = (await c.get("/finance")).text
        assert f'action="{action}"' in page
        key = re.search(rf'id="repay-{claw["clawback_id"]}">.*?name="idempotency_key" value="([^"]+)"', page, re.DOTALL).group(1)  # type: ignore[union-attr]
        form = {"_csrf_token": csrf_of(page), "idempotency_key": key, "bank_reference": "BOC-20261205-01"}

        r = await c.post(action, data={**form, "amount": "60000"})  # ¥60,000 of ¥50,000
        assert r.status_code == 409 and error_at(r.text, "amount") == "还款金额超过尚未追回的金额", r.text
        r = await c.post(action, data={**form, "amount": "20000.50"})
        assert r.status_code == 303, r.text
        r = await c.post(action, data={**form, "amount": "20000.50"})  # the same form again: one repayment
        assert r.status_code == 303, r.text
        now = (await p.call("payments", "GET", f"/v1/clawbacks/{claw['clawback_id']}", role=Role.FINANCE)).json()
        assert now["repaid_fen"] == 2_000_050 and now["outstanding_fen"] == 2_999_950
        rows = clawback_rows((await c.get("/finance")).text)
        assert rows[0][5] == "¥29,999.50"

        page = (await c.get("/finance")).text
        key = re.search(rf'id="repay-{claw["clawback_id"]}">.*?name="idempotency_key" value="([^"]+)"', page, re.DOTALL).group(1)  # type: ignore[union-attr]
        r = await c.post(action, data={**form, "_csrf_token": csrf_of(page), "idempotency_key": key, "amount": "29999.50"})
        assert r.status_code == 303, r.text
        page = (await c.get("/finance")).text
        assert f'action="{action}"' not in page and clawback_rows(page)[0][6] == "已追回"

        as_party(c, p, Role.CENTER)  # the center reads, records nothing
        assert f'action="{action}"' not in (await c.get("/finance")).text
