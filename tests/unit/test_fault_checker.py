"""The fault harness's checker for claim journeys and payouts (issue 7): it
reports what the services hold against what the clients were told. Fed with
what the services would answer (no processes run here), it must find a
voucher on two live claims, a payout lost or paid twice, a claim left
unsettled, a stray notice line, and a ledger that does not carry the payouts."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.faults.checker import CheckContext, Result, ledger, settlements
from tests.faults.journeys import Journey, World
from tests.faults.claims import Claim
from tests.faults.redemption import Redemptions
from tests.faults.redemption_check import claims_and_payouts

YEAR = 2026
UNIT = "unit-a"


class FakeApi:
    """Answers GETs from a dict of path → body (lists are paged as one page)."""

    def __init__(self, routes: dict[str, Any]):
        self.routes = routes

    async def get(self, service: str, path: str, **_kw: Any) -> Any:
        return self.routes[f"{service} {path}"]

    async def pages(self, service: str, path: str, **_kw: Any) -> list[dict[str, Any]]:
        return list(self.routes[f"{service} {path}"])


def journey(n: int, fen: int, final: str) -> Journey:
    j = Journey(n, "voucher", "user-1", UNIT, "price-1", fen * 10 // 3, [], order_id=f"order-{n}", voucher_id=f"v{n}", voucher_fen=fen, voucher_final=final)
    j.finished = True
    return j


def world_with(claims: list[Claim], routes: dict[str, Any]) -> World:
    w = World(FakeApi(routes), None, YEAR, False, [], ("x", "y"), [], random.Random(1))  # type: ignore[arg-type]
    red = Redemptions(w, random.Random(1), first_id=100)
    red.claims = claims
    w.redemptions = red
    return w


def settled_claim() -> tuple[Claim, list[Journey]]:
    js = [journey(1, 30_000, "redeemed"), journey(2, 12_000, "used")]
    c = Claim(100, "redemption_partial", UNIT, js, claim_id="c1", amount_fen=42_000, decisions={"v1": True, "v2": False}, final="settled",
              approved_fen=30_000, payout_id="p1", paid_fen=30_000, finished=True)
    return c, js


def services(**over: Any) -> dict[str, Any]:
    """What the services hold when everything went right for ``settled_claim``."""
    claim = {"claim_id": "c1", "unit_id": UNIT, "status": "settled", "amount_fen": 42_000, "approved_fen": 30_000, "paid_fen": 30_000,
             "items": [{"voucher_id": "v1", "approved": True}, {"voucher_id": "v2", "approved": False}]}
    routes: dict[str, Any] = {
        "vouchers /v1/redemption/claims": [claim],
        "vouchers /v1/redemption/claims/c1": claim,
        "payments /v1/payouts/": [{"payout_id": "p1", "kind": "redemption", "ref": "c1", "unit_id": UNIT, "year": YEAR, "amount_fen": 30_000, "status": "paid"}],
        "evaluation /v1/notices/": [{"notice_id": "n1"}],
        "evaluation /v1/notices/n1": {"notice_id": "n1", "status": "final", "items": [{"ref": "c1"}]},
    }
    routes.update(over)
    return routes


def ctx_of(w: World, journeys: list[Journey], vouchers: dict[str, str], **kw: Any) -> CheckContext:
    base: dict[str, Any] = {"orders": {}, "applications": [], "settlements": [], "programme": {}, "accounts": {}, "balances": {},
                            "trial": {"balanced": True, "debit_fen": 0, "credit_fen": 0, "entries": 0}}
    base.update(kw)
    vs = [{"voucher_id": v, "status": s, "order_id": f"order-{v[1:]}", "amount_fen": 1, "user_id": "user-1"} for v, s in vouchers.items()]
    return CheckContext(w, journeys, vouchers=vs, **base)


async def findings(routes: dict[str, Any], vouchers: dict[str, str] | None = None, claims: list[Claim] | None = None) -> Result:
    c, js = settled_claim()
    w = world_with(claims if claims is not None else [c], routes)
    r = Result()
    await claims_and_payouts(ctx_of(w, js, vouchers or {"v1": "redeemed", "v2": "used"}), r)
    return r


async def test_a_claim_settled_as_told_is_clean() -> None:
    r = await findings(services())
    assert r.clean and not r.details, r.details


async def test_an_approved_voucher_left_used_is_lost() -> None:
    r = await findings(services(), vouchers={"v1": "used", "v2": "used"})
    assert r.counts["lost"] == 1 and "v1 is used, should be redeemed" in r.details[0]


async def test_a_rejected_voucher_redeemed_is_unexpected() -> None:
    r = await findings(services(), vouchers={"v1": "redeemed", "v2": "redeemed"})
    assert r.counts["unexpected"] == 1 and "v2" in r.details[0]


async def test_a_second_payout_for_one_claim_is_duplicated() -> None:
    twice = services()["payments /v1/payouts/"] * 2
    r = await findings(services(**{"payments /v1/payouts/": twice}))
    assert r.counts["duplicated"] == 1 and "2 payouts" in r.details[0]


async def test_a_missing_or_unpaid_payout_is_lost() -> None:
    assert (await findings(services(**{"payments /v1/payouts/": []}))).counts["lost"] == 1
    due = [{**services()["payments /v1/payouts/"][0], "status": "ordered"}]
    r = await findings(services(**{"payments /v1/payouts/": due}))
    assert r.counts["lost"] == 1 and "ordered" in r.details[0]


async def test_a_voucher_on_two_live_claims_is_duplicated() -> None:
    routes = services()
    other = {**routes["vouchers /v1/redemption/claims/c1"], "claim_id": "c2", "status": "claimed", "items": [{"voucher_id": "v1", "approved": None}]}
    routes["vouchers /v1/redemption/claims"] = [routes["vouchers /v1/redemption/claims/c1"], other]
    routes["vouchers /v1/redemption/claims/c2"] = other
    r = await findings(routes)
    assert r.counts["duplicated"] == 1 and r.counts["unexpected"] == 1  # and c2 is nobody's claim


async def test_a_claim_not_settled_is_lost_and_an_unfinished_journey_is_counted() -> None:
    claim = {**services()["vouchers /v1/redemption/claims/c1"], "status": "noticed", "paid_fen": None}
    r = await findings(services(**{"vouchers /v1/redemption/claims": [claim], "vouchers /v1/redemption/claims/c1": claim}))
    assert r.counts["lost"] == 2  # still noticed, and paid 0 of 30,000
    c, _ = settled_claim()
    c.finished, c.error = False, "TimeoutError: payout not due"
    assert (await findings(services(), claims=[c])).counts["unfinished"] == 1


async def test_a_claim_on_two_notices_or_a_stray_line_is_reported() -> None:
    routes = services(**{"evaluation /v1/notices/": [{"notice_id": "n1"}, {"notice_id": "n2"}]})
    routes["evaluation /v1/notices/n2"] = {"notice_id": "n2", "status": "published", "items": [{"ref": "c1"}, {"ref": "c9"}]}
    r = await findings(routes)
    assert r.counts["duplicated"] == 1 and r.counts["unexpected"] == 1 and r.counts["unfinished"] == 1


@pytest.mark.parametrize(("entries", "kind"), [(4, None), (5, "duplicated"), (3, "lost")])
async def test_the_ledger_counts_a_paid_payout_as_two_entries(entries: int, kind: str | None) -> None:
    """A settlement with a voucher and the user's payment (an entry each) and the claim's payout, due then paid (two entries)."""
    j = journey(1, 30_000, "redeemed")
    j.settlement_id, j.settled_voucher_fen = "s1", 30_000
    settlement = {"settlement_id": "s1", "order_id": "order-1", "unit_id": UNIT, "user_id": "user-1", "year": YEAR, "fee_fen": 100_000, "voucher_fen": 30_000,
                  "payable_fen": 70_000, "paid_fen": 70_000, "voucher_id": "v1", "voucher_refusal": None}
    payout = {"payout_id": "p1", "kind": "redemption", "ref": "c1", "unit_id": UNIT, "year": YEAR, "amount_fen": 30_000, "status": "paid"}
    balances = {a: {"balance_fen": b} for a, b in {
        f"unit_receivable:{UNIT}": -100_000 + 30_000, f"cash_received:{UNIT}": 70_000, f"voucher_budget:{YEAR}": 30_000, f"treasury_paid:redemption:{YEAR}": -30_000,
    }.items()}
    w = world_with([], {})
    ctx = ctx_of(w, [j], {"v1": "redeemed"}, settlements=[settlement], payouts=[payout], balances=balances,
                 trial={"balanced": True, "debit_fen": 1, "credit_fen": 1, "entries": entries})
    r = Result()
    settlements(ctx, r)
    ledger(ctx, r)
    if kind is None:
        assert r.clean and not r.details, r.details
    else:
        assert r.counts[kind] == 1 and "1 payouts due of which 1 paid" in r.details[0]
    # the payout not carried by the books: the unit's receivable is off by its amount
    r = Result()
    ledger(ctx_of(w, [j], {"v1": "redeemed"}, settlements=[settlement], payouts=[payout], trial={"balanced": True, "debit_fen": 1, "credit_fen": 1, "entries": 4},
                  balances={**balances, f"unit_receivable:{UNIT}": {"balance_fen": -100_000}}), r)
    assert any(f"unit_receivable:{UNIT}" in d for d in r.details)
