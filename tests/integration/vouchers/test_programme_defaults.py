"""A programme year opens with the numbers of the vouchers' policy file
(XCISS_VOUCHER_POLICY_FILE) for what the bureau leaves out (R15, R16, R19(2)),
and a user's cap before the year opens is the file's for that year."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command

from services.runtime.db.migrations import alembic_config, upgrade
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.vouchers import YEAR, Registry, call, open_programme

SERVICES = ["vouchers"]
CLASSES_2023 = "eligible_classes: [above_scale_industrial, high_tech, tech_sme, startup_team], special_classes: [innovation_leader, gazelle]"
POLICY = f"""defaults: {{rate_bp: 3000, cap_fen: 5000000, special_cap_fen: 10000000, appeal_window_days: 15, auto_approve: false, {CLASSES_2023}}}
years:
  {YEAR}: {{rate_bp: 4000, cap_fen: 6000000, special_cap_fen: 12000000, appeal_window_days: 20, auto_approve: false, eligible_classes: [high_tech, startup_team], special_classes: [gazelle]}}
"""


async def cap_of(p: Platform, user_id: str, year: int) -> int:
    return (await call(p, "GET", f"/v1/eligibility/users/{user_id}?year={year}", Role.CENTER, status=200)).json()["yearly_cap_fen"]


async def test_a_year_opens_with_the_files_numbers_for_what_the_bureau_leaves_out(make_settings, tmp_path: Path) -> None:
    path = tmp_path / "programme.yaml"
    path.write_text(POLICY, encoding="utf-8")
    settings = await make_settings(SERVICES, voucher_policy_file=path)
    async with running(Platform(settings, SERVICES)) as p:
        reg = Registry(p)
        user = reg.user()
        await reg.flush()
        # before the bureau opens the year, the file's cap of that year; other years its defaults
        assert [await cap_of(p, user, y) for y in (YEAR, YEAR + 1)] == [6_000_000, 5_000_000]

        # the bureau names the cap; the rest is the file's for the year
        opened = await open_programme(p, cap_fen=7_000_000)
        assert {k: opened[k] for k in ("rate_bp", "cap_fen", "special_cap_fen", "appeal_window_days", "auto_approve", "eligible_classes", "special_classes")} == {
            "rate_bp": 4000,
            "cap_fen": 7_000_000,
            "special_cap_fen": 12_000_000,
            "appeal_window_days": 20,
            "auto_approve": False,
            "eligible_classes": ["high_tech", "startup_team"],
            "special_classes": ["gazelle"],
        }
        # once open, the programme's own numbers
        assert await cap_of(p, user, YEAR) == 7_000_000


async def eligibility(p: Platform, user_id: str, year: int) -> dict[str, object]:
    return dict((await call(p, "GET", f"/v1/eligibility/users/{user_id}?year={year}", Role.CENTER, status=200)).json())


async def test_the_classes_that_may_apply_are_the_years_own(make_settings, tmp_path: Path) -> None:
    """R4 and R16 per year: a year of the file names high-tech enterprises and start-up teams
    only, and gazelles alone for the higher cap; the other years keep Xuchang 2023's lists."""
    path = tmp_path / "programme.yaml"
    path.write_text(POLICY, encoding="utf-8")
    settings = await make_settings(SERVICES, voucher_policy_file=path)
    async with running(Platform(settings, SERVICES)) as p:
        reg = Registry(p)
        sme, tech = reg.user(classes=("tech_sme",)), reg.user(classes=("high_tech",))
        await reg.flush()
        this_year, next_year = await eligibility(p, sme, YEAR), await eligibility(p, sme, YEAR + 1)
        assert this_year["eligible"] is False and this_year["reasons"] == ["voucher.user_class_not_eligible"]
        assert next_year["eligible"] is True
        assert (await eligibility(p, tech, YEAR))["eligible"] is True
        # the year opened keeps its classes; the bureau may name its own
        opened = await open_programme(p, eligible_classes=["tech_sme"], special_classes=[])
        assert (opened["eligible_classes"], opened["special_classes"]) == (["tech_sme"], [])
        assert (await eligibility(p, sme, YEAR))["eligible"] is True
        assert (await eligibility(p, tech, YEAR))["eligible"] is False


async def test_a_class_the_registry_does_not_know_is_refused_when_the_year_opens(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        r = await call(p, "POST", "/v1/programmes/", Role.BUREAU, json={"year": YEAR, "budget_fen": 1_000_000, "eligible_classes": ["hightech"]}, status=422)
        assert r.json()["code"] == "voucher.policy_invalid" and "hightech" in r.json()["message_en"]
        assert (await call(p, "GET", f"/v1/programmes/{YEAR}", None, status=404)).json()["code"] == "programme.not_found"


async def test_a_year_opened_before_the_classes_were_kept_gets_the_lists_it_was_decided_with(make_settings) -> None:
    """Migration 5b7e2c91d0aa on a database with a programme: Xuchang 2023's lists, the ones the code held."""
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        await open_programme(p)
    url = settings.database_url("vouchers")
    await asyncio.to_thread(command.downgrade, alembic_config("vouchers", url), "d1d4d9e90a4d")
    await asyncio.to_thread(upgrade, "vouchers", url)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        programme = (await call(p, "GET", f"/v1/programmes/{YEAR}", None, status=200)).json()
        assert programme["eligible_classes"] == ["above_scale_industrial", "high_tech", "tech_sme", "startup_team"]
        assert programme["special_classes"] == ["innovation_leader", "gazelle"]
