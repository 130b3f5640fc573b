"""The bureau's reports per unit, county and instrument category, as JSON and
as Excel: the numbers match the events sent (published to JetStream as
registry, vouchers and payments would — out of order, some twice), on SQLite
and PostgreSQL with real NATS."""

from __future__ import annotations

import io
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from openpyxl import load_workbook

from contracts import payments as pe
from contracts import registry as ev
from contracts import vouchers as ve
from contracts.envelope import Event, encode
from services.runtime.roles import Role
from services.runtime.clock import local_year
from services.runtime.bus.connect import connect_nats
from tests.support.platform import Platform, running
from tests.support.polling import eventually

YEAR = 2026
JUNE = datetime(YEAR, 6, 1, 2, tzinfo=UTC)
#: the last second of 2025 and the first of 2026 in Xuchang
LAST_SECOND_BEFORE = datetime(YEAR - 1, 12, 31, 15, 59, 59, tzinfo=UTC)
FIRST_SECOND = datetime(YEAR - 1, 12, 31, 16, 0, 0, tzinfo=UTC)


def uid() -> str:
    return str(uuid.uuid4())


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


def city() -> tuple[Sender, dict[str, str]]:
    s = Sender()
    a = s.unit("许昌学院", "411002", "市教育局")
    b = s.unit("许昌市检验检测中心", "411002", "市市场监管局")
    c = s.unit("长葛市材料研究所", "411082", "长葛市科技局")
    ia, ib, ic = s.instrument(a, "分析仪器", 30_000_000), s.instrument(b, "计量仪器", 5_000_000), s.instrument(c, "分析仪器", 12_000_000)
    s.instrument(c, "计量仪器", 8_000_000, listed=False)
    users = [uid() for _ in range(4)]
    tied = users[3]
    s.events.append(ev.AffiliationRecorded(affiliation_id=uid(), user_id=tied, unit_id=a, kind="subordination", source="declared_by_unit", occurred_at=JUNE - timedelta(days=60)))
    s.service(a, users[0], ia, JUNE, hours=6, fee=1_000_000, voucher=300_000, rating=5)
    s.service(a, users[0], ia, JUNE + timedelta(days=5), hours=2, fee=50_000, rating=4)
    s.service(a, tied, ia, JUNE + timedelta(days=9), hours=3, fee=80_000)
    s.service(b, users[1], ib, JUNE, hours=1, fee=20_000, voucher=6_000, rating=3)
    s.service(c, users[2], ic, JUNE, hours=10, fee=400_000, rating=5)
    # the year's edges: the last second of the year before does not count, the first of this year does
    s.service(c, users[0], ic, LAST_SECOND_BEFORE, hours=7, fee=70_000)
    s.service(c, users[1], ic, FIRST_SECOND, hours=8, fee=90_000)
    s.refusal(b, users[2], JUNE)
    outside = {a: 1, b: 1, c: 2}
    for u, n in outside.items():
        s.expected[YEAR][u]["outside_users_served"] = n
    s.expected[YEAR - 1][c]["outside_users_served"] = 1
    return s, {"a": a, "b": b, "c": c}


FIELDS = (
    "instruments_must_list", "instruments_listed", "instruments_listed_on_time", "instruments_listed_voluntarily", "listed_value_fen", "instruments_overdue",
    "orders_contracted", "orders_served", "service_hours_centi", "outside_users_served", "voucher_orders", "revenue_fen", "revenue_voucher_fen",
    "ratings_count", "ratings_sum", "vouchers_refused", "complaints", "effective_minutes", "outside_minutes", "instruments_idle",
)  # fmt: skip


def full(m: dict[str, int]) -> dict[str, int]:
    return {f: m.get(f, 0) for f in FIELDS}


async def get(p: Platform, path: str, role: Role = Role.BUREAU, **params: Any) -> Any:
    r = await p.call("evaluation", "GET", path, role=role, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_reports_per_unit_county_and_category_match_the_events(make_settings) -> None:
    settings = await make_settings(["evaluation"])
    s, units = city()
    async with running(Platform(settings, ["evaluation"]), relay=False) as p:
        await s.publish(p)
        want = {u: full(s.expected[YEAR][u]) for u in units.values()}
        want_totals = {f: sum(w[f] for w in want.values()) for f in FIELDS}

        async def caught_up() -> Any:
            body = await get(p, f"/v1/reports/{YEAR}/units", page_size=100)
            return body if body["totals"] == want_totals and body["total"] == 3 else None

        body = await eventually(caught_up, timeout=30)
        got = {i["unit"]["unit_id"]: {f: i["measures"][f] for f in FIELDS} for i in body["items"]}
        assert got == want
        assert [i["unit"]["name"] for i in body["items"]] == sorted(i["unit"]["name"] for i in body["items"])

        # the year before holds only the service of its last second (its events go through other
        # consumers than this year's totals waited for: wait for them too)
        want_before = full(s.expected[YEAR - 1][units["c"]])

        async def before_caught_up() -> Any:
            body = await get(p, f"/v1/reports/{YEAR - 1}/units/{units['c']}", role=Role.CENTER)
            return body if {f: body["measures"][f] for f in FIELDS} == want_before else None

        before = await eventually(before_caught_up, timeout=30)
        assert before["measures"]["orders_served"] == 1 and before["measures"]["service_hours_centi"] == 700

        # paginated and filtered
        first = await get(p, f"/v1/reports/{YEAR}/units", page=1, page_size=2)
        second = await get(p, f"/v1/reports/{YEAR}/units", page=2, page_size=2)
        assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
        assert first["totals"] == want_totals
        weidu = await get(p, f"/v1/reports/{YEAR}/units", county_code="411002")
        assert {i["unit"]["unit_id"] for i in weidu["items"]} == {units["a"], units["b"]}
        assert weidu["totals"]["revenue_fen"] == want[units["a"]]["revenue_fen"] + want[units["b"]]["revenue_fen"]
        by_department = await get(p, f"/v1/reports/{YEAR}/units", department="长葛市科技局")
        assert [i["unit"]["unit_id"] for i in by_department["items"]] == [units["c"]]

        # per county: the sums of its units
        counties = await get(p, f"/v1/reports/{YEAR}/counties")
        rows = {c["county_code"]: c for c in counties["items"]}
        assert set(rows) == {"411002", "411082"}
        assert (rows["411002"]["county_name"], rows["411002"]["units"]) == ("魏都区", 2)
        for code, members in (("411002", (units["a"], units["b"])), ("411082", (units["c"],))):
            assert rows[code]["measures"] == {f: sum(want[u][f] for u in members) for f in FIELDS}
        assert counties["totals"] == want_totals

        # per category: orders under their instrument's category, adding up to the total
        categories = await get(p, f"/v1/reports/{YEAR}/categories")
        cats = {c["category"]: c["measures"] for c in categories["items"]}
        assert set(cats) == {"分析仪器", "计量仪器"}
        assert (cats["分析仪器"]["orders_served"], cats["分析仪器"]["revenue_fen"]) == (5, 1_000_000 + 50_000 + 80_000 + 400_000 + 90_000)
        assert (cats["计量仪器"]["orders_served"], cats["计量仪器"]["revenue_fen"], cats["计量仪器"]["instruments_overdue"]) == (1, 20_000, 1)
        assert (cats["分析仪器"]["instruments_listed"], cats["分析仪器"]["listed_value_fen"]) == (2, 42_000_000)
        for f in categories["totals"]:
            assert categories["totals"][f] == want_totals[f], f
        changge = await get(p, f"/v1/reports/{YEAR}/categories", county_code="411082")
        assert {c["category"]: c["measures"]["orders_served"] for c in changge["items"]} == {"分析仪器": 2, "计量仪器": 0}

        # the reports are for the center and the bureau
        for role in (Role.UNIT, Role.DEPARTMENT, Role.USER):
            r = await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/counties", role=role, org=units["a"])
            assert r.status_code == 403, r.text
        r = await p.call("evaluation", "GET", "/v1/reports/1999/units", role=Role.BUREAU)
        assert r.status_code == 400 and r.json()["code"] == "report.year_out_of_range"

        # Excel: Chinese headers, the same numbers (money in yuan), a total row and charts
        r = await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units.xlsx", role=Role.BUREAU)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert "attachment" in r.headers["content-disposition"]
        wb = load_workbook(io.BytesIO(r.content))
        ws = wb["单位报表"]
        header = [c.value for c in ws[1]]
        assert header[:3] == ["单位名称", "单位编号", "区县"] and "完成服务（单）" in header and "服务收入（元）" in header
        rows_by_id = {row[1]: row for row in ws.iter_rows(min_row=2, values_only=True) if row[1]}
        a_row = rows_by_id[units["a"]]
        assert a_row[header.index("完成服务（单）")] == want[units["a"]]["orders_served"]
        assert a_row[header.index("服务收入（元）")] == want[units["a"]]["revenue_fen"] / 100
        assert a_row[header.index("服务机时（小时）")] == want[units["a"]]["service_hours_centi"] / 100
        last = [c.value for c in ws[ws.max_row]]
        assert str(last[0]).startswith("合计") and last[header.index("完成服务（单）")] == want_totals["orders_served"]
        assert len(wb["图表"]._charts) >= 1

        r = await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/counties.xlsx", role=Role.CENTER)
        wb = load_workbook(io.BytesIO(r.content))
        ws = wb["区县报表"]
        header = [c.value for c in ws[1]]
        assert header[:3] == ["区县", "区划代码", "单位（家）"]
        by_name = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True) if row[0]}
        assert by_name["魏都区"][header.index("完成服务（单）")] == rows["411002"]["measures"]["orders_served"]
        assert by_name["合计"][header.index("服务收入（元）")] == want_totals["revenue_fen"] / 100
        assert len(ws._charts) == 3

        r = await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/categories.xlsx", role=Role.BUREAU)
        wb = load_workbook(io.BytesIO(r.content))
        ws = wb["仪器类别报表"]
        header = [c.value for c in ws[1]]
        by_name = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True) if row[0]}
        assert by_name["分析仪器"][header.index("完成服务（单）")] == 5
        assert by_name["合计"][header.index("完成服务（单）")] == want_totals["orders_served"]
        assert len(ws._charts) == 2
