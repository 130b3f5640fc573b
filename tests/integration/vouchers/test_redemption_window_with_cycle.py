"""R20(1) 科技创新券兑现每年进行一次，与绩效评价同时开展: the voucher claim
window opens with the year's evaluation cycle (both databases, real bus)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.vouchers import YEAR

SERVICES = ["vouchers", "evaluation"]


async def _cycle(p: Platform, year: int, **window: str) -> Any:
    return await p.call("evaluation", "POST", "/v1/cycles/", role=Role.BUREAU, json={"year": year, "award_budget_fen": 10_000_000, **window})


async def _window(p: Platform, year: int) -> Any:
    r = await p.call("vouchers", "GET", f"/v1/redemption/windows/{year}", role=Role.CENTER)
    return r.json() if r.status_code == 200 else None


async def test_the_claim_window_opens_with_the_evaluation_cycle(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        r = await _cycle(p, YEAR, redemption_opens_on=f"{YEAR + 1}-03-01")
        assert r.status_code == 422 and r.json()["code"] == "cycle.redemption_window_incomplete" and r.json()["details"]["field"] == "redemption_closes_on"
        r = await _cycle(p, YEAR, redemption_opens_on=f"{YEAR + 1}-03-31", redemption_closes_on=f"{YEAR + 1}-03-01")
        assert r.status_code == 422 and r.json()["code"] == "cycle.redemption_window_invalid" and r.json()["details"]["field"] == "redemption_closes_on"

        r = await _cycle(p, YEAR, redemption_opens_on=f"{YEAR + 1}-03-01", redemption_closes_on=f"{YEAR + 1}-03-31")
        assert r.status_code == 201, r.text
        assert (r.json()["redemption_opens_on"], r.json()["redemption_closes_on"]) == (f"{YEAR + 1}-03-01", f"{YEAR + 1}-03-31")
        window = await eventually(lambda: _window(p, YEAR))
        assert (window["opens_on"], window["closes_on"]) == (f"{YEAR + 1}-03-01", f"{YEAR + 1}-03-31")

        # a window the center set before the cycle opened is its decision, and stays
        center = {"opens_on": f"{YEAR + 2}-04-01", "closes_on": f"{YEAR + 2}-04-15"}
        assert (await p.call("vouchers", "PUT", f"/v1/redemption/windows/{YEAR + 1}", role=Role.CENTER, json=center)).status_code == 200
        assert (await _cycle(p, YEAR + 1, redemption_opens_on=f"{YEAR + 2}-03-01", redemption_closes_on=f"{YEAR + 2}-03-31")).status_code == 201
        inbox = p["vouchers"].db.metadata.tables["inbox"]

        async def both_cycles_seen() -> bool:
            async with p["vouchers"].db.read() as s:
                n = (await s.execute(select(func.count()).select_from(inbox).where(inbox.c.subject == "evaluation.cycle.opened.v1"))).scalar_one()
            return bool(n == 2)

        await eventually(both_cycles_seen)
        window = await _window(p, YEAR + 1)
        assert (window["opens_on"], window["closes_on"]) == (center["opens_on"], center["closes_on"])
