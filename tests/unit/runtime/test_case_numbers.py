"""Case numbers' form without a database: what is issued and what a typed one is read as."""

from __future__ import annotations

from services.runtime.db.case_numbers import format_case_number, normalise_case_number


def test_a_case_number_is_prefix_year_and_six_digits_growing_past_a_million() -> None:
    assert format_case_number("DD", 2026, 123) == "DD-2026-000123"
    assert format_case_number("DD", 2026, 999_999) == "DD-2026-999999"
    assert format_case_number("DD", 2026, 1_000_000) == "DD-2026-1000000"


def test_a_typed_case_number_is_read_without_spaces_in_capitals() -> None:
    assert normalise_case_number(" dd-2026-000123 ") == "DD-2026-000123"
    assert normalise_case_number("DD - 2026 - 000123") == "DD-2026-000123"
