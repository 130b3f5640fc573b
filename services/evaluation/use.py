"""A unit's use figures for a year (运行使用, issue 16), per instrument, from
the usage log evaluation keeps (:mod:`services.evaluation.usage_facts`):
effective minutes (有效工作机时), minutes served to outside users (对外服务机时),
the sharing rate (outside ÷ effective, 0 when there was no use) and the idle
instruments (listed and in the stock at the year's end, no session in it).

The unit's totals here are the same numbers as its measures
(:func:`services.evaluation.measures.unit_measures`): one counting, two views.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from services.evaluation.db.facts_models import fact_instrument, fact_usage_year
from services.evaluation.measures import idle_instruments, instrument_stock, usage_columns
from services.evaluation.schemas import InstrumentUseOut, UnitUseOut
from services.runtime.db.service_db import ServiceDatabase

#: the sharing rate in basis points: 10000 = 100 %
WHOLE_BP = 10_000


def sharing_rate_bp(outside_minutes: int, effective_minutes: int) -> int:
    """Outside ÷ effective in basis points, rounded down; 0 when there was no use."""
    return outside_minutes * WHOLE_BP // effective_minutes if effective_minutes > 0 else 0


@dataclass
class InstrumentUse:
    instrument_id: str
    listed: bool = False
    effective_minutes: int = 0
    outside_minutes: int = 0
    idle: bool = False


@dataclass
class UnitUse:
    unit_id: str
    year: int
    instruments: list[InstrumentUse] = field(default_factory=list)

    @property
    def effective_minutes(self) -> int:
        return sum(i.effective_minutes for i in self.instruments)

    @property
    def outside_minutes(self) -> int:
        return sum(i.outside_minutes for i in self.instruments)

    @property
    def idle_instrument_ids(self) -> list[str]:
        return [i.instrument_id for i in self.instruments if i.idle]


async def unit_use(db: ServiceDatabase, year: int, unit_id: str) -> UnitUseOut:
    """The unit's use in ``year``: its totals, sharing rate and idle instruments, and each instrument."""
    u = await counted(db, year, unit_id)
    return UnitUseOut(
        unit_id=unit_id,
        year=year,
        effective_minutes=u.effective_minutes,
        outside_minutes=u.outside_minutes,
        sharing_rate_bp=sharing_rate_bp(u.outside_minutes, u.effective_minutes),
        idle_instrument_ids=u.idle_instrument_ids,
        instruments=[InstrumentUseOut(**vars(i)) for i in u.instruments],
    )


async def counted(db: ServiceDatabase, year: int, unit_id: str) -> UnitUse:
    """The unit's instruments in the stock at the end of ``year`` (and any other
    instrument of it that was used in the year), each with its minutes."""
    i, u = fact_instrument.c, fact_usage_year.c
    rows: dict[str, InstrumentUse] = {}
    async with db.read() as s:
        stock = select(i.instrument_id, i.listed_year).where(i.unit_id == unit_id, instrument_stock(year))
        for iid, listed_year in (await s.execute(stock)).all():
            rows[iid] = InstrumentUse(instrument_id=iid, listed=listed_year is not None and listed_year <= year)
        used = select(u.instrument_id, *usage_columns()).where(u.year == year, u.unit_id == unit_id).group_by(u.instrument_id)
        for r in (await s.execute(used)).mappings():
            row = rows.setdefault(r["instrument_id"], InstrumentUse(instrument_id=r["instrument_id"]))
            row.effective_minutes, row.outside_minutes = int(r["effective_minutes"]), int(r["outside_minutes"])
        idle = select(i.instrument_id).where(i.unit_id == unit_id, idle_instruments(year))
        for (iid,) in (await s.execute(idle)).all():
            rows[iid].idle = True
    return UnitUse(unit_id=unit_id, year=year, instruments=[rows[k] for k in sorted(rows)])
