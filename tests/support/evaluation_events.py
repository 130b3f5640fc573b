"""A small city's facts for evaluation's reports, published to JetStream as registry,
vouchers and payments would (newest first, some twice): the events of its units,
instruments, services and refusals, and what each unit should show per year."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from contracts import payments as pe
from contracts import registry as ev
from contracts import vouchers as ve
from contracts.envelope import Event, encode
from services.runtime.bus.connect import connect_nats
from services.runtime.clock import local_year
from tests.support.platform import Platform
from tests.support.vouchers import uid

YEAR = 2026
JUNE = datetime(YEAR, 6, 1, 2, tzinfo=UTC)


class Sender:
    """Builds the events of a small city and keeps what each unit should show."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.expected: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        self.category_of: dict[str, str] = {}
        self.county_of: dict[str, str] = {}

    def unit(self, name: str, county: str, department: str) -> str:
        u = uid()
        self.county_of[u] = county
        snap = dict(unit_id=u, name=name, credit_code="12410000MB0000000X", kind="institute", county_code=county, department=department)
        self.events += [ev.UnitApplied(**snap, version=1, status="applied"), ev.UnitApproved(**snap, version=2, status="approved")]
        return u

    def instrument(self, u: str, category: str, value: int, *, listed: bool = True) -> str:
        iid = uid()
        self.category_of[iid] = category
        base = dict(instrument_id=iid, unit_id=u, name="仪器", category=category, county_code=self.county_of[u], funding="fiscal_full", original_value_fen=value, must_list=True,
                    listing_deadline=date(YEAR, 3, 1))
        self.events.append(ev.InstrumentRegistered(**base, version=1, status="in_service", occurred_at=datetime(YEAR, 1, 5, tzinfo=UTC)))
        m = self.expected[YEAR][u]
        m["instruments_must_list"] += 1
        if listed:
            self.events.append(ev.InstrumentListed(**base, version=2, status="in_service", listed_on=date(YEAR, 2, 1), on_time=True, occurred_at=datetime(YEAR, 2, 1, tzinfo=UTC)))
            m["instruments_listed"] += 1
            m["instruments_listed_on_time"] += 1
            m["instruments_idle"] += 1  # listed, and this city records no usage
            m["listed_value_fen"] += value
        else:
            m["instruments_overdue"] += 1
        return iid

    def service(self, u: str, user: str, iid: str, at: datetime, *, hours: int, fee: int, voucher: int = 0, rating: int | None = None, outside: bool = True) -> None:
        o = uid()
        snap = dict(order_id=o, user_id=user, unit_id=u, instrument_ids=[iid], amount_fen=fee, testing_fee_fen=fee, purpose="research")
        year = local_year(at)
        m = self.expected[year][u]
        contracted = at - timedelta(days=3)
        self.events.append(ev.OrderContracted(**snap, version=3, status="contracted", occurred_at=contracted))
        self.expected[local_year(contracted)][u]["orders_contracted"] += 1
        self.events.append(ev.OrderResultsDelivered(**snap, version=5, status="results_delivered", service_hours=hours, occurred_at=at))
        m["orders_served"] += 1
        m["service_hours_centi"] += hours * 100
        self.events.append(pe.SettlementCompleted(settlement_id=uid(), order_id=o, user_id=user, unit_id=u, fee_fen=fee, voucher_fen=voucher, payable_fen=fee - voucher,
                                                   voucher_id=uid() if voucher else None, occurred_at=at))
        m["revenue_fen"] += fee
        m["revenue_voucher_fen"] += voucher
        if voucher:
            self.events.append(ve.VoucherUsed(voucher_id=uid(), application_id=uid(), user_id=user, unit_id=u, order_id=o, year=year, amount_fen=voucher,
                                              expires_at=datetime(year, 12, 31, 16, tzinfo=UTC), status="used", occurred_at=at))
            m["voucher_orders"] += 1
        if rating is not None:
            self.events.append(ev.OrderRated(**snap, version=7, status="rated", rating=rating, occurred_at=at))
            m["ratings_count"] += 1
            m["ratings_sum"] += rating

    def refusal(self, u: str, user: str, at: datetime) -> None:
        self.events.append(ve.VoucherRefused(voucher_id=uid(), application_id=uid(), user_id=user, unit_id=u, order_id=uid(), year=local_year(at), amount_fen=10_000,
                                             expires_at=datetime(local_year(at), 12, 31, 16, tzinfo=UTC), status="issued", reason="设备检修", occurred_at=at))
        self.expected[local_year(at)][u]["vouchers_refused"] += 1

    async def publish(self, p: Platform) -> None:
        nc = await connect_nats(p.settings.bus("operator"), "test-facts")
        try:
            js = nc.jetstream()
            # newest first: each aggregate's events arrive out of order
            for e in reversed(self.events):
                await js.publish(type(e).subject, encode(e), headers={"Nats-Msg-Id": e.event_id})
            # and a redelivery of some, past JetStream's duplicate window (a new message id): the inbox drops them
            for e in self.events[::3]:
                await js.publish(type(e).subject, encode(e), headers={"Nats-Msg-Id": f"again-{e.event_id}"})
        finally:
            await nc.close()
