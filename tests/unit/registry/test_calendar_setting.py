"""XCISS_CALENDAR_FILE adds official calendar years the library does not know yet."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from services.registry.app import create_app
from services.registry.domain.listing import listing_deadline
from services.registry.policy import packaged
from services.runtime.settings import Settings, SettingsError
from services.runtime.workdays import UnknownCalendarYear, load_calendar

# an illustrative 2027: New Year's Day off, Spring Festival week off, one make-up Saturday
CAL_2027 = {
    "2027": {
        "holidays": ["2027-01-01", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12"],
        "makeup_workdays": ["2027-02-20"],
    }
}


def settings_for(tmp_path: Path, content: str | None) -> Settings:
    env = {"XCISS_DATA_DIR": str(tmp_path)}
    if content is not None:
        path = tmp_path / "calendar.json"
        path.write_text(content, encoding="utf-8")
        env["XCISS_CALENDAR_FILE"] = str(path)
    return Settings.from_env(env)


def test_a_configured_2027_makes_a_2027_acceptance_date_work(tmp_path: Path) -> None:
    plain = settings_for(tmp_path, None)
    assert plain.calendar_file is None
    with pytest.raises(UnknownCalendarYear):
        listing_deadline(date(2027, 1, 15), load_calendar(plain), packaged().listing.defaults)

    settings = settings_for(tmp_path, json.dumps(CAL_2027))
    assert settings.calendar_file == (tmp_path / "calendar.json").resolve()
    calendar = load_calendar(settings)
    assert calendar.configured_years == frozenset({2027})
    # Fri 2027-01-15 + 30 working days: 15 in Jan 18 – Feb 5, Feb 8–12 off, 5 in Feb 15–19,
    # Sat Feb 20 worked (21), 5 in Feb 22–26 (26), Mar 1–4 (30)
    deadline = listing_deadline(date(2027, 1, 15), calendar, packaged().listing.defaults)
    assert deadline == date(2027, 3, 4)
    assert listing_deadline(date(2024, 9, 20), calendar, packaged().listing.defaults) == date(2024, 11, 6)


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"2027": {"holidays": ["2027-01-01"]}}), json.dumps({"2027": {"holidays": ["2026-01-01"], "makeup_workdays": []}})],
)
def test_a_malformed_calendar_file_stops_start_up(tmp_path: Path, content: str) -> None:
    settings = settings_for(tmp_path, content)
    with pytest.raises(SettingsError, match="XCISS_CALENDAR_FILE"):
        create_app(settings)


def test_a_missing_calendar_file_stops_start_up(tmp_path: Path) -> None:
    settings = Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_CALENDAR_FILE": str(tmp_path / "absent.json")})
    with pytest.raises(SettingsError, match="XCISS_CALENDAR_FILE"):
        load_calendar(settings)


def test_operators_see_how_many_days_of_official_calendar_are_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """xciss_calendar_days_left (alert XcissCalendarYearMissing below 45): on 3 December
    2026 the library ends in 28 days, exactly when four weeks of bookings reach 2027."""
    from litestar.testing import TestClient
    from prometheus_client import REGISTRY

    from services.runtime import clock

    library = load_calendar(settings_for(tmp_path, None))
    assert library.known_until(date(2026, 12, 3)) == date(2026, 12, 31) and library.days_left(date(2026, 12, 3)) == 28
    assert library.days_left(date(2028, 1, 1)) == -1
    configured = load_calendar(settings_for(tmp_path, json.dumps(CAL_2027)))
    assert configured.known_until(date(2026, 12, 3)) == date(2027, 12, 31)
    monkeypatch.setattr(clock, "local_today", lambda: date(2026, 12, 3))
    with TestClient(create_app(settings_for(tmp_path, json.dumps(CAL_2027)))) as client:
        assert client.get("/health").status_code == 200
        assert REGISTRY.get_sample_value("xciss_calendar_days_left") == 28 + 365
    with TestClient(create_app(settings_for(tmp_path, None))) as client:
        assert REGISTRY.get_sample_value("xciss_calendar_days_left") == 28
        assert "xciss_calendar_days_left 28.0" in client.get("/metrics").text
