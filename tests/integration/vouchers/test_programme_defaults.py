"""A programme year opens with the numbers of the vouchers' policy file
(XCISS_VOUCHER_POLICY_FILE) for what the bureau leaves out (R15, R16, R19(2)),
and a user's cap before the year opens is the file's for that year."""

from __future__ import annotations

from pathlib import Path

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.vouchers import YEAR, Registry, call, open_programme

SERVICES = ["vouchers"]
POLICY = f"""defaults: {{rate_bp: 3000, cap_fen: 5000000, special_cap_fen: 10000000, appeal_window_days: 15, auto_approve: false}}
years:
  {YEAR}: {{rate_bp: 4000, cap_fen: 6000000, special_cap_fen: 12000000, appeal_window_days: 20, auto_approve: false}}
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
        assert {k: opened[k] for k in ("rate_bp", "cap_fen", "special_cap_fen", "appeal_window_days", "auto_approve")} == {
            "rate_bp": 4000,
            "cap_fen": 7_000_000,
            "special_cap_fen": 12_000_000,
            "appeal_window_days": 20,
            "auto_approve": False,
        }
        # once open, the programme's own numbers
        assert await cap_of(p, user, YEAR) == 7_000_000
