"""The pure rules of sign-up and password reset (issue 17): contact details at
their edges, and a reset token's single use and lifetime to the second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.registry.domain import recovery
from services.runtime.errors import DomainError


def field_of(call, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value.code, caught.value.details["field"]


def test_a_phone_or_an_email_is_needed_and_each_is_checked() -> None:
    assert recovery.clean_contact("王经理", "138 0013 8000", None) == ("王经理", "13800138000", None)
    assert recovery.clean_contact("王经理", "+8613800138000", "") == ("王经理", "13800138000", None)
    assert recovery.clean_contact("王经理", "0374-1234567", None)[1] == "0374-1234567"
    assert recovery.clean_contact("王经理", None, "Wang@Example.CN") == ("王经理", None, "wang@example.cn")
    assert field_of(recovery.clean_contact, "王经理", " ", " ") == ("signup.contact_required", "email")
    assert field_of(recovery.clean_contact, "王经理", "1380013800", None) == ("signup.invalid_phone", "phone")  # 10 digits
    assert field_of(recovery.clean_contact, "王经理", "12800138000", None) == ("signup.invalid_phone", "phone")  # no 12x mobiles
    assert field_of(recovery.clean_contact, "王经理", None, "wang@example") == ("signup.invalid_email", "email")
    assert field_of(recovery.clean_contact, "王", "13800138000", None) == ("signup.field_required", "contact_name")


def test_usernames_as_the_account_rules_have_them() -> None:
    assert recovery.clean_username("  QiYe.01 ") == "qiye.01"
    assert field_of(recovery.clean_username, "ab") == ("signup.invalid_username", "username")
    assert field_of(recovery.clean_username, "") == ("signup.field_required", "username")
    assert field_of(recovery.clean_username, "qi ye") == ("signup.invalid_username", "username")


def test_a_token_works_once_until_its_moment() -> None:
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    expires = recovery.token_expiry(now, 30)
    assert expires - now == timedelta(minutes=30)
    assert recovery.token_usable(expires, None, expires - timedelta(microseconds=1))
    assert not recovery.token_usable(expires, None, expires)  # expired at its moment
    assert not recovery.token_usable(expires, now, now)  # used
    token = recovery.new_token()
    assert len(token) >= 43 and recovery.token_digest(token) != token and len(recovery.token_digest(token)) == 64
    assert recovery.new_token() != token
