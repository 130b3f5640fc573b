"""Computing every unit's :class:`Measures` for a year from the facts, in a
fixed number of set-based queries (one ``GROUP BY unit_id`` per fact table),
whatever the number of units.

**Which year a record counts in.** The policy year is the natural year in
Asia/Shanghai. Each fact row stores, at ingest, the local year of the event
time that counts for it (:mod:`services.evaluation.facts`): results delivery
for orders served, service hours and outside users; the settlement for revenue
and its voucher part; the deduction of the voucher for voucher orders; the
rating for ratings; the refusal for refused vouchers; the signing for
contracts. An event at 31 December 23:59:59 local time (15:59:59 UTC) counts in
that year, one at 1 January 00:00:00 local time (16:00:00 UTC the day before)
in the next. The queries here are plain ``year = :y`` filters.

**Instruments** are a stock, not a flow: an instrument counts in year Y when
it was registered by the end of Y and not retired by then; it is *listed* in Y
when its ``listed_on`` day is in Y or earlier, *on time* when the registry
said it was listed by its deadline (M11(3)), and *overdue* when it must be
listed, was not listed by the end of Y and its deadline fell in Y or before.

**Outside users** (R26) are the distinct users whose results were delivered
in Y and who had no recorded tie with the unit in force at the moment of
delivery (recorded at or before it, not removed by then).

**Use** (运行使用, issue 16) comes from the registry's usage log, not from
hours typed in: effective minutes (有效工作机时) are every session's minutes in
the year, outside minutes (对外服务机时) those of outside sessions; a session
crossing local new year is split at it (:mod:`services.evaluation.domain.usage_years`).
An instrument is *idle* in Y when it is listed and in the stock at the end of
Y and has no session in Y.

**Complaints** (M11(6)) are those the center upheld (``registry.complaint.upheld``),
counted in the year the complaint was filed, which the event states.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.db.facts_models import (
    fact_affiliation,
    fact_complaint,
    fact_delivery,
    fact_instrument,
    fact_order,
    fact_rating,
    fact_settlement,
    fact_usage_year,
    fact_voucher_refusal,
    fact_voucher_use,
)
from services.evaluation.db.models import unit_view
from services.evaluation.domain.measures import Measures

#: beyond this many requested units the query runs for all and filters after
#: (a long IN list costs more than a few hundred extra rows)
_IN_LIMIT = 500


def _sum_if(cond: Any, value: Any = 1) -> Any:
    return func.coalesce(func.sum(case((cond, value), else_=0)), 0)


def instrument_stock(year: int) -> Any:
    """The instruments in the stock at the end of ``year``."""
    i = fact_instrument.c
    return and_(i.registered_year <= year, or_(i.retired_year.is_(None), i.retired_year > year))


def instrument_columns(year: int) -> list[Any]:
    """Aggregates over :func:`instrument_stock` rows, named like Measures fields."""
    i = fact_instrument.c
    listed = and_(i.listed_year.is_not(None), i.listed_year <= year)
    return [
        _sum_if(i.must_list).label("instruments_must_list"),
        _sum_if(and_(i.must_list, listed)).label("instruments_listed"),
        _sum_if(and_(i.must_list, listed, i.on_time.is_(True))).label("instruments_listed_on_time"),
        _sum_if(and_(~i.must_list, listed)).label("instruments_listed_voluntarily"),
        _sum_if(listed, i.original_value_fen).label("listed_value_fen"),
        _sum_if(and_(i.must_list, ~listed, i.listing_deadline.is_not(None), i.listing_deadline <= date(year, 12, 31))).label("instruments_overdue"),
    ]


def delivery_columns() -> list[Any]:
    d = fact_delivery.c
    return [
        func.count().label("orders_served"),
        func.coalesce(func.sum(d.service_hours_centi), 0).label("service_hours_centi"),
        func.count(func.distinct(d.user_id)).label("users_served"),
    ]


def tied_users_query(year: int) -> Select[Any]:
    """Per unit, the users served in ``year`` every one of whose deliveries fell
    inside a tie with the unit (recorded at or before it, not removed by then).

    Driven by the ties (few), probing the deliveries by (year, unit, user), so
    the cost does not grow with the deliveries of untied users; outside users
    are then the unit's distinct users minus these."""
    a, d = fact_affiliation.c, fact_delivery.c
    pairs = select(a.unit_id, a.user_id).distinct().subquery("pairs")
    d2 = fact_delivery.alias("d2")
    a2 = fact_affiliation.alias("a2")
    covered = exists(
        select(literal(1))
        .select_from(a2)
        .where(
            a2.c.unit_id == d2.c.unit_id,
            a2.c.user_id == d2.c.user_id,
            or_(a2.c.recorded_at.is_(None), a2.c.recorded_at <= d2.c.delivered_at),
            or_(a2.c.removed_at.is_(None), a2.c.removed_at > d2.c.delivered_at),
        )
    )
    served = exists(select(literal(1)).select_from(fact_delivery).where(d.year == year, d.unit_id == pairs.c.unit_id, d.user_id == pairs.c.user_id))
    uncovered = exists(
        select(literal(1)).select_from(d2).where(d2.c.year == year, d2.c.unit_id == pairs.c.unit_id, d2.c.user_id == pairs.c.user_id, ~covered)
    )
    return select(pairs.c.unit_id, func.count().label("tied_users")).where(served, ~uncovered).group_by(pairs.c.unit_id)


def usage_columns() -> list[Any]:
    """有效工作机时 and 对外服务机时 in minutes, over ``fact_usage_year`` rows."""
    u = fact_usage_year.c
    return [func.coalesce(func.sum(u.minutes), 0).label("effective_minutes"), _sum_if(u.kind == "outside", u.minutes).label("outside_minutes")]


def idle_instruments(year: int) -> Any:
    """Listed instruments in the stock at the end of ``year`` without a session of use in it."""
    i, u = fact_instrument.c, fact_usage_year.c
    used = exists(select(literal(1)).select_from(fact_usage_year).where(u.year == year, u.instrument_id == i.instrument_id))
    return and_(instrument_stock(year), i.listed_year.is_not(None), i.listed_year <= year, ~used)


def settlement_columns() -> list[Any]:
    s = fact_settlement.c
    return [func.coalesce(func.sum(s.fee_fen), 0).label("revenue_fen"), func.coalesce(func.sum(s.voucher_fen), 0).label("revenue_voucher_fen")]


def rating_columns() -> list[Any]:
    r = fact_rating.c
    return [func.count().label("ratings_count"), func.coalesce(func.sum(r.rating), 0).label("ratings_sum")]


def _queries(year: int) -> list[Select[Any]]:
    """One grouped query per fact table, each ``(unit_id, <Measures fields>...)``."""
    o = fact_order.c
    return [
        select(fact_instrument.c.unit_id, *instrument_columns(year)).where(instrument_stock(year)).group_by(fact_instrument.c.unit_id),
        select(fact_delivery.c.unit_id, *delivery_columns()).where(fact_delivery.c.year == year).group_by(fact_delivery.c.unit_id),
        tied_users_query(year),
        select(fact_usage_year.c.unit_id, *usage_columns()).where(fact_usage_year.c.year == year).group_by(fact_usage_year.c.unit_id),
        select(fact_instrument.c.unit_id, func.count().label("instruments_idle")).where(idle_instruments(year)).group_by(fact_instrument.c.unit_id),
        select(fact_settlement.c.unit_id, *settlement_columns()).where(fact_settlement.c.year == year).group_by(fact_settlement.c.unit_id),
        select(fact_rating.c.unit_id, *rating_columns()).where(fact_rating.c.year == year).group_by(fact_rating.c.unit_id),
        select(fact_voucher_use.c.unit_id, func.count().label("voucher_orders")).where(fact_voucher_use.c.year == year).group_by(fact_voucher_use.c.unit_id),
        select(fact_voucher_refusal.c.unit_id, func.count().label("vouchers_refused"))
        .where(fact_voucher_refusal.c.year == year)
        .group_by(fact_voucher_refusal.c.unit_id),
        select(o.unit_id, func.count().label("orders_contracted")).where(o.contracted_year == year, o.cancelled_year.is_(None)).group_by(o.unit_id),
        select(fact_complaint.c.unit_id, func.count().label("complaints")).where(fact_complaint.c.year == year).group_by(fact_complaint.c.unit_id),
    ]


async def unit_measures(session: AsyncSession, year: int, unit_ids: Sequence[str] | None = None) -> dict[str, Measures]:
    """Every unit's measures for ``year``: the units evaluation knows
    (``unit_view``) and any unit that has facts in the year — or exactly the
    given ``unit_ids`` (zeros for a unit without facts). Keyed and ordered by
    unit id."""
    wanted = list(dict.fromkeys(unit_ids)) if unit_ids is not None else None
    narrow = wanted is not None and len(wanted) <= _IN_LIMIT
    values: dict[str, dict[str, int]] = {}
    if wanted is not None:
        for u in wanted:
            values[u] = {}
    else:
        for (u,) in (await session.execute(select(unit_view.c.unit_id))).all():
            values[u] = {}
    for q in _queries(year):
        if narrow:
            q = q.where(q.selected_columns[0].in_(wanted))  # type: ignore[union-attr]
        for row in (await session.execute(q)).mappings():
            u = row["unit_id"]
            if wanted is not None and u not in values:
                continue
            target = values.setdefault(u, {})
            for k, v in row.items():
                if k != "unit_id":
                    target[k] = int(v or 0)
    out = {}
    for u in sorted(values):
        v = values[u]
        v["outside_users_served"] = v.pop("users_served", 0) - v.pop("tied_users", 0)
        out[u] = Measures(unit_id=u, year=year, **v)
    return out


def add(a: dict[str, int], m: Measures) -> None:
    """Add a unit's integer measures into a running total (reports)."""
    for f in Measures.__struct_fields__:
        if f in ("unit_id", "year"):
            continue
        a[f] = a.get(f, 0) + getattr(m, f)


def measure_fields() -> tuple[str, ...]:
    """The summable fields of :class:`Measures`, in declaration order."""
    return tuple(f for f in Measures.__struct_fields__ if f not in ("unit_id", "year"))
