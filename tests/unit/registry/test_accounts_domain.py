"""The password policy and who may create which account (three-officer separation)."""

from __future__ import annotations

import pytest

from services.registry.domain.accounts import WeakPassword, check_new_account, check_password, password_problems
from services.runtime.roles import Role
from services.runtime.errors import DomainError, Forbidden


@pytest.mark.parametrize(
    ("password", "rules"),
    [
        ("Abcdefg12!", []),  # exactly 10 characters, four classes
        ("Abcdefg12", ["too_short"]),  # 9
        ("abcdefgh12", ["too_few_classes"]),  # two classes
        ("abcdefgh1!", []),  # three classes: lower, digit, symbol
        ("ABCDEFGH1!", []),
        ("xx-Wang.Li-2026", ["contains_username"]),
        ("A" * 60 + "b1" * 40, ["too_long"]),
    ],
)
def test_password_policy_edges(password: str, rules: list[str]) -> None:
    assert password_problems(password, "wang.li") == rules


def test_weak_password_names_the_field_in_both_languages() -> None:
    with pytest.raises(WeakPassword) as err:
        check_password("short", "someone", field="new_password")
    assert err.value.code == "password.weak" and err.value.details == {"field": "new_password", "rules": ["too_short", "too_few_classes"]}
    assert "new_password" in err.value.message_en and "new_password" in err.value.message_zh and "密码" in err.value.message_zh


@pytest.mark.parametrize("role", [Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR])
def test_sysadmin_creates_no_officer(role: Role) -> None:
    with pytest.raises(Forbidden):
        check_new_account("sysadmin", role, None)
    check_new_account("operator", role, None)  # the operator's command does


def test_nobody_creates_service_accounts_and_org_roles_need_an_org() -> None:
    for creator in ("sysadmin", "operator"):
        with pytest.raises(DomainError, match="no login account"):
            check_new_account(creator, Role.SERVICE, None)
    with pytest.raises(DomainError) as err:
        check_new_account("sysadmin", Role.UNIT, None)
    assert err.value.code == "account.org_required"
    check_new_account("sysadmin", Role.UNIT, "unit-1")
    check_new_account("sysadmin", Role.CENTER, None)
    for other in ("secadmin", "auditor", "center", "bureau"):
        with pytest.raises(Forbidden):
            check_new_account(other, Role.CENTER, None)
