"""The registry's policy numbers have one home (services/registry/policy/registry.yaml,
or XCISS_REGISTRY_POLICY_FILE): listing (M5, M11(3)), voucher acceptance (R18) and the
complaint handling deadline (M11(6)), each loaded per year and refused with the field named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.registry.domain.listing import Funding
from services.registry.domain.parties import AcceptanceEvidence, acceptance_failures
from services.registry.instruments import NewInstrument, assess
from services.registry.policy import load_registry_policies, packaged
from services.runtime.settings import Settings, SettingsError
from services.runtime.workdays import WorkdayCalendar

LISTING = """listing:
  defaults:
    must_list_threshold_fen: 20000000
    listing_deadline_workdays: 30
    due_soon_workdays: 5
"""
ACCEPTANCE = """acceptance:
  defaults: {min_full_time_staff: 1}
"""
COMPLAINTS = """complaints:
  defaults: {handling_workdays: 15}
"""
DEFAULTS = LISTING + ACCEPTANCE + COMPLAINTS


def settings_with(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    return Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_REGISTRY_POLICY_FILE": str(path)})


def instrument(value_fen: int, accepted: date) -> NewInstrument:
    return NewInstrument(name="扫描电子显微镜", category="分析仪器", original_value_fen=value_fen, funding=Funding.fiscal_full, acceptance_date=accepted)


def staffed(n: int) -> AcceptanceEvidence:
    return AcceptanceEvidence(full_time_staff=n, service_content="成分分析", service_norms="国标", fees_published=True, no_bad_credit=True)


def test_without_a_file_of_its_own_the_platform_runs_the_packaged_xuchang_numbers(tmp_path: Path) -> None:
    rules = load_registry_policies(Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)}))
    assert rules == packaged()
    assert (rules.listing.years, rules.acceptance.years, rules.complaints.years) == ({}, {}, {})
    assert rules.listing.for_year(2026).must_list_threshold_fen == 20_000_000
    assert rules.acceptance.for_year(2026).min_full_time_staff == 1
    assert rules.complaints.for_year(2026).handling_workdays == 15


def test_a_year_of_its_own_applies_to_the_instruments_accepted_in_that_year(tmp_path: Path) -> None:
    rules = load_registry_policies(settings_with(tmp_path, ACCEPTANCE + COMPLAINTS + """listing:
  defaults: {must_list_threshold_fen: 20000000, listing_deadline_workdays: 30, due_soon_workdays: 5}
  years:
    2025: {must_list_threshold_fen: 30000000, listing_deadline_workdays: 20, due_soon_workdays: 5}
""")).listing
    cal = WorkdayCalendar()
    # 250,000 CNY: over the default threshold, under 2025's
    required_2025, deadline_2025 = assess(instrument(25_000_000, date(2025, 3, 3)), calendar=cal, policy=rules)
    required_2026, deadline_2026 = assess(instrument(25_000_000, date(2026, 3, 2)), calendar=cal, policy=rules)
    assert (required_2025, deadline_2025) == (False, None)
    assert required_2026 and deadline_2026 == cal.add_workdays(date(2026, 3, 2), 30)
    # at 2025's own threshold (inclusive, M5 以上) and with its own deadline
    required, deadline = assess(instrument(30_000_000, date(2025, 3, 3)), calendar=cal, policy=rules)
    assert required and deadline == cal.add_workdays(date(2025, 3, 3), 20)


def test_a_year_of_its_own_sets_the_staff_minimum_of_r18_at_its_edge(tmp_path: Path) -> None:
    rules = load_registry_policies(settings_with(tmp_path, LISTING + COMPLAINTS + """acceptance:
  defaults: {min_full_time_staff: 1}
  years:
    2027: {min_full_time_staff: 3}
""")).acceptance

    def failures(year: int, staff: int) -> list[str]:
        return acceptance_failures("approved", staffed(staff), rules.for_year(year), blacklisted=False)

    assert [failures(2027, n) for n in (2, 3, 4)] == [["acceptance.no_staff"], [], []]
    # other years keep the default: one technician is enough, none is not
    assert [failures(2026, n) for n in (0, 1, 2)] == [["acceptance.no_staff"], [], []]


def test_a_year_of_its_own_sets_the_complaint_deadline(tmp_path: Path) -> None:
    rules = load_registry_policies(settings_with(tmp_path, LISTING + ACCEPTANCE + """complaints:
  defaults: {handling_workdays: 15}
  years:
    2027: {handling_workdays: 10}
""")).complaints
    assert [rules.for_year(y).handling_workdays for y in (2026, 2027, 2028)] == [15, 10, 15]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (DEFAULTS.replace("due_soon_workdays: 5", "due_soon_workdays: -1"), "due_soon_workdays"),
        (DEFAULTS.replace("    listing_deadline_workdays: 30\n", ""), "listing_deadline_workdays"),
        (DEFAULTS.replace("20000000", "200000.5"), "must_list_threshold_fen"),
        (DEFAULTS.replace("min_full_time_staff: 1", "min_full_time_staff: -1"), "min_full_time_staff"),
        (DEFAULTS.replace("handling_workdays: 15", "handling_workdays: 0"), "handling_workdays"),
        (DEFAULTS.replace("handling_workdays: 15", "handling_workdays: 251"), "handling_workdays"),
        (LISTING + ACCEPTANCE, "complaints"),
        ("listing: [", "cannot read YAML"),
    ],
)
def test_a_wrong_file_is_refused_at_start_naming_the_file_and_the_field(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(SettingsError, match="XCISS_REGISTRY_POLICY_FILE") as info:
        load_registry_policies(settings_with(tmp_path, text))
    assert names in str(info.value)


def test_the_complaint_deadline_runs_from_1_to_250_working_days(tmp_path: Path) -> None:
    for n in (1, 250):
        (tmp_path / str(n)).mkdir()
        rules = load_registry_policies(settings_with(tmp_path / str(n), DEFAULTS.replace("handling_workdays: 15", f"handling_workdays: {n}")))
        assert rules.complaints.defaults.handling_workdays == n


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    s = Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_REGISTRY_POLICY_FILE": str(tmp_path / "nope.yaml")})
    with pytest.raises(SettingsError, match="nope.yaml"):
        load_registry_policies(s)
