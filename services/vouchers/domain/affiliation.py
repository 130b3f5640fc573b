"""R26 隶属: whether a user is affiliated with the unit it buys from. Pure.

A party is its unified social credit code, not the account it registered
under: a user whose credit code is the unit's (a university registered as a
user buying from itself), its parent unit's (a university buying from its own
college, R13) or one of its colleges' (a college buying from its university)
*is* that unit, and gets no voucher on it. A tie the registry recorded
(subordination, co-construction, property rights) with the unit, its parent
or one of its colleges counts the same way. An unrelated party never matches:
a missing credit code (a start-up team registers without one) matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import msgspec


class UnitNode(msgspec.Struct, frozen=True, kw_only=True):
    """A unit as the check sees it: its id, credit code and parent unit."""

    unit_id: str
    credit_code: str | None = None
    parent_unit_id: str | None = None


class Affiliation(StrEnum):
    """Why a user and a unit are one party for R26."""

    SAME_CREDIT_CODE = "same_credit_code"  # the user is the unit, its parent or its college
    RECORDED_TIE = "recorded_tie"  # a tie the registry recorded with one of them


def family(unit: UnitNode, others: Iterable[UnitNode]) -> list[UnitNode]:
    """The unit, its parent unit and its child units (colleges), from ``others``."""
    out = {unit.unit_id: unit}
    for o in others:
        if o.unit_id == unit.parent_unit_id or o.parent_unit_id == unit.unit_id:
            out.setdefault(o.unit_id, o)
    return list(out.values())


def affiliation(*, user_credit_code: str | None, tied_unit_ids: Iterable[str], unit: UnitNode, others: Iterable[UnitNode] = ()) -> Affiliation | None:
    """Why the user counts as the unit (R26), or None when it does not.

    ``others`` may hold any units (the check keeps the unit's parent and
    children); the parent is counted by id even when its row is missing."""
    related = family(unit, others)
    ids = {n.unit_id for n in related}
    if unit.parent_unit_id:
        ids.add(unit.parent_unit_id)
    code = (user_credit_code or "").strip().upper()
    if code and any((n.credit_code or "").strip().upper() == code for n in related):
        return Affiliation.SAME_CREDIT_CODE
    if ids & set(tied_unit_ids):
        return Affiliation.RECORDED_TIE
    return None


def affiliated(*, user_credit_code: str | None, tied_unit_ids: Iterable[str], unit: UnitNode, others: Iterable[UnitNode] = ()) -> bool:
    """True when the user may get no voucher on the unit's service (R26)."""
    return affiliation(user_credit_code=user_credit_code, tied_unit_ids=tied_unit_ids, unit=unit, others=others) is not None
