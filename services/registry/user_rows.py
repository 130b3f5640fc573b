"""A new user's row (R4), shared by the registration of a signed-in user or the
center (``parties.register_user``) and the self-service sign-up (``signup``)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from contracts.envelope import new_event_id
from services.registry.domain import identifiers
from services.registry.domain.parties import (
    SpecialClass,
    UserClass,
    UserKind,
    check_user_classes,
)
from services.runtime import clock
from services.runtime.errors import DomainError


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
