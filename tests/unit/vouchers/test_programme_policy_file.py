"""The voucher programme's numbers have one home (services/vouchers/policy/programme.yaml,
or XCISS_VOUCHER_POLICY_FILE): loaded per year, refused at start with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime.settings import Settings, SettingsError
from services.vouchers.policy import load_programme_defaults, packaged

CLASSES = "eligible_classes: [above_scale_industrial, high_tech, tech_sme, startup_team], special_classes: [innovation_leader, gazelle]"
DEFAULTS = "defaults: {rate_bp: 3000, cap_fen: 5000000, special_cap_fen: 10000000, appeal_window_days: 15, auto_approve: false, " + CLASSES + "}\n"


def settings_with(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "programme.yaml"
    path.write_text(text, encoding="utf-8")
    return Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_VOUCHER_POLICY_FILE": str(path)})


def test_without_a_file_of_its_own_the_platform_runs_the_packaged_xuchang_numbers(tmp_path: Path) -> None:
    numbers = load_programme_defaults(Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)}))
    assert numbers == packaged() and numbers.years == {}
    policy = numbers.policy_for(2026)
    # R15 30 %, R16 50,000 / 100,000 CNY, R19(2) 15 days, every application waits for the center
    assert (policy.rate_bp, policy.cap_fen, policy.special_cap_fen, policy.appeal_window_days, policy.auto_approve) == (3000, 5_000_000, 10_000_000, 15, False)
    # R4 the four classes that may apply, R16 the two with the higher cap
    assert policy.eligible_classes == ("above_scale_industrial", "high_tech", "tech_sme", "startup_team")
    assert policy.special_classes == ("innovation_leader", "gazelle")


def test_a_year_of_its_own_changes_only_that_year(tmp_path: Path) -> None:
    numbers = load_programme_defaults(settings_with(tmp_path, DEFAULTS + """years:
  2027: {rate_bp: 4000, cap_fen: 6000000, special_cap_fen: 12000000, appeal_window_days: 20, auto_approve: true, eligible_classes: [high_tech], special_classes: []}
"""))
    assert [numbers.for_year(y).cap_fen for y in (2026, 2027, 2028)] == [5_000_000, 6_000_000, 5_000_000]
    assert numbers.policy_for(2027).auto_approve is True
    assert (numbers.policy_for(2027).eligible_classes, numbers.policy_for(2027).special_classes) == (("high_tech",), ())
    assert numbers.policy_for(2028).eligible_classes == packaged().policy_for(2028).eligible_classes


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ("eligible_classes: [high_tech, hightech]", "unknown class"),  # a misspelt class would make nobody of it eligible
        ("eligible_classes: []", "at least one class"),
        ("eligible_classes: [high_tech, high_tech]", "twice"),
        ("special_classes: [gazelle, high_tech]", "unknown class"),  # a user class is not a special class
    ],
)
def test_a_class_list_the_registry_does_not_know_is_refused_at_start(tmp_path: Path, classes: str, message: str) -> None:
    key = classes.split(":")[0]
    text = DEFAULTS.replace(next(part for part in CLASSES.split("], ") if part.startswith(key)).rstrip("]") + "]", classes)
    assert text != DEFAULTS
    with pytest.raises(SettingsError, match=message):
        load_programme_defaults(settings_with(tmp_path, text))


@pytest.mark.parametrize(
    ("given", "value", "ok"),
    [("rate_bp: 3000", 10_000, True), ("rate_bp: 3000", 10_001, False), ("cap_fen: 5000000", 0, True), ("cap_fen: 5000000", -1, False)],
)
def test_the_rate_and_caps_at_their_edges(tmp_path: Path, given: str, value: int, ok: bool) -> None:
    field = given.split(":")[0]
    settings = settings_with(tmp_path, DEFAULTS.replace(given, f"{field}: {value}"))
    if ok:
        assert getattr(load_programme_defaults(settings).defaults, field) == value
    else:
        with pytest.raises(SettingsError, match=field):
            load_programme_defaults(settings)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (DEFAULTS.replace("cap_fen: 5000000", "cap_fen: 50000.5"), "cap_fen"),
        (DEFAULTS.replace(", appeal_window_days: 15", ""), "appeal_window_days"),
        (DEFAULTS.replace("auto_approve: false", "auto_approve: 0"), "auto_approve"),
        (DEFAULTS.replace("rate_bp", "rate"), "rate"),
        ("defaults: [", "cannot read YAML"),
    ],
)
def test_a_wrong_file_is_refused_at_start_naming_the_file_and_the_field(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(SettingsError, match="XCISS_VOUCHER_POLICY_FILE") as info:
        load_programme_defaults(settings_with(tmp_path, text))
    assert names in str(info.value)


def test_the_class_words_a_programme_may_name_are_the_registrys() -> None:
    """contracts/registry.py's vocabulary (what vouchers checks a year's lists against) is the
    registry's own enumeration: a class the registry adds is one a programme may name."""
    from contracts.registry import SPECIAL_CLASSES, USER_CLASSES
    from services.registry.domain.parties import SpecialClass, UserClass

    assert USER_CLASSES == tuple(UserClass) and SPECIAL_CLASSES == tuple(SpecialClass)
