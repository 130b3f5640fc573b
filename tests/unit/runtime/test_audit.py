"""The audit chain's hash: what it covers and what it ignores; the retention
rule's dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.command.audit import parse_before
from services.runtime.db import audit_chain as audit

ROW = {
    "seq": 7,
    "at": datetime(2026, 11, 27, 8, 30, 0, 123456, tzinfo=UTC),
    "actor": "bureau-li",
    "actor_role": "bureau",
    "action": "unit.approve",
    "object_type": "unit",
    "object_id": "7b1c0c7e-0f5e-4c1e-9a51-3a2f5d7f2b11",
    "reason": "材料齐全",
    "before": {"status": "applied", "version": 1},
    "after": {"status": "approved", "version": 2, "amounts": [1, 2]},
    "correlation_id": "c-1",
    "prev_hash": "ab" * 32,
}


def test_the_hash_covers_every_field_of_the_row() -> None:
    base = audit.row_hash(ROW)
    changed = {
        "seq": 8,
        "at": ROW["at"] + timedelta(microseconds=1),
        "actor": "bureau-wang",
        "actor_role": "center",
        "action": "unit.reject",
        "object_type": "user",
        "object_id": "other",
        "reason": "材料不全",
        "before": {"status": "applied", "version": 2},
        "after": {"status": "approved", "version": 2, "amounts": [2, 1]},
        "correlation_id": "c-2",
        "prev_hash": "cd" * 32,
    }
    assert set(changed) == set(audit.HASHED_FIELDS)
    for field, value in changed.items():
        assert audit.row_hash({**ROW, field: value}) != base, field


def test_the_hash_ignores_key_order_the_time_zone_and_the_database_id() -> None:
    shuffled = {**ROW, "after": {"amounts": [1, 2], "version": 2, "status": "approved"}}
    shanghai = {**ROW, "at": ROW["at"].astimezone(timezone(timedelta(hours=8)))}
    with_id = {**ROW, "id": 12345, "row_hash": "whatever"}
    assert audit.row_hash(shuffled) == audit.row_hash(shanghai) == audit.row_hash(with_id) == audit.row_hash(ROW)
    assert len(audit.row_hash(ROW)) == 64


def test_values_are_hashed_as_a_json_column_returns_them() -> None:
    # tuples become lists and integer keys strings, as they do after a round trip
    assert audit.json_value({1: (1, 2), "d": datetime(2026, 1, 1, tzinfo=UTC)}) == {"1": [1, 2], "d": "2026-01-01T00:00:00Z"}


def test_prune_dates() -> None:
    assert parse_before("2026-05-01") == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_before("2026-05-01T08:00:00+08:00") == datetime(2026, 5, 1, tzinfo=UTC)
    for bad in ("2026-05-01T08:00:00", "yesterday"):
        with pytest.raises(ValueError):
            parse_before(bad)
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert audit.earliest_prunable(now) == now - timedelta(days=180)
