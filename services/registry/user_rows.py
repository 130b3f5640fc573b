"""A user's row (R4): a new one, shared by the registration of a signed-in user
or the center (``parties.register_user``) and the self-service sign-up
(``signup``); the record the API answers with (``user_view``) and the state its
events carry (``user_snapshot``)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import msgspec
from sqlalchemy.engine import RowMapping

from contracts.envelope import new_event_id
from services.registry import credit_codes as codes
from services.registry.domain import identifiers
from services.registry.domain.parties import (
    SpecialClass,
    UserClass,
    UserKind,
    check_user_classes,
)
from services.registry.schemas.users import User
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.errors import DomainError

def user_snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """The user's state as its events carry it."""
    return {
        "user_id": row["id"],
        "version": row["version"],
        "name": row["name"],
        "kind": row["kind"],
        "credit_code": row["credit_code"],
        "classes": list(row["classes"]),
        "special_classes": list(row["special_classes"]),
        "in_xuchang": row["in_xuchang"],
        "verified": row["verified"],
        "sound_finances": row["sound_finances"],
    }


def user_view(row: RowMapping | dict[str, Any]) -> User:
    """A user as the API shows it: its state, the team leader (masked), the review state
    (``same_party_units`` is read with one user: ``user_review.user_with_units``)."""
    return User(
        user_id=row["id"],
        version=row["version"],
        name=row["name"],
        kind=row["kind"],
        credit_code=row["credit_code"],
        classes=list(row["classes"]),
        special_classes=list(row["special_classes"]),
        in_xuchang=row["in_xuchang"],
        verified=row["verified"],
        sound_finances=row["sound_finances"],
        leader_name=row["leader_name"],
        leader_id_masked=row["leader_id_masked"],
        status=codes.status_of(row),
        duplicate_of=row.get("duplicate_of"),
        rejection_reason=row.get("rejection_reason"),
    )


def as_seen(user: User, *, by_staff: bool) -> User:
    """The user as its caller sees it: another user's id (``duplicate_of``) and the units
    sharing its credit code (``same_party_units``) are for the center and the bureau only."""
    return user if by_staff else msgspec.structs.replace(user, duplicate_of=None, same_party_units=[])


def user_image(user: User) -> dict[str, Any]:
    """The user as its audit rows keep it: the record without ``same_party_units``
    (read with one user, not the user's own state)."""
    return audit_image(user, leave_out=("same_party_units",))


def _leader_digest(key: str, id_number: str) -> str:
    return hmac.new(key.encode(), id_number.encode(), hashlib.sha256).hexdigest()


def _mask_id(id_number: str) -> str:
    return f"{id_number[:3]}{'*' * (len(id_number) - 7)}{id_number[-4:]}"


def new_user_row(
    *,
    pii_key: str,
    city_prefix: str,
    name: str,
    kind: UserKind,
    credit_code: str | None,
    classes: list[UserClass],
    special_classes: list[SpecialClass],
    leader_name: str | None,
    leader_id_number: str | None,
    incubator_credit_code: str | None,
) -> dict[str, Any]:
    """A new user's row, checked (R4): an enterprise by its credit code, a team by its
    leader (kept as a keyed digest and a mask) and its incubator's credit code."""
    check_user_classes(kind, classes, special_classes)
    now = clock.utc_now()
    row: dict[str, Any] = {
        "id": new_event_id(),
        "name": name,
        "kind": str(kind),
        "credit_code": None,
        "leader_name": None,
        "leader_id_digest": None,
        "leader_id_masked": None,
        "incubator_credit_code": None,
        "classes": [str(c) for c in classes],
        "special_classes": [str(c) for c in special_classes],
        "verified": False,
        "sound_finances": True,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    if kind is UserKind.ENTERPRISE:
        if not credit_code:
            raise DomainError(
                "user.credit_code_required", "企业用户必须填写统一社会信用代码", "an enterprise needs its credit code", field="credit_code"
            )
        row["credit_code"] = identifiers.validate_credit_code(credit_code)
        row["in_xuchang"] = identifiers.registered_in(row["credit_code"], city_prefix)
    else:
        # a team registers through its leader's identity and its incubator (R4)
        if not (leader_name and leader_id_number and incubator_credit_code):
            raise DomainError(
                "user.team_fields_required",
                "创新创业团队须填写负责人姓名、身份证号和认定孵化载体的信用代码",
                "a team needs its leader's name and identity number and its incubator's credit code",
            )
        id_number = identifiers.validate_resident_id(leader_id_number)
        row["leader_name"] = leader_name
        row["leader_id_digest"] = _leader_digest(pii_key, id_number)
        row["leader_id_masked"] = _mask_id(id_number)
        row["incubator_credit_code"] = identifiers.validate_credit_code(incubator_credit_code, field="incubator_credit_code")
        row["in_xuchang"] = identifiers.registered_in(row["incubator_credit_code"], city_prefix)
    return row
