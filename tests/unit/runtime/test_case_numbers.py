"""Case numbers' form, what a typed one is read as, and blocks of numbers from a counter (SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from services.runtime.db.case_numbers import case_counter_table, format_case_number, next_case_number, next_case_numbers, normalise_case_number


def test_a_case_number_is_prefix_year_and_six_digits_growing_past_a_million() -> None:
    assert format_case_number("DD", 2026, 123) == "DD-2026-000123"
    assert format_case_number("DD", 2026, 999_999) == "DD-2026-999999"
    assert format_case_number("DD", 2026, 1_000_000) == "DD-2026-1000000"


def test_a_typed_case_number_is_read_without_spaces_in_capitals() -> None:
    assert normalise_case_number(" dd-2026-000123 ") == "DD-2026-000123"
    assert normalise_case_number("DD - 2026 - 000123") == "DD-2026-000123"


# --- a block of numbers (a batch of applications decided in one transaction) ---


async def _counters(tmp_path: Path) -> tuple[AsyncEngine, Table]:
    md = MetaData()
    counters = case_counter_table(md)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(md.create_all)
    return engine, counters


async def test_a_block_is_consecutive_continues_the_counter_and_a_year_starts_its_own(tmp_path: Path) -> None:
    engine, counters = await _counters(tmp_path)
    try:
        async with AsyncSession(engine) as s, s.begin():
            first = await next_case_numbers(s, counters, "SQ", 2026, 3)  # the year's first block creates its counter
            one = await next_case_number(s, counters, "SQ", 2026)
            nothing = await next_case_numbers(s, counters, "SQ", 2026, 0)  # an empty batch takes none
            block = await next_case_numbers(s, counters, "SQ", 2026, 2)
            other_year = await next_case_numbers(s, counters, "SQ", 2027, 2)
            other_kind = await next_case_number(s, counters, "DF", 2026)
    finally:
        await engine.dispose()
    assert first == ["SQ-2026-000001", "SQ-2026-000002", "SQ-2026-000003"]
    assert one == "SQ-2026-000004"
    assert nothing == []
    assert block == ["SQ-2026-000005", "SQ-2026-000006"]
    assert other_year == ["SQ-2027-000001", "SQ-2027-000002"]
    assert other_kind == "DF-2026-000001"


async def test_a_block_across_the_millionth_case_grows_a_digit(tmp_path: Path) -> None:
    engine, counters = await _counters(tmp_path)
    try:
        async with AsyncSession(engine) as s, s.begin():
            await s.execute(insert(counters).values(prefix="SQ", year=2026, last=999_998))
            block = await next_case_numbers(s, counters, "SQ", 2026, 3)
    finally:
        await engine.dispose()
    assert block == ["SQ-2026-999999", "SQ-2026-1000000", "SQ-2026-1000001"]


async def test_a_block_refuses_a_negative_count_or_a_bad_prefix_and_takes_nothing(tmp_path: Path) -> None:
    engine, counters = await _counters(tmp_path)
    try:
        async with AsyncSession(engine) as s, s.begin():
            with pytest.raises(ValueError, match="negative"):
                await next_case_numbers(s, counters, "SQ", 2026, -1)
            with pytest.raises(ValueError, match="two capital letters"):
                await next_case_numbers(s, counters, "sq", 2026, 2)
            assert (await s.execute(select(counters))).all() == []
    finally:
        await engine.dispose()
