"""Conflict of interest between an expert and a claimant unit (R14(3)), the
same rule evaluation applies when it assigns experts to applications: no
expert reviews a unit they belong to, its parent or child unit (a college's
university, a university's colleges), or a unit they declared a tie to."""

from __future__ import annotations

from collections.abc import Iterable


def conflicting_units(related: Iterable[str], expert_unit: str | None, ties: Iterable[str]) -> list[str]:
    """The units of ``related`` (the claimant, its parent and children) that
    the expert belongs to or declared a tie to; empty when the expert may review."""
    own = {expert_unit} if expert_unit else set()
    return sorted(set(related) & (own | set(ties)))
