"""Who holds a credit code (统一社会信用代码) among users (R4), and which
units share a user's code (R26: the user is those units).

A code does not lock its real owner out: a second registration of a code
another (not rejected) user already gave is accepted, unverified, with
``duplicate_of`` naming that user, and waits for the center. The center
verifies the one that is really the enterprise and rejects the other; at
most one *verified* user holds a code (a partial unique index backs it), so
the center must reject a wrongly verified holder before it verifies the
real one. A rejected user holds nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from services.registry.db.party_models import units, users
from services.runtime.errors import Conflict

PENDING = "pending"
VERIFIED = "verified"
REJECTED = "rejected"


def status_of(row: RowMapping | dict[str, Any]) -> str:
    if row.get("rejected_at") is not None:
        return REJECTED
    return VERIFIED if row["verified"] else PENDING


async def holder(s: Any, credit_code: str | None, *, verified_only: bool = False, other_than: str | None = None) -> str | None:
    """The earliest registered user (not rejected) that gave ``credit_code``; only a verified one with ``verified_only``."""
    if not credit_code:
        return None
    q = select(users.c.id).where(users.c.credit_code == credit_code, users.c.rejected_at.is_(None))
    if verified_only:
        q = q.where(users.c.verified.is_(True))
    if other_than is not None:
        q = q.where(users.c.id != other_than)
    return (await s.execute(q.order_by(users.c.created_at, users.c.id).limit(1))).scalar_one_or_none()


async def units_of(s: Any, credit_code: str | None) -> list[str]:
    """The units that gave ``credit_code`` (a university and its colleges, R13,
    share one): a user with that code *is* those units (R26 隶属) and gets no
    voucher on their services."""
    if not credit_code:
        return []
    return list((await s.execute(select(units.c.id).where(units.c.credit_code == credit_code).order_by(units.c.id))).scalars())


def code_held(credit_code: str | None, holder_id: str | None = None) -> Conflict:
    extra = {"holder": holder_id} if holder_id else {}
    code = f" {credit_code} " if credit_code else ""
    return Conflict(
        "user.credit_code_verified",
        f"统一社会信用代码{code}已由另一已审核用户持有；如其并非该企业，请先驳回该用户",
        f"the credit code{code.rstrip()} is held by another verified user; reject that user first if it is not the enterprise",
        **extra,
    )
