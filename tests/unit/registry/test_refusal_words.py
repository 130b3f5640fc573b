"""A refusal of a step a unit's or a booking's state does not allow says the state in
words, never its code (issue 17: "该单位当前状态为 suspended" reached the fraud finding page)."""

from __future__ import annotations

import re

import pytest

from services.registry.domain.bookings import BookingAction, BookingStatus, next_status
from services.registry.domain.parties import UnitAction, UnitStatus, unit_transition
from services.runtime.errors import Conflict

CODE = re.compile(r"[a-z_]{3,}")


def test_every_refused_unit_step_names_the_status_in_words() -> None:
    refused = 0
    for status in UnitStatus:
        for action in UnitAction:
            try:
                unit_transition(str(status), action)
            except Conflict as e:
                refused += 1
                assert e.code == "unit.illegal_transition" and e.details["current_status"] == str(status)
                assert not CODE.search(e.message_zh), e.message_zh
    assert refused >= len(UnitStatus)  # the edge: the check saw refusals at all
    with pytest.raises(Conflict) as e:
        unit_transition("suspended", UnitAction.SUSPEND)
    assert e.value.message_zh == "该单位当前状态为“已暂停共享”，不能暂停共享"


def test_every_refused_booking_step_names_the_status_and_the_step_in_words() -> None:
    refused = 0
    for status in BookingStatus:
        for action in BookingAction:
            try:
                next_status(status, action)
            except Conflict as e:
                refused += 1
                assert e.code == "booking.illegal_transition" and not CODE.search(e.message_zh), e.message_zh
    assert refused >= len(BookingStatus)
    with pytest.raises(Conflict) as e:
        next_status("cancelled", BookingAction.confirm)
    assert e.value.message_zh == "预约当前状态为“已取消”，不能确认"
