"""The ledger's balances as payments answers them (``ledgerBalances``, issue 18): a page of the
accounts in their order (``page``, ``page_size``, ``total``), each with the parts its name encodes
(kind, money, year, the party it is kept for) beside the name itself, and the totals of every
account the query selects, the same on each page; one account alone (``account``), zeros when it
has no line. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from services.payments import postings
from services.payments.domain import ledger
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.vouchers import uid

SERVICES = ["payments"]


async def _balances(p: Platform, role: Role = Role.FINANCE, **params: Any) -> dict[str, Any]:
    r = await p.call("payments", "GET", "/v1/ledger/balances", role=role, params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _parts(b: dict[str, Any]) -> tuple[Any, ...]:
    return b["kind"], b["money"], b["year"], b["party_type"], b["party_id"]


async def test_the_balances_are_paged_by_the_service_with_each_accounts_parts_and_the_totals_of_all(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        unit, user = uid(), uid()
        async with p["payments"].db.unit_of_work() as uow:
            for entry in (
                ledger.settlement_entry(order_id=uid(), user_id=user, unit_id=unit, year=2025, order_amount_fen=100_000, voucher_fen=40_000),
                ledger.appropriation_entry(key="appropriation:award:2026", kind=ledger.AWARD, year=2026, delta_fen=500_000),
                ledger.clawback_entry(kind=ledger.REDEMPTION, ref=uid(), party_type="user", party_id=user, year=2025, amount_fen=30_000, finding_id=uid()),
            ):
                assert await postings.post_once(uow.session, entry, None)
        every = sorted(
            [f"unit_receivable:{unit}", f"user_payable:{user}", "voucher_budget:2025", "award_funds:2026", "appropriation:award:2026",
             f"clawback_receivable:user:{user}", "clawed_back:redemption:2025"]
        )

        pages = [await _balances(p, page=n, page_size=3) for n in (1, 2, 3)]
        assert [len(pg["items"]) for pg in pages] == [3, 3, 1]
        assert [b["account"] for pg in pages for b in pg["items"]] == every  # in the accounts' order, none twice
        for n, pg in enumerate(pages, start=1):
            assert (pg["total"], pg["page"], pg["page_size"]) == (7, n, 3)
            assert pg["totals"] == {"debit_fen": 630_000, "credit_fen": 630_000}  # every account's, on each page
        assert (await _balances(p, page=4, page_size=3))["items"] == []
        default = await _balances(p, role=Role.CENTER)
        assert (default["page"], default["page_size"], default["total"], len(default["items"])) == (1, 20, 7, 7)

        by_account = {b["account"]: b for pg in pages for b in pg["items"]}
        assert _parts(by_account["award_funds:2026"]) == ("funds", "award", 2026, None, None)
        assert _parts(by_account["appropriation:award:2026"]) == ("appropriation", "award", 2026, None, None)
        assert _parts(by_account["voucher_budget:2025"]) == ("voucher_budget", None, 2025, None, None)
        assert _parts(by_account["clawed_back:redemption:2025"]) == ("clawed_back", "redemption", 2025, None, None)
        assert _parts(by_account[f"clawback_receivable:user:{user}"]) == ("clawback_receivable", None, None, "user", user)
        assert _parts(by_account[f"unit_receivable:{unit}"]) == ("unit_receivable", None, None, "unit", unit)
        assert _parts(by_account[f"user_payable:{user}"]) == ("user_payable", None, None, "user", user)
        assert {k: by_account[f"unit_receivable:{unit}"][k] for k in ("debit_fen", "credit_fen", "balance_fen")} == {"debit_fen": 0, "credit_fen": 100_000, "balance_fen": -100_000}
        assert by_account[f"user_payable:{user}"]["balance_fen"] == 60_000 and by_account["award_funds:2026"]["balance_fen"] == 500_000

        # one account: its sums and the totals of that account alone; an account with no line reads zeros
        one = await _balances(p, account=f"unit_receivable:{unit}")
        assert [b["account"] for b in one["items"]] == [f"unit_receivable:{unit}"] and one["total"] == 1
        assert one["totals"] == {"debit_fen": 0, "credit_fen": 100_000}
        none = await _balances(p, account=f"cash_received:{unit}")
        assert none["total"] == 1 and none["totals"] == {"debit_fen": 0, "credit_fen": 0}
        assert [(b["balance_fen"], *_parts(b)) for b in none["items"]] == [(0, "cash_received", None, None, "unit", unit)]

        r = await p.call("payments", "GET", "/v1/ledger/balances", role=Role.FINANCE, params={"page_size": 101})
        assert r.status_code == 400, r.text
