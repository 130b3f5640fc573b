"""The bureau's reports per unit, county and instrument category, as JSON and
as Excel: the numbers match the events sent (published to JetStream as
registry, vouchers and payments would — out of order, some twice), on SQLite
and PostgreSQL with real NATS."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl import load_workbook

from contracts import registry as ev
from services.runtime.roles import Role
from tests.support.evaluation_events import JUNE, YEAR, Sender
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.vouchers import uid

#: the last second of 2025 and the first of 2026 in Xuchang
LAST_SECOND_BEFORE = datetime(YEAR - 1, 12, 31, 15, 59, 59, tzinfo=UTC)
FIRST_SECOND = datetime(YEAR - 1, 12, 31, 16, 0, 0, tzinfo=UTC)


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
