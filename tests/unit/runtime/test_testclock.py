"""The test clock's arithmetic and the policy clock's offset (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contracts import envelope
from services.runtime import clock
from services.runtime.bus import testclock
from services.runtime.errors import DomainError
from services.runtime.settings import Settings

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture(autouse=True)
def real_time() -> object:
    clock.follow(None)
    yield
    clock.follow(None)


@pytest.mark.parametrize(("text", "span"), [("5d", timedelta(days=5)), ("-2h", timedelta(hours=-2)), ("+90m", timedelta(minutes=90)), ("30s", timedelta(seconds=30)), ("1w", timedelta(weeks=1))])
def test_spans(text: str, span: timedelta) -> None:
    assert testclock.parse_span(text) == span


@pytest.mark.parametrize("text", ["", "5", "d", "5 days", "1.5d", "5y", "--1d"])
def test_a_malformed_span_names_its_field(text: str) -> None:
    with pytest.raises(DomainError) as err:
        testclock.parse_span(text)
    assert err.value.code == "clock.bad_span" and err.value.details["field"] == "by" and err.value.message_zh


def test_the_offset_makes_the_wall_clock_read_the_target() -> None:
    wall = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    target = datetime(2026, 12, 31, 23, 59, 50, tzinfo=BEIJING)
    assert wall + timedelta(seconds=testclock.offset_for(target, wall)) == target


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(DomainError) as err:
        testclock.offset_for(datetime(2026, 12, 31, 23, 59), datetime.now(UTC))
    assert err.value.code == "clock.naive_time" and err.value.details["field"] == "at"


def test_at_most_three_years_either_way() -> None:
    wall = datetime(2026, 12, 3, tzinfo=UTC)
    assert testclock.offset_for(wall + testclock.MAX_OFFSET, wall) == testclock.MAX_OFFSET.total_seconds()
    with pytest.raises(DomainError) as err:
        testclock.offset_for(wall - testclock.MAX_OFFSET - timedelta(seconds=1), wall)
    assert err.value.code == "clock.out_of_range"
    with pytest.raises(DomainError):
        testclock.advanced(testclock.MAX_OFFSET.total_seconds(), timedelta(seconds=1))


def test_a_simulated_time_moves_every_policy_clock_and_keeps_running() -> None:
    clock.follow(clock.Simulation(offset_s=(datetime(2026, 12, 31, 23, 59, 59, tzinfo=BEIJING) - clock.wall_now()).total_seconds()))
    assert clock.local_today().isoformat() == "2026-12-31" and clock.local_year() == 2026
    before = clock.utc_now()
    assert clock.utc_now() >= before  # it runs on
    clock.follow(clock.Simulation(offset_s=(datetime(2027, 1, 1, tzinfo=BEIJING) - clock.wall_now()).total_seconds()))
    assert clock.local_year() == 2027
    # events are dated by the policy clock too
    assert clock.local_year(envelope.utc_now()) == 2027
    clock.follow(None)
    assert abs((clock.utc_now() - clock.wall_now()).total_seconds()) < 1


def test_only_production_refuses_the_test_clock(tmp_path) -> None:
    assert testclock.allowed(Settings(data_dir=tmp_path, mode="dev"))
    assert testclock.allowed(Settings(data_dir=tmp_path, mode="staging"))
    assert not testclock.allowed(Settings(data_dir=tmp_path, mode="prod"))
