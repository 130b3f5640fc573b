"""A user's row as the registry shows it (issue 18): the record the API answers
with, what a caller who is not city staff sees of it, and its audit image."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from services.registry.schemas.users import User
from services.registry.user_rows import as_seen, user_image, user_snapshot, user_view


def _row(**over: Any) -> dict[str, Any]:
    now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    row: dict[str, Any] = {
        "id": "u-1",
        "version": 2,
        "name": "许昌某科技有限公司",
        "kind": "enterprise",
        "credit_code": "91411000MA0000000X",
        "classes": ["tech_sme"],
        "special_classes": [],
        "in_xuchang": True,
        "verified": False,
        "sound_finances": True,
        "leader_name": None,
        "leader_id_masked": None,
        "duplicate_of": "u-0",
        "rejected_at": now,
        "rejection_reason": "冒用信用代码",
        "created_at": now,
        "updated_at": now,
    }
    return row | over


def test_the_record_answers_the_review_state() -> None:
    user = user_view(_row())
    assert isinstance(user, User)
    assert (user.user_id, user.status, user.rejection_reason, user.duplicate_of) == ("u-1", "rejected", "冒用信用代码", "u-0")
    assert user_view(_row(rejected_at=None, verified=True)).status == "verified"
    assert user_view(_row(rejected_at=None)).status == "pending"


def test_who_else_gave_the_code_and_the_same_party_units_are_for_city_staff() -> None:
    user = msgspec.structs.replace(user_view(_row()), same_party_units=["unit-a"])
    assert as_seen(user, by_staff=True) == user
    seen = as_seen(user, by_staff=False)
    assert (seen.duplicate_of, seen.same_party_units) == (None, [])
    assert msgspec.structs.replace(seen, duplicate_of="u-0", same_party_units=["unit-a"]) == user  # nothing else differs


def test_the_audit_image_is_the_record_without_what_is_read_with_one_user() -> None:
    row = _row()
    image = user_image(msgspec.structs.replace(user_view(row), same_party_units=["unit-a"]))
    # the event's snapshot and the review state, as the audit trail kept them before the record was typed
    assert set(image) == set(user_snapshot(row)) | {"leader_name", "leader_id_masked", "status", "duplicate_of", "rejection_reason"}
    assert {k: image[k] for k in user_snapshot(row)} == user_snapshot(row)
    assert (image["status"], image["duplicate_of"]) == ("rejected", "u-0")
