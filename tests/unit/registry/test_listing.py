"""Unit tests for services.registry.domain.listing (M5, M6, M11(3))."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
import pytest

from services.registry.domain.listing import (
    Funding,
    ListingPolicy,
    ListingPolicyError,
    ListingStatus,
    listing_deadline,
    listing_status,
    must_list,
)
from services.registry.policy import packaged
from services.runtime.workdays import UnknownCalendarYear, WorkdayCalendar

#: the packaged rules (services/registry/policy/registry.yaml): Xuchang 2023
POLICY = packaged().listing.defaults
THRESHOLD = 20_000_000  # fen = 200,000 CNY


def policy(**changes: object) -> ListingPolicy:
    """The packaged rules with some parameters changed."""
    return ListingPolicy(**{**msgspec.structs.asdict(POLICY), **changes})  # type: ignore[arg-type]


@pytest.fixture
def cal() -> WorkdayCalendar:
    return WorkdayCalendar()


# --- enums and policy ---------------------------------------------------------


def test_funding_values() -> None:
    assert [f.value for f in Funding] == ["fiscal_full", "fiscal_part", "non_fiscal"]
    assert Funding("fiscal_part") is Funding.fiscal_part
    assert Funding.fiscal_full == "fiscal_full"


def test_listing_status_values() -> None:
    assert {s.value for s in ListingStatus} == {
        "listed_on_time",
        "listed_late",
        "overdue",
        "due_soon",
        "pending",
        "not_required",
    }


class TestListingPolicy:
    def test_the_packaged_file_holds_the_2023_numbers(self) -> None:
        assert POLICY.must_list_threshold_fen == 20_000_000
        assert POLICY.listing_deadline_workdays == 30
        assert POLICY.due_soon_workdays == 5

    def test_frozen(self) -> None:
        with pytest.raises(AttributeError):
            POLICY.due_soon_workdays = 3  # type: ignore[misc]

    def test_custom_values_keyword_only(self) -> None:
        p = ListingPolicy(must_list_threshold_fen=10_000_000, listing_deadline_workdays=20, due_soon_workdays=0)
        assert p.must_list_threshold_fen == 10_000_000
        with pytest.raises(TypeError):
            ListingPolicy(10_000_000)  # type: ignore[misc]

    @pytest.mark.parametrize(
        "field", ["must_list_threshold_fen", "listing_deadline_workdays", "due_soon_workdays"]
    )
    @pytest.mark.parametrize("value", [200000.0, True, "30", None])
    def test_rejects_non_int(self, field: str, value: object) -> None:
        with pytest.raises(TypeError):
            policy(**{field: value})

    @pytest.mark.parametrize(
        ("field", "value"),
        [("must_list_threshold_fen", -1), ("listing_deadline_workdays", 0), ("due_soon_workdays", -1)],
    )
    def test_rejects_out_of_range(self, field: str, value: int) -> None:
        with pytest.raises(ListingPolicyError) as info:
            policy(**{field: value})
        err = info.value
        assert isinstance(err, ValueError)
        assert err.code == "registry.listing_policy_invalid"
        assert err.field == field and err.value == value
        assert field in err.message_en and field in err.message_zh

    def test_decodes_from_json_config_with_every_parameter(self) -> None:
        whole = b'{"must_list_threshold_fen": 20000000, "listing_deadline_workdays": 20, "due_soon_workdays": 5}'
        assert msgspec.json.decode(whole, type=ListingPolicy) == policy(listing_deadline_workdays=20)
        with pytest.raises(msgspec.ValidationError, match="missing required field"):  # no number lives in the code
            msgspec.json.decode(b'{"listing_deadline_workdays": 20}', type=ListingPolicy)
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(b'{"must_list_threshold_fen": 200000.5, "listing_deadline_workdays": 30, "due_soon_workdays": 5}', type=ListingPolicy)
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(b'{"must_list_threshold_fen": 0, "listing_deadline_workdays": 0, "due_soon_workdays": 5}', type=ListingPolicy)


# --- must_list ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("funding", "value", "classified", "duty_exempt", "expected"),
    [
        # M5: fiscal in whole or part, "20万元以上" includes 200,000 CNY itself.
        (Funding.fiscal_full, THRESHOLD, False, False, True),
        (Funding.fiscal_part, THRESHOLD, False, False, True),
        (Funding.fiscal_full, THRESHOLD - 1, False, False, False),
        (Funding.fiscal_part, THRESHOLD - 1, False, False, False),
        (Funding.fiscal_full, 500_000_000, False, False, True),
        (Funding.fiscal_full, 0, False, False, False),
        # Non-fiscal: encouraged, never required by M5.
        (Funding.non_fiscal, 50_000_000, False, False, False),
        (Funding.non_fiscal, THRESHOLD, False, False, False),
        # Classified (涉密) is exempt, whatever else holds.
        (Funding.fiscal_full, 50_000_000, True, False, False),
        (Funding.fiscal_part, THRESHOLD, True, True, False),
        (Funding.non_fiscal, 100, True, True, False),
        # M6: duty-exempt imports are listed regardless of funding and value.
        (Funding.non_fiscal, 100, False, True, True),
        (Funding.non_fiscal, 0, False, True, True),
        (Funding.fiscal_full, THRESHOLD - 1, False, True, True),
    ],
)
def test_must_list(funding: Funding, value: int, classified: bool, duty_exempt: bool, expected: bool) -> None:
    assert must_list(funding, value, classified, duty_exempt, POLICY) is expected


def test_must_list_accepts_funding_string() -> None:
    assert must_list("fiscal_part", THRESHOLD, False, False, POLICY) is True
    assert must_list("non_fiscal", THRESHOLD, False, False, POLICY) is False


def test_must_list_unknown_funding() -> None:
    with pytest.raises(ValueError):
        must_list("fiscal", THRESHOLD, False, False, POLICY)


def test_must_list_uses_policy_threshold() -> None:
    p = policy(must_list_threshold_fen=10_000_000)
    assert must_list(Funding.fiscal_full, 10_000_000, False, False, p) is True
    assert must_list(Funding.fiscal_full, 9_999_999, False, False, p) is False


@pytest.mark.parametrize("value", [20_000_000.0, 200000.5, True, "20000000", None])
def test_must_list_rejects_non_int_money(value: object) -> None:
    with pytest.raises(TypeError):
        must_list(Funding.fiscal_full, value, False, False, POLICY)  # type: ignore[arg-type]


def test_must_list_rejects_negative_value() -> None:
    with pytest.raises(ValueError):
        must_list(Funding.fiscal_full, -1, False, False, POLICY)


# --- listing_deadline ---------------------------------------------------------


def test_listing_deadline_policy_example(cal: WorkdayCalendar) -> None:
    assert listing_deadline(date(2024, 9, 20), cal, POLICY) == date(2024, 11, 6)


def test_listing_deadline_uses_policy_days(cal: WorkdayCalendar) -> None:
    p = policy(listing_deadline_workdays=1)
    assert listing_deadline(date(2024, 9, 30), cal, p) == date(2024, 10, 8)


def test_listing_deadline_unknown_year(cal: WorkdayCalendar) -> None:
    with pytest.raises(UnknownCalendarYear):
        listing_deadline(date(2026, 12, 1), cal, POLICY)


def test_listing_deadline_rejects_datetime(cal: WorkdayCalendar) -> None:
    with pytest.raises(TypeError):
        listing_deadline(datetime(2024, 9, 20, 9, 0), cal, POLICY)  # type: ignore[arg-type]


# --- listing_status -----------------------------------------------------------

DEADLINE = date(2024, 11, 6)  # Wed; from acceptance Fri 2024-09-20


def status(
    cal: WorkdayCalendar,
    *,
    today: date,
    listed_on: date | None = None,
    required: bool = True,
    deadline: date | None = DEADLINE,
    policy: ListingPolicy = POLICY,
) -> ListingStatus:
    return listing_status(required, deadline, listed_on, today, cal, policy)


class TestListedMustList:
    def test_listed_exactly_on_deadline_day(self, cal: WorkdayCalendar) -> None:
        assert status(cal, today=date(2024, 12, 1), listed_on=DEADLINE) is ListingStatus.listed_on_time

    def test_listed_the_day_after(self, cal: WorkdayCalendar) -> None:
        assert status(cal, today=date(2024, 12, 1), listed_on=date(2024, 11, 7)) is ListingStatus.listed_late

    def test_listed_early(self, cal: WorkdayCalendar) -> None:
        assert status(cal, today=date(2024, 9, 23), listed_on=date(2024, 9, 21)) is ListingStatus.listed_on_time

    def test_listed_late_stays_late(self, cal: WorkdayCalendar) -> None:
        assert status(cal, today=date(2026, 1, 5), listed_on=date(2025, 3, 1)) is ListingStatus.listed_late


class TestUnlistedMustList:
    def test_on_deadline_day_is_due_soon(self, cal: WorkdayCalendar) -> None:
        assert status(cal, today=DEADLINE) is ListingStatus.due_soon

    def test_day_after_deadline_is_overdue(self, cal: WorkdayCalendar) -> None:
        assert status(cal, today=date(2024, 11, 7)) is ListingStatus.overdue

    def test_exactly_five_working_days_left(self, cal: WorkdayCalendar) -> None:
        today = date(2024, 10, 30)  # Wed: Thu 31, Fri 1, Mon 4, Tue 5, Wed 6 remain
        assert cal.workdays_between(today, DEADLINE) == 5
        assert status(cal, today=today) is ListingStatus.due_soon

    def test_six_working_days_left(self, cal: WorkdayCalendar) -> None:
        today = date(2024, 10, 29)
        assert cal.workdays_between(today, DEADLINE) == 6
        assert status(cal, today=today) is ListingStatus.pending

    def test_weekend_before_deadline(self, cal: WorkdayCalendar) -> None:
        assert status(cal, today=date(2024, 11, 2)) is ListingStatus.due_soon  # Sat: 3 left
        today = date(2024, 10, 27)  # Sun: 8 working days left
        assert cal.workdays_between(today, DEADLINE) == 8
        assert status(cal, today=today) is ListingStatus.pending

    def test_counts_working_days_not_calendar_days(self, cal: WorkdayCalendar) -> None:
        # 12 calendar days but only 5 working days (Oct 8–11 and make-up Sat Oct 12).
        today, deadline = date(2024, 9, 30), date(2024, 10, 12)
        assert cal.workdays_between(today, deadline) == 5
        assert status(cal, today=today, deadline=deadline) is ListingStatus.due_soon

    def test_just_accepted_is_pending(self, cal: WorkdayCalendar) -> None:
        assert status(cal, today=date(2024, 9, 20)) is ListingStatus.pending

    def test_policy_due_soon_window(self, cal: WorkdayCalendar) -> None:
        zero = policy(due_soon_workdays=0)
        assert status(cal, today=DEADLINE, policy=zero) is ListingStatus.due_soon
        assert status(cal, today=date(2024, 11, 5), policy=zero) is ListingStatus.pending
        wide = policy(due_soon_workdays=10)
        assert status(cal, today=date(2024, 10, 23), policy=wide) is ListingStatus.due_soon

    def test_deadline_required(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(ValueError):
            status(cal, today=date(2024, 10, 1), deadline=None)
        with pytest.raises(ValueError):
            status(cal, today=date(2024, 10, 1), deadline=None, listed_on=date(2024, 9, 25))

    def test_overdue_needs_no_calendar_lookup(self, cal: WorkdayCalendar) -> None:
        # A deadline in a known year, seen from an unknown year: still overdue.
        assert status(cal, today=date(2099, 1, 1)) is ListingStatus.overdue


class TestNotMustList:
    def test_not_listed_not_required(self, cal: WorkdayCalendar) -> None:
        assert status(cal, today=date(2024, 12, 1), required=False, deadline=None) is ListingStatus.not_required

    def test_voluntary_listing_counts_as_on_time(self, cal: WorkdayCalendar) -> None:
        assert (
            status(cal, today=date(2024, 12, 1), required=False, deadline=None, listed_on=date(2024, 12, 1))
            is ListingStatus.listed_on_time
        )

    def test_deadline_ignored_when_not_required(self, cal: WorkdayCalendar) -> None:
        # Even "after the deadline": a voluntary listing is never late.
        assert (
            status(cal, today=date(2025, 1, 1), required=False, listed_on=date(2024, 12, 20))
            is ListingStatus.listed_on_time
        )
        assert status(cal, today=date(2025, 1, 1), required=False) is ListingStatus.not_required


def test_status_rejects_datetimes(cal: WorkdayCalendar) -> None:
    with pytest.raises(TypeError):
        status(cal, today=datetime(2024, 10, 1, 8, 0))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        status(cal, today=date(2024, 10, 1), listed_on=datetime(2024, 10, 1, 8, 0))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        status(cal, today=date(2024, 10, 1), deadline=datetime(2024, 11, 6))  # type: ignore[arg-type]


def test_end_to_end_from_acceptance(cal: WorkdayCalendar) -> None:
    accepted = date(2024, 9, 20)
    required = must_list(Funding.fiscal_part, THRESHOLD, False, False, POLICY)
    deadline = listing_deadline(accepted, cal, POLICY)
    assert required and deadline == DEADLINE
    assert listing_status(required, deadline, None, date(2024, 10, 8), cal, POLICY) is ListingStatus.pending
    assert listing_status(required, deadline, None, date(2024, 11, 1), cal, POLICY) is ListingStatus.due_soon
    assert listing_status(required, deadline, None, date(2024, 11, 8), cal, POLICY) is ListingStatus.overdue
    assert listing_status(required, deadline, date(2024, 11, 8), date(2024, 11, 8), cal, POLICY) is (
        ListingStatus.listed_late
    )
