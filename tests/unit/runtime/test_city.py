"""The city is one deployment setting (issue 18): a YAML file (the packaged Xuchang one, or
XCISS_CITY_FILE) read with the settings, so a bad file stops the start with the file and the
problem named; XCISS_CITY_DIVISION_PREFIX may only repeat the file's prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime.city import DEFAULT_FILE, packaged_city
from services.runtime.settings import Settings, SettingsError
from tests.support.city import ZHENGZHOU, settings_of


def test_the_packaged_city_is_xuchang_with_its_six_divisions(tmp_path: Path) -> None:
    for city in (packaged_city(), Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)}).city, Settings(data_dir=tmp_path).city):
        assert (city.name.zh, city.name.en, city.division_prefix) == ("许昌市", "Xuchang", "4110")
        assert city.divisions == {"411002": "魏都区", "411003": "建安区", "411024": "鄢陵县", "411025": "襄城县", "411081": "禹州市", "411082": "长葛市"}
    assert Settings(data_dir=tmp_path).city_division_prefix == "4110"


def test_another_city_file_is_the_settings_city(tmp_path: Path) -> None:
    s = settings_of(tmp_path, ZHENGZHOU)
    assert (s.city.name.zh, s.city.name.en, s.city_division_prefix) == ("郑州市", "Zhengzhou", "4101")
    assert s.city.divisions == {"410102": "中原区", "410103": "二七区"}
    assert s.city.division_name("410103") == "二七区" and s.city.division_name("411002") is None
    # bare YAML numbers are codes too (no division code starts with 0)
    (tmp_path / "bare").mkdir()
    assert settings_of(tmp_path / "bare", ZHENGZHOU.replace('"', "")).city == s.city


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (ZHENGZHOU.replace('"410103"', '"41010"'), "division code '41010' must be 6 digits"),
        (ZHENGZHOU.replace('"410103"', '"4101031"'), "division code '4101031' must be 6 digits"),
        (ZHENGZHOU.replace('"410103"', '"41010x"'), "division code '41010x' must be 6 digits"),
        (ZHENGZHOU.replace('"410103"', '"411002"'), "division code 411002 is not under the city's division_prefix 4101"),
        (ZHENGZHOU.replace("二七区", '""'), "division 410103 has no name"),
        (ZHENGZHOU.replace("二七区", '"  "'), "division 410103 has no name"),
        (ZHENGZHOU.replace('"4101"', '"4"'), "division_prefix must be 2 to 6 digits"),
        (ZHENGZHOU.replace('"4101"', '"41-01"'), "division_prefix must be 2 to 6 digits"),
        (ZHENGZHOU.replace("en: Zhengzhou", 'en: ""'), "name.zh and name.en must not be empty"),
        (ZHENGZHOU.replace(", en: Zhengzhou", ""), "name must have zh and en"),
        ('name: {zh: 郑州市, en: Zhengzhou}\ndivision_prefix: "4101"\ndivisions: {}\n', "divisions must map each division code to its name"),
        (ZHENGZHOU + "mayor: 某某\n", "unknown field(s): mayor"),
        ("- 郑州市\n", "the file must be a mapping"),
        ("name: [unclosed\n", "cannot read YAML"),
    ],
)
def test_a_bad_city_file_stops_the_start_naming_the_file_and_the_problem(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(SettingsError) as refused:
        settings_of(tmp_path, text)
    assert "XCISS_CITY_FILE" in str(refused.value) and str(tmp_path / "city.yaml") in str(refused.value)
    assert words in str(refused.value)


def test_a_missing_city_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="XCISS_CITY_FILE .*missing.yaml"):
        Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_CITY_FILE": str(tmp_path / "missing.yaml")})


def test_the_old_prefix_setting_may_only_agree_with_the_file(tmp_path: Path) -> None:
    assert Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_CITY_DIVISION_PREFIX": "4110"}).city_division_prefix == "4110"
    assert settings_of(tmp_path, ZHENGZHOU, XCISS_CITY_DIVISION_PREFIX="4101").city_division_prefix == "4101"
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_CITY_DIVISION_PREFIX": "4101"})
    assert "XCISS_CITY_DIVISION_PREFIX=4101 disagrees with division_prefix 4110" in str(refused.value) and str(DEFAULT_FILE) in str(refused.value)
    with pytest.raises(SettingsError, match="XCISS_CITY_DIVISION_PREFIX=4110 disagrees with division_prefix 4101"):
        settings_of(tmp_path, ZHENGZHOU, XCISS_CITY_DIVISION_PREFIX="4110")

