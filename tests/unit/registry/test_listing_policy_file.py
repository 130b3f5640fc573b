"""The listing rules' one home (services/registry/policy/listing.yaml, or
XCISS_LISTING_POLICY_FILE): loaded per year, refused with the field named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.registry.domain.listing import Funding
from services.registry.instruments import NewInstrument, assess
from services.registry.policy import load_listing_policies, packaged
from services.runtime.settings import Settings, SettingsError
from services.runtime.workdays import WorkdayCalendar

DEFAULTS = """defaults:
  must_list_threshold_fen: 20000000
  listing_deadline_workdays: 30
  due_soon_workdays: 5
"""


def settings_with(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "listing.yaml"
    path.write_text(text, encoding="utf-8")
    return Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_LISTING_POLICY_FILE": str(path)})


def instrument(value_fen: int, accepted: date) -> NewInstrument:
    return NewInstrument(name="扫描电子显微镜", category="分析仪器", original_value_fen=value_fen, funding=Funding.fiscal_full, acceptance_date=accepted)


def test_without_a_file_of_its_own_the_platform_runs_the_packaged_xuchang_rules(tmp_path: Path) -> None:
    rules = load_listing_policies(Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)}))
    assert rules == packaged() and rules.years == {}
    assert rules.for_year(2026).must_list_threshold_fen == 20_000_000


def test_a_year_of_its_own_applies_to_the_instruments_accepted_in_that_year(tmp_path: Path) -> None:
    rules = load_listing_policies(settings_with(tmp_path, DEFAULTS + """years:
  2025: {must_list_threshold_fen: 30000000, listing_deadline_workdays: 20, due_soon_workdays: 5}
"""))
    cal = WorkdayCalendar()
    # 250,000 CNY: over the default threshold, under 2025's
    required_2025, deadline_2025 = assess(instrument(25_000_000, date(2025, 3, 3)), calendar=cal, policy=rules)
    required_2026, deadline_2026 = assess(instrument(25_000_000, date(2026, 3, 2)), calendar=cal, policy=rules)
    assert (required_2025, deadline_2025) == (False, None)
    assert required_2026 and deadline_2026 == cal.add_workdays(date(2026, 3, 2), 30)
    # at 2025's own threshold (inclusive, M5 以上) and with its own deadline
    required, deadline = assess(instrument(30_000_000, date(2025, 3, 3)), calendar=cal, policy=rules)
    assert required and deadline == cal.add_workdays(date(2025, 3, 3), 20)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (DEFAULTS.replace("due_soon_workdays: 5", "due_soon_workdays: -1"), "due_soon_workdays"),
        (DEFAULTS.replace("  listing_deadline_workdays: 30\n", ""), "listing_deadline_workdays"),
        (DEFAULTS.replace("20000000", "200000.5"), "must_list_threshold_fen"),
        ("defaults: [", "cannot read YAML"),
    ],
)
def test_a_wrong_file_is_refused_at_start_naming_the_file_and_the_field(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(SettingsError, match="XCISS_LISTING_POLICY_FILE") as info:
        load_listing_policies(settings_with(tmp_path, text))
    assert names in str(info.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    s = Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_LISTING_POLICY_FILE": str(tmp_path / "nope.yaml")})
    with pytest.raises(SettingsError, match="nope.yaml"):
        load_listing_policies(s)
