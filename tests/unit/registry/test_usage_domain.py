"""The usage log's pure rules (issue 16): a session's span, its kind, and an
order's service time from its usage records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.registry.domain.usage import (
    DEFAULT_MAX_SESSION,
    check_kind,
    check_span,
    hours_of,
    minutes_between,
    service_time,
)
from services.runtime.errors import DomainError

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def code(exc: pytest.ExceptionInfo[DomainError]) -> str:
    return exc.value.code


def test_a_session_counts_whole_minutes() -> None:
    start = NOW - timedelta(hours=2, minutes=30, seconds=59)
    assert minutes_between(start, NOW) == 150
    assert check_span(start, NOW, NOW, DEFAULT_MAX_SESSION) == 150


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (NOW - timedelta(hours=1), NOW - timedelta(hours=2), "usage.end_before_start"),
        (NOW - timedelta(hours=1), NOW - timedelta(hours=1), "usage.end_before_start"),
        (NOW - timedelta(hours=1), NOW + timedelta(minutes=1), "usage.in_future"),
        (NOW + timedelta(minutes=1), NOW + timedelta(hours=1), "usage.in_future"),
        (NOW - timedelta(hours=24, minutes=1), NOW, "usage.too_long"),
    ],
)
def test_a_span_that_breaks_a_rule(start: datetime, end: datetime, expected: str) -> None:
    with pytest.raises(DomainError) as exc:
        check_span(start, end, NOW, DEFAULT_MAX_SESSION)
    assert code(exc) == expected


def test_exactly_the_maximum_length_is_allowed() -> None:
    assert check_span(NOW - DEFAULT_MAX_SESSION, NOW, NOW, DEFAULT_MAX_SESSION) == 24 * 60


def test_kinds_name_an_order_or_a_researcher() -> None:
    assert check_kind("outside", "o1", None) == ("o1", None)
    assert check_kind("internal", None, "  课题组 ") == (None, "课题组")
    for args, expected in ((("outside", None, "x"), "usage.order_required"), (("internal", "o1", "x"), "usage.order_not_internal"), (("internal", None, " "), "usage.researcher_required")):
        with pytest.raises(DomainError) as exc:
            check_kind(*args)
        assert code(exc) == expected


def test_hours_round_half_up() -> None:
    assert [hours_of(m) for m in (0, 29, 30, 89, 90, 150)] == [0, 0, 1, 1, 2, 3]


def test_an_orders_service_time_comes_from_its_usage() -> None:
    assert service_time(None, 150, 0) == (3, 150)
    assert service_time(3, 150, 0) == (3, 150)
    assert service_time(4, None, 0) == (4, 240)
    for args, expected in (((4, 150, 0), "order.service_hours_mismatch"), ((None, None, 0), "order.service_hours_required"), ((None, 60, 1), "order.usage_open")):
        with pytest.raises(DomainError) as exc:
            service_time(*args)
        assert code(exc) == expected
