from __future__ import annotations

from datetime import datetime

import msgspec
import pytest

from contracts import asyncapi
from contracts.catalogue import ALL_EVENTS
from contracts.envelope import decode, encode
from contracts.registry import UserRegistered
from contracts.subjects import durable_name, stream_name


def test_checked_in_asyncapi_document_is_current() -> None:
    assert asyncapi.DOCUMENT_PATH.read_text(encoding="utf-8") == asyncapi.render(), "run `xciss asyncapi`"


def test_asyncapi_names_every_event_subject() -> None:
    doc = asyncapi.document()
    assert doc["asyncapi"].startswith("3.")
    assert {c["address"] for c in doc["channels"].values()} == {e.subject for e in ALL_EVENTS}


@pytest.mark.parametrize("event", ALL_EVENTS)
def test_subjects_follow_the_naming_rule(event) -> None:
    producer, aggregate, name, major = event.subject.split(".")
    assert producer in ("registry", "vouchers", "evaluation", "payments")
    assert major.startswith("v") and major[1:].isdigit()
    assert aggregate and name == name.lower()


def test_envelope_defaults_and_round_trip() -> None:
    e = UserRegistered(user_id="u", version=1, name="n", kind="enterprise", in_xuchang=True, verified=False)
    assert e.producer == "registry"
    assert e.occurred_at.tzinfo is not None
    assert len(e.event_id) == 36 and e.event_id[14] == "7"  # UUIDv7
    assert decode(encode(e), UserRegistered) == e
    with pytest.raises(msgspec.structs.FrozenInstanceError if hasattr(msgspec.structs, "FrozenInstanceError") else AttributeError):
        e.name = "x"  # type: ignore[misc]


def test_envelope_refuses_a_wrong_producer_or_naive_time() -> None:
    with pytest.raises(ValueError):
        UserRegistered(user_id="u", version=1, name="n", kind="enterprise", in_xuchang=True, verified=False, producer="vouchers")
    with pytest.raises(ValueError):
        UserRegistered(user_id="u", version=1, name="n", kind="enterprise", in_xuchang=True, verified=False, occurred_at=datetime(2026, 1, 1))


def test_consumers_ignore_fields_added_later() -> None:
    raw = encode(UserRegistered(user_id="u", version=1, name="n", kind="enterprise", in_xuchang=True, verified=False))
    newer = raw[:-1] + b',"added_in_a_later_minor":42}'
    assert decode(newer, UserRegistered).user_id == "u"


def test_durable_and_stream_names() -> None:
    assert durable_name("vouchers", "registry.user.verified.v1") == "vouchers-registry_user_verified-v1"
    assert stream_name("payments") == "PAYMENTS"
    with pytest.raises(ValueError):
        stream_name("gateway")


def test_partner_doc_lists_every_event() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[3] / "docs" / "events.md").read_text(encoding="utf-8")
    missing = [e.subject for e in ALL_EVENTS if f"`{e.subject}`" not in text]
    assert not missing, f"docs/events.md lacks {missing}"
