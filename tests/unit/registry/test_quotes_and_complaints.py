"""Pure rules of M11(4) (quotes against the published list) and M11(6) (complaint deadlines)."""

from __future__ import annotations

from datetime import date

import pytest

from services.registry.domain.complaints import (
    check_decision,
    check_handling_workdays,
    due_on,
    is_overdue,
)
from services.registry.domain.quotes import check_quote
from services.runtime.errors import DomainError
from services.runtime.workdays import WorkdayCalendar


def test_a_quote_needs_a_reason_one_fen_above_the_list_of_a_fiscal_instrument() -> None:
    assert check_quote(list_amount_fen=60_000, amount_fen=60_000, fiscal=True, reason=None) is None
    assert check_quote(list_amount_fen=60_000, amount_fen=1, fiscal=True, reason="优惠") is None
    with pytest.raises(DomainError) as e:
        check_quote(list_amount_fen=60_000, amount_fen=60_001, fiscal=True, reason=" ")
    assert (e.value.code, e.value.details["field"]) == ("order.quote_reason_required", "reason")
    assert "600.01" in e.value.message_zh and "600.00" in e.value.message_zh
    assert check_quote(list_amount_fen=60_000, amount_fen=60_001, fiscal=True, reason=" 加急 ") == "加急"
    # a negotiable (non-fiscal) order needs none
    assert check_quote(list_amount_fen=60_000, amount_fen=900_000, fiscal=False, reason=None) is None


def test_the_deadline_counts_working_days_with_make_up_days_and_without_holidays() -> None:
    cal = WorkdayCalendar()
    # Friday 27 September 2024: Sun 29 Sep (make-up), Mon 30 Sep, then 8, 9, 10 October
    assert due_on(date(2024, 9, 27), 5, cal) == date(2024, 10, 10)
    assert not is_overdue("open", date(2024, 10, 10), date(2024, 10, 10))
    assert is_overdue("open", date(2024, 10, 10), date(2024, 10, 11))
    assert not is_overdue("upheld", date(2024, 10, 10), date(2024, 10, 11))
    for bad in (0, 251, True):
        with pytest.raises(DomainError):
            check_handling_workdays(bad)
    assert check_handling_workdays(1) == 1


def test_a_complaint_is_decided_once_with_a_reason() -> None:
    with pytest.raises(DomainError) as e:
        check_decision("open", "upheld", "")
    assert e.value.details["field"] == "reason"
    assert check_decision("open", "dismissed", " 不成立 ") == ("dismissed", "不成立")
    with pytest.raises(DomainError) as e:
        check_decision("upheld", "dismissed", "改判")
    assert e.value.code == "complaint.already_decided" and e.value.status == 409
