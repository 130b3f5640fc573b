"""Fixtures the registry's integration tests share."""

from __future__ import annotations

import pytest

from tests.support.bookings import Clock


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The services' clock, set by the test (bookings, calendars)."""
    return Clock(monkeypatch)
