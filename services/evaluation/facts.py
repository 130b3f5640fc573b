"""Evaluation's facts: the consumers that record what registry, vouchers and
payments report about instruments, orders, settlements, ratings, vouchers and
affiliations, so that the yearly measures are computed, never typed in.

**The year a fact belongs to** is the policy year — the natural year in
Asia/Shanghai (:func:`services.runtime.clock.local_year`) — of the moment that
counts, stored on the row at ingest:

* an order's service (orders served, service hours, outside users): the time
  its results were delivered (``registry.order.results_delivered``);
* revenue and its voucher part: the settlement (``payments.settlement.completed``);
* a voucher order: the moment the voucher was deducted (``vouchers.voucher.used``);
* a rating: the time of the rating (``registry.order.rated``);
* a refused voucher: the refusal (``vouchers.voucher.refused``);
* an instrument: registered (earliest event seen), listed (its ``listed_on``
  date, already a local date) and retired years.

So 31 December 23:59:59 in Xuchang (15:59:59 UTC) is still that year and
00:00:00 on 1 January (16:00:00 UTC on 31 December) is the next.

Every handler is **idempotent** (the inbox drops redelivered events, and each
write is also an insert-if-absent or a conditional update) and **order
tolerant**: snapshots apply only when their ``version`` is newer, and the
facts of one event (delivery time and hours, the rating, the listing day) are
kept whatever order the events of an aggregate arrive in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import payments as pe
from contracts import registry as ev
from contracts import vouchers as ve
from services.evaluation.db.facts_models import (
    fact_affiliation,
    fact_delivery,
    fact_instrument,
    fact_order,
    fact_rating,
    fact_settlement,
    fact_voucher_refusal,
    fact_voucher_use,
)
from services.runtime.db.readmodel import insert_if_absent
from services.runtime.clock import local_year
from services.runtime.bus.consumers import Subscription
from services.runtime.db.unit_of_work import UnitOfWork

#: an instrument in this status has left the stock
RETIRED = "retired"


def hours_centi(hours: int, minutes: int | None = None) -> int:
    """An order's service hours in hundredths: from its minutes (the usage log's
    total, issue 16) rounded down when the event carries them, else the whole
    hours stated (events published before ``service_minutes``)."""
    return int(minutes) * 100 // 60 if minutes is not None else int(hours) * 100


# --------------------------------------------------------------------------- instruments


def _on_time_fallback(listed_on: date | None, deadline: date | None) -> bool | None:
    """What the registry's ``on_time`` says, for a listing learned from an event
    that does not carry the flag: by the deadline, or with no deadline at all."""
    if listed_on is None:
        return None
    return deadline is None or listed_on <= deadline


async def on_instrument(uow: UnitOfWork, e: ev.InstrumentSnapshot) -> None:
    s = uow.session
    listed_on: date | None = getattr(e, "listed_on", None)
    flag: bool | None = getattr(e, "on_time", None) if isinstance(e, ev.InstrumentListed) else None
    retired_year = local_year(e.occurred_at) if isinstance(e, ev.InstrumentRetired) else None
    snapshot = {
        "unit_id": e.unit_id,
        "category": e.category,
        "county_code": e.county_code,
        "funding": e.funding,
        "original_value_fen": e.original_value_fen,
        "must_list": e.must_list,
        "listing_deadline": e.listing_deadline,
        "status": e.status,
    }
    inserted = await insert_if_absent(
        s,
        fact_instrument,
        {
            "instrument_id": e.instrument_id,
            "version": e.version,
            **snapshot,
            "registered_at": e.occurred_at,
            "registered_year": local_year(e.occurred_at),
            "listed_on": listed_on,
            "listed_year": listed_on.year if listed_on else None,
            "on_time": flag if flag is not None else _on_time_fallback(listed_on, e.listing_deadline),
            "retired_year": retired_year,
        },
    )
    if inserted:
        return
    row = (await s.execute(select(fact_instrument).where(fact_instrument.c.instrument_id == e.instrument_id))).mappings().one()
    changes: dict[str, Any] = {}
    if e.version > row["version"]:
        changes.update(version=e.version, **snapshot)
    if e.occurred_at < row["registered_at"]:
        changes.update(registered_at=e.occurred_at, registered_year=local_year(e.occurred_at))
    if isinstance(e, ev.InstrumentListed) or (listed_on is not None and row["listed_on"] is None):
        changes.update(listed_on=listed_on, listed_year=listed_on.year if listed_on else None)
    if flag is not None:
        changes["on_time"] = flag
    elif row["on_time"] is None and listed_on is not None:
        deadline = changes.get("listing_deadline", row["listing_deadline"])
        changes["on_time"] = _on_time_fallback(listed_on, deadline)
    if retired_year is not None and row["retired_year"] is None:
        changes["retired_year"] = retired_year
    if changes:
        await s.execute(update(fact_instrument).where(fact_instrument.c.instrument_id == e.instrument_id).values(**changes))


# --------------------------------------------------------------------------- orders


async def on_order(uow: UnitOfWork, e: ev.OrderSnapshot) -> None:
    """Every order event: the versioned snapshot, plus the fact the event itself establishes."""
    s = uow.session
    snapshot = {
        "unit_id": e.unit_id,
        "user_id": e.user_id,
        "status": e.status,
        "amount_fen": e.amount_fen,
        "purpose": e.purpose,
        "primary_instrument_id": e.instrument_ids[0] if e.instrument_ids else None,
    }
    dated: dict[str, Any] = {}
    if isinstance(e, ev.OrderContracted):
        dated["contracted_year"] = local_year(e.occurred_at)
    elif isinstance(e, ev.OrderCancelled):
        dated["cancelled_year"] = local_year(e.occurred_at)
    inserted = await insert_if_absent(s, fact_order, {"order_id": e.order_id, "version": e.version, **snapshot, "contracted_year": None, "cancelled_year": None, **dated})
    if not inserted:
        await s.execute(update(fact_order).where(fact_order.c.order_id == e.order_id, fact_order.c.version < e.version).values(version=e.version, **snapshot))
        if dated:
            await s.execute(update(fact_order).where(fact_order.c.order_id == e.order_id).values(**dated))

    if isinstance(e, ev.OrderResultsDelivered):
        await insert_if_absent(
            s,
            fact_delivery,
            {
                "order_id": e.order_id,
                "unit_id": e.unit_id,
                "user_id": e.user_id,
                "primary_instrument_id": snapshot["primary_instrument_id"],
                "delivered_at": e.occurred_at,
                "year": local_year(e.occurred_at),
                "service_hours_centi": hours_centi(e.service_hours, e.service_minutes),
            },
        )
    elif isinstance(e, ev.OrderRated):
        await _rating(s, e)


async def _rating(s: AsyncSession, e: ev.OrderRated) -> None:
    values = {"unit_id": e.unit_id, "user_id": e.user_id, "rated_at": e.occurred_at, "year": local_year(e.occurred_at), "rating": e.rating}
    if not await insert_if_absent(s, fact_rating, {"order_id": e.order_id, **values}):
        # a later rating of the same order replaces an earlier one
        await s.execute(update(fact_rating).where(fact_rating.c.order_id == e.order_id, fact_rating.c.rated_at < e.occurred_at).values(**values))


# --------------------------------------------------------------------------- payments and vouchers


async def on_settlement(uow: UnitOfWork, e: pe.SettlementCompleted) -> None:
    await insert_if_absent(
        uow.session,
        fact_settlement,
        {
            "order_id": e.order_id,
            "settlement_id": e.settlement_id,
            "unit_id": e.unit_id,
            "user_id": e.user_id,
            "settled_at": e.occurred_at,
            "year": local_year(e.occurred_at),
            "fee_fen": e.fee_fen,
            "voucher_fen": e.voucher_fen,
            "voucher_id": e.voucher_id,
        },
    )


async def on_voucher_used(uow: UnitOfWork, e: ve.VoucherUsed) -> None:
    await insert_if_absent(
        uow.session,
        fact_voucher_use,
        {
            "voucher_id": e.voucher_id,
            "order_id": e.order_id,
            "unit_id": e.unit_id,
            "user_id": e.user_id,
            "used_at": e.occurred_at,
            "year": local_year(e.occurred_at),
            "amount_fen": e.amount_fen,
        },
    )


async def on_voucher_refused(uow: UnitOfWork, e: ve.VoucherRefused) -> None:
    await insert_if_absent(
        uow.session,
        fact_voucher_refusal,
        {
            "event_id": e.event_id,
            "voucher_id": e.voucher_id,
            "order_id": e.order_id,
            "unit_id": e.unit_id,
            "user_id": e.user_id,
            "refused_at": e.occurred_at,
            "year": local_year(e.occurred_at),
            "reason": e.reason[:500],
        },
    )


# --------------------------------------------------------------------------- affiliations


async def _affiliation(s: AsyncSession, e: ev.AffiliationSnapshot, column: str, at: datetime) -> None:
    base = {"affiliation_id": e.affiliation_id, "user_id": e.user_id, "unit_id": e.unit_id, "kind": e.kind, "recorded_at": None, "removed_at": None}
    if not await insert_if_absent(s, fact_affiliation, {**base, column: at}):
        col = fact_affiliation.c[column]
        await s.execute(update(fact_affiliation).where(fact_affiliation.c.affiliation_id == e.affiliation_id, col.is_(None)).values({column: at}))


async def on_affiliation_recorded(uow: UnitOfWork, e: ev.AffiliationRecorded) -> None:
    await _affiliation(uow.session, e, "recorded_at", e.occurred_at)


async def on_affiliation_removed(uow: UnitOfWork, e: ev.AffiliationRemoved) -> None:
    await _affiliation(uow.session, e, "removed_at", e.occurred_at)


def subscriptions() -> list[Subscription]:
    """What the facts consume (one durable per subject; unit events stay with
    :mod:`services.evaluation.readmodel`, whose ``unit_view`` the measures read;
    complaints and the usage log with :mod:`~services.evaluation.complaint_facts`
    and :mod:`~services.evaluation.usage_facts`; ``app.py`` lists them all)."""
    return [
        Subscription(ev.InstrumentRegistered, on_instrument),
        Subscription(ev.InstrumentListed, on_instrument),
        Subscription(ev.InstrumentChanged, on_instrument),
        Subscription(ev.InstrumentRetired, on_instrument),
        Subscription(ev.OrderContracted, on_order),
        Subscription(ev.OrderResultsDelivered, on_order),
        Subscription(ev.OrderSettled, on_order),
        Subscription(ev.OrderRated, on_order),
        Subscription(ev.OrderCancelled, on_order),
        Subscription(ev.AffiliationRecorded, on_affiliation_recorded),
        Subscription(ev.AffiliationRemoved, on_affiliation_removed),
        Subscription(ve.VoucherUsed, on_voucher_used),
        Subscription(ve.VoucherRefused, on_voucher_refused),
        Subscription(pe.SettlementCompleted, on_settlement),
    ]

