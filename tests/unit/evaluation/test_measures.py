"""The facts handlers and the yearly measures on a real SQLite database, no
bus: the year a record counts in (Asia/Shanghai), order tolerance,
idempotence, and every measure against the events that produced it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts import payments as pe
from contracts import registry as ev
from contracts import vouchers as ve
from contracts.envelope import Event
from services.evaluation import facts, readmodel
from services.evaluation.app import SPEC
from services.runtime.clock import local_year
from services.runtime.db.service_db import ServiceDatabase
from tests.support.evaluation_facts import feed, measures
from tests.support.vouchers import uid

#: 31 December 2025, 23:59:59 in Xuchang, and the first second of 2026 there
LAST_SECOND_2025 = datetime(2025, 12, 31, 15, 59, 59, tzinfo=UTC)
FIRST_SECOND_2026 = datetime(2025, 12, 31, 16, 0, 0, tzinfo=UTC)
MID_2026 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def unit(unit_id: str, *, county: str = "411002", department: str | None = "市科技局", version: int = 2) -> ev.UnitApproved:
    return ev.UnitApproved(unit_id=unit_id, version=version, name=f"单位{unit_id[:4]}", credit_code="12410000MB0000000X", kind="university", county_code=county, department=department, status="approved")


def order_fields(order_id: str, unit_id: str, user_id: str, version: int, status: str, instrument: str | None = None) -> dict[str, Any]:
    return dict(order_id=order_id, version=version, user_id=user_id, unit_id=unit_id, instrument_ids=[instrument or uid()], status=status, amount_fen=100_000, testing_fee_fen=100_000, purpose="research")


def delivered(order_id: str, unit_id: str, user_id: str, at: datetime, hours: int = 4, instrument: str | None = None) -> ev.OrderResultsDelivered:
    return ev.OrderResultsDelivered(**order_fields(order_id, unit_id, user_id, 5, "results_delivered", instrument), service_hours=hours, occurred_at=at)


def settled(order_id: str, unit_id: str, user_id: str, at: datetime, fee: int = 100_000, voucher: int = 0) -> pe.SettlementCompleted:
    return pe.SettlementCompleted(settlement_id=uid(), order_id=order_id, user_id=user_id, unit_id=unit_id, fee_fen=fee, voucher_fen=voucher, payable_fen=fee - voucher, occurred_at=at)


def rated(order_id: str, unit_id: str, user_id: str, at: datetime, rating: int = 5) -> ev.OrderRated:
    return ev.OrderRated(**order_fields(order_id, unit_id, user_id, 7, "rated"), rating=rating, occurred_at=at)


def voucher(cls: type, order_id: str, unit_id: str, user_id: str, at: datetime, amount: int = 30_000, **kw: Any) -> Any:
    return cls(voucher_id=uid(), application_id=uid(), user_id=user_id, unit_id=unit_id, order_id=order_id, year=local_year(at), amount_fen=amount,
               expires_at=datetime(local_year(at), 12, 31, 16, tzinfo=UTC), status="used", occurred_at=at, **kw)


def instrument(cls: type, iid: str, unit_id: str, version: int, at: datetime, *, must_list: bool = True, deadline: date | None = date(2026, 3, 1),
               status: str = "in_service", value: int = 20_000_000, category: str = "分析仪器", **kw: Any) -> Any:
    return cls(instrument_id=iid, unit_id=unit_id, version=version, name="液相色谱仪", category=category, county_code="411002", funding="fiscal_full" if must_list else "non_fiscal",
               original_value_fen=value, must_list=must_list, listing_deadline=deadline if must_list else None, status=status, occurred_at=at, **kw)


# --------------------------------------------------------------------------- the year rule


@pytest.mark.parametrize(("at", "year"), [(LAST_SECOND_2025, 2025), (FIRST_SECOND_2026, 2026)])
def test_the_policy_year_turns_at_midnight_in_xuchang(at: datetime, year: int) -> None:
    assert local_year(at) == year


async def test_a_service_at_the_last_second_of_the_year_counts_in_that_year(db: ServiceDatabase) -> None:
    u, a, b = uid(), uid(), uid()
    o1, o2 = uid(), uid()
    await feed(
        db,
        unit(u),
        delivered(o1, u, a, LAST_SECOND_2025, hours=3),
        delivered(o2, u, b, FIRST_SECOND_2026, hours=5),
        settled(o1, u, a, LAST_SECOND_2025, fee=70_000),
        settled(o2, u, b, FIRST_SECOND_2026, fee=90_000),
        rated(o1, u, a, LAST_SECOND_2025, rating=4),
        rated(o2, u, b, FIRST_SECOND_2026, rating=5),
    )
    m25, m26 = (await measures(db, 2025))[u], (await measures(db, 2026))[u]
    assert (m25.orders_served, m25.service_hours_centi, m25.revenue_fen, m25.ratings_count, m25.ratings_sum) == (1, 300, 70_000, 1, 4)
    assert (m26.orders_served, m26.service_hours_centi, m26.revenue_fen, m26.ratings_count, m26.ratings_sum) == (1, 500, 90_000, 1, 5)


async def test_each_record_counts_in_the_year_of_its_own_event(db: ServiceDatabase) -> None:
    """Delivered in December, settled and rated in January: the service in
    one year, the revenue and the rating in the next."""
    u, a, o = uid(), uid(), uid()
    await feed(db, unit(u), delivered(o, u, a, LAST_SECOND_2025), settled(o, u, a, FIRST_SECOND_2026 + timedelta(days=2), fee=50_000), rated(o, u, a, FIRST_SECOND_2026 + timedelta(days=3)))
    m25, m26 = (await measures(db, 2025))[u], (await measures(db, 2026))[u]
    assert (m25.orders_served, m25.revenue_fen, m25.ratings_count) == (1, 0, 0)
    assert (m26.orders_served, m26.revenue_fen, m26.ratings_count) == (0, 50_000, 1)


# --------------------------------------------------------------------------- measures


async def test_orders_hours_revenue_vouchers_ratings_and_refusals(db: ServiceDatabase) -> None:
    u, other = uid(), uid()
    users = [uid() for _ in range(3)]
    orders = [uid() for _ in range(4)]
    events: list[Event] = [unit(u), unit(other)]
    # four orders, three distinct users (the first user twice)
    for o, user, hours in zip(orders, [users[0], users[0], users[1], users[2]], [2, 3, 4, 5], strict=True):
        events.append(ev.OrderContracted(**order_fields(o, u, user, 3, "contracted"), occurred_at=MID_2026 - timedelta(days=10)))
        events.append(delivered(o, u, user, MID_2026, hours=hours))
    events += [
        settled(orders[0], u, users[0], MID_2026, fee=1_000_000, voucher=300_000),
        settled(orders[1], u, users[0], MID_2026, fee=200_000),
        voucher(ve.VoucherUsed, orders[0], u, users[0], MID_2026, amount=300_000),
        rated(orders[0], u, users[0], MID_2026, rating=5),
        rated(orders[1], u, users[0], MID_2026, rating=3),
        voucher(ve.VoucherRefused, orders[2], u, users[1], MID_2026, reason="设备检修"),
        voucher(ve.VoucherRefused, orders[2], u, users[1], MID_2026 + timedelta(days=1), reason="设备检修"),
        ev.OrderCancelled(**order_fields(orders[3], u, users[2], 9, "cancelled"), reason="用户撤回", occurred_at=MID_2026),
        # another unit's service does not count here
        delivered(uid(), other, users[0], MID_2026, hours=9),
    ]
    await feed(db, *events)
    m = (await measures(db, 2026))[u]
    assert m.orders_served == 4
    assert m.service_hours_centi == (2 + 3 + 4 + 5) * 100
    assert m.outside_users_served == 3
    assert m.orders_contracted == 3  # the cancelled one no longer counts
    assert (m.revenue_fen, m.revenue_voucher_fen, m.voucher_orders) == (1_200_000, 300_000, 1)
    assert (m.ratings_count, m.ratings_sum) == (2, 8)
    assert m.vouchers_refused == 2
    assert m.complaints == 0
    assert (await measures(db, 2026))[other].orders_served == 1


async def test_outside_users_exclude_ties_in_force_when_served(db: ServiceDatabase) -> None:
    u, tied, untied_later, removed, outsider = uid(), uid(), uid(), uid(), uid()
    before, after = MID_2026 - timedelta(days=30), MID_2026 + timedelta(days=30)
    aff_removed = uid()
    await feed(
        db,
        unit(u),
        # the removal arrives before the recording (different subjects)
        ev.AffiliationRemoved(affiliation_id=aff_removed, user_id=removed, unit_id=u, kind="co_construction", reason="合作结束", occurred_at=before + timedelta(days=1)),
        ev.AffiliationRecorded(affiliation_id=aff_removed, user_id=removed, unit_id=u, kind="co_construction", source="recorded_by_reviewer", occurred_at=before),
        ev.AffiliationRecorded(affiliation_id=uid(), user_id=tied, unit_id=u, kind="subordination", source="declared_by_unit", occurred_at=before),
        ev.AffiliationRecorded(affiliation_id=uid(), user_id=untied_later, unit_id=u, kind="property_right", source="declared_by_user", occurred_at=after),
        *(delivered(uid(), u, user, MID_2026) for user in (tied, untied_later, removed, outsider, outsider)),
    )
    m = (await measures(db, 2026))[u]
    assert m.orders_served == 5
    # the tied user is not outside; the tie recorded after the service and the one removed before it do not count
    assert m.outside_users_served == 3


async def test_instruments_listed_on_time_late_voluntarily_overdue_and_retired(db: ServiceDatabase) -> None:
    u = uid()
    reg = datetime(2026, 1, 10, 2, tzinfo=UTC)
    on_time, late, overdue, voluntary, retired, next_year = (uid() for _ in range(6))
    await feed(
        db,
        unit(u),
        instrument(ev.InstrumentRegistered, on_time, u, 1, reg, value=10_000_000),
        instrument(ev.InstrumentListed, on_time, u, 2, reg + timedelta(days=20), value=10_000_000, listed_on=date(2026, 1, 30), on_time=True),
        instrument(ev.InstrumentRegistered, late, u, 1, reg, value=20_000_000),
        instrument(ev.InstrumentListed, late, u, 2, reg + timedelta(days=90), value=20_000_000, listed_on=date(2026, 4, 10), on_time=False),
        instrument(ev.InstrumentRegistered, overdue, u, 1, reg),
        instrument(ev.InstrumentRegistered, voluntary, u, 1, reg, must_list=False, value=5_000_000),
        instrument(ev.InstrumentListed, voluntary, u, 2, reg, must_list=False, value=5_000_000, listed_on=date(2026, 1, 11), on_time=True),
        instrument(ev.InstrumentRegistered, retired, u, 1, reg),
        instrument(ev.InstrumentRetired, retired, u, 2, reg + timedelta(days=100), status="retired"),
        instrument(ev.InstrumentRegistered, next_year, u, 1, datetime(2026, 12, 31, 16, 0, tzinfo=UTC), deadline=date(2027, 2, 20)),
    )
    m = (await measures(db, 2026))[u]
    assert m.instruments_must_list == 3  # on time, late, overdue (the retired one and next year's do not count)
    assert m.instruments_listed == 2
    assert m.instruments_listed_on_time == 1
    assert m.instruments_listed_voluntarily == 1
    assert m.instruments_overdue == 1
    assert m.listed_value_fen == 35_000_000
    m25 = (await measures(db, 2025))[u]
    assert (m25.instruments_must_list, m25.instruments_listed) == (0, 0)
    m27 = (await measures(db, 2027))[u]
    assert (m27.instruments_must_list, m27.instruments_listed, m27.instruments_overdue) == (4, 2, 2)  # next year's joins (and is overdue by the end of 2027), the retired one stays gone


async def test_instrument_events_out_of_order_keep_the_newest_state_and_the_listing(db: ServiceDatabase) -> None:
    u, iid = uid(), uid()
    reg = datetime(2026, 2, 1, 2, tzinfo=UTC)
    await feed(
        db,
        unit(u),
        # the change (version 3, after listing) arrives first, then the listing, then the registration
        instrument(ev.InstrumentChanged, iid, u, 3, reg + timedelta(days=40), status="maintenance", value=30_000_000, listed_on=date(2026, 2, 20)),
        instrument(ev.InstrumentListed, iid, u, 2, reg + timedelta(days=19), value=25_000_000, listed_on=date(2026, 2, 20), on_time=True),
        instrument(ev.InstrumentRegistered, iid, u, 1, reg, value=25_000_000),
    )
    m = (await measures(db, 2026))[u]
    assert (m.instruments_must_list, m.instruments_listed, m.instruments_listed_on_time) == (1, 1, 1)
    assert m.listed_value_fen == 30_000_000  # the newest version's value
    assert (await measures(db, 2025))[u].instruments_must_list == 0  # registered in 2026, whatever arrived first


async def test_order_events_in_any_order_and_twice_count_once(db: ServiceDatabase) -> None:
    u, a, o = uid(), uid(), uid()
    d = delivered(o, u, a, MID_2026, hours=6)
    s = settled(o, u, a, MID_2026 + timedelta(days=1), fee=80_000, voucher=24_000)
    used = voucher(ve.VoucherUsed, o, u, a, MID_2026 + timedelta(days=1), amount=24_000)
    r = rated(o, u, a, MID_2026 + timedelta(days=2), rating=4)
    c = ev.OrderContracted(**order_fields(o, u, a, 3, "contracted"), occurred_at=MID_2026 - timedelta(days=5))
    # newest first, then everything again (a redelivery the inbox would drop; the tables must hold too)
    await feed(db, unit(u), r, used, s, d, c, r, used, s, d, c)
    m = (await measures(db, 2026))[u]
    assert (m.orders_served, m.service_hours_centi, m.revenue_fen, m.revenue_voucher_fen, m.voucher_orders, m.ratings_count, m.ratings_sum, m.orders_contracted) == (
        1, 600, 80_000, 24_000, 1, 1, 4, 1,
    )


async def test_a_later_rating_replaces_an_earlier_one(db: ServiceDatabase) -> None:
    u, a, o = uid(), uid(), uid()
    await feed(db, unit(u), rated(o, u, a, MID_2026 + timedelta(days=1), rating=2), rated(o, u, a, MID_2026, rating=5))
    m = (await measures(db, 2026))[u]
    assert (m.ratings_count, m.ratings_sum) == (1, 2)


async def test_units_without_records_have_zeros_and_a_subset_can_be_asked(db: ServiceDatabase) -> None:
    busy, idle, unknown = uid(), uid(), uid()
    await feed(db, unit(busy), unit(idle), delivered(uid(), busy, uid(), MID_2026))
    everyone = await measures(db, 2026)
    assert set(everyone) == {busy, idle}
    assert everyone[idle].orders_served == 0 and everyone[busy].orders_served == 1
    some = await measures(db, 2026, [idle, unknown])
    assert set(some) == {idle, unknown}
    assert some[unknown].orders_served == 0 and some[unknown].year == 2026


async def test_a_unit_with_records_but_not_yet_known_still_counts(db: ServiceDatabase) -> None:
    """Its unit event has not arrived (different subject): the numbers are there all the same."""
    u = uid()
    await feed(db, delivered(uid(), u, uid(), MID_2026, hours=2))
    assert (await measures(db, 2026))[u].service_hours_centi == 200


async def test_unit_events_still_keep_unit_view(db: ServiceDatabase) -> None:
    u = uid()
    await feed(db, unit(u, version=3, county="411081"), unit(u, version=2, county="411002"))
    units = await readmodel.list_units(db, status=None, page=1, page_size=10)
    assert units.total == 1 and units.items[0].county_code == "411081"


def test_facts_subscribe_each_subject_once_next_to_the_unit_read_model() -> None:
    subjects = [s.subject for s in SPEC.subscriptions()]
    assert len(subjects) == len(set(subjects))
    assert {s.subject for s in facts.subscriptions()} >= {
        ev.OrderResultsDelivered.subject,
        ev.OrderRated.subject,
        ve.VoucherUsed.subject,
        ve.VoucherRefused.subject,
        pe.SettlementCompleted.subject,
        ev.InstrumentListed.subject,
        ev.AffiliationRecorded.subject,
    }
