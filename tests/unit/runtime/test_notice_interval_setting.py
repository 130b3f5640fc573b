"""XCISS_NOTICE_INTERVAL_S sets how often the registry worker's three notice passes run;
its former name, XCISS_BOOKING_REMINDER_INTERVAL_S, is still read when it is not set."""

from __future__ import annotations

import pytest

from services.runtime.env import SettingsError
from services.runtime.settings import Settings


def test_the_notice_interval_and_its_former_name() -> None:
    assert Settings.from_env({}).notice_interval_s == 300.0
    assert Settings.from_env({"XCISS_NOTICE_INTERVAL_S": "60"}).notice_interval_s == 60.0
    assert Settings.from_env({"XCISS_BOOKING_REMINDER_INTERVAL_S": "120"}).notice_interval_s == 120.0
    assert Settings.from_env({"XCISS_NOTICE_INTERVAL_S": "60", "XCISS_BOOKING_REMINDER_INTERVAL_S": "120"}).notice_interval_s == 60.0
    with pytest.raises(SettingsError, match="XCISS_NOTICE_INTERVAL_S"):
        Settings.from_env({"XCISS_NOTICE_INTERVAL_S": "five minutes"})
