"""Where the computed part of a grade comes from.

The facts of a unit's year (:class:`Measures`) are counted from registry,
vouchers and payments events by ``services/evaluation/measures.py``
(``unit_measures(session, year, unit_ids=None) -> dict[str, Measures]``).
Grading asks :data:`MEASURES_SOURCE` for them, so tests can put their own
facts in its place. A unit the source knows nothing of has all-zero measures.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.domain.measures import Measures
from services.evaluation.measures import unit_measures

MeasuresSource = Callable[[AsyncSession, int, list[str] | None], Awaitable[dict[str, Measures]]]


#: the source grading uses: the facts counted from the events (tests may put their own in its place)
MEASURES_SOURCE: MeasuresSource = unit_measures


def current() -> MeasuresSource:
    """The configured source, looked up at call time (tests replace the module attribute)."""
    return MEASURES_SOURCE


async def measures_of(source: MeasuresSource, session: AsyncSession, year: int, unit_id: str) -> Measures:
    found = await source(session, year, [unit_id])
    return found.get(unit_id) or Measures(unit_id=unit_id, year=year)
