"""The evaluation's figures on pages (issue 17), through the real gateway and the real services on
both databases: the center's and the bureau's reports for a year (units by name, paged as the API
pages; counties by name; the three workbooks passed through the gateway), a department's summary
with its units, each unit's use of its instruments (the unit reads its own, not another's), the
department's workspace counting the evaluation applications it has to forward, and the reviewed
redemption claims by their unit's name."""

from __future__ import annotations

import re

from sqlalchemy import select

from contracts import vouchers as ve
from services.evaluation.db.models import redemption_view
from services.runtime.roles import Role
from tests.support.evaluation_cycle import DEPT, YEAR, call, units_known
from tests.support.evidence import documents
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.portal import gateway
from tests.support.vouchers import uid
from tests.support.year import City

SERVICES = ["registry", "evaluation", "vouchers"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def names_in(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-unit="[^"]+"><td>([^<]+)</td>', body)


async def test_reports_summary_use_and_redemptions_through_the_portal(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p, gateway(p) as c:
        city = City(p, YEAR)  # the units registered and approved in the registry, which tells evaluation
        units = [await city.unit(f"许昌测试单位{i:02d}", "411002", DEPT) for i in range(1, 22)]
        other = await city.unit("许昌测试单位22", "411081", "禹州市科技局")
        await units_known(p, 22)
        await call(p, "POST", "/v1/cycles/", Role.BUREAU, json={"year": YEAR, "award_budget_fen": 10_000_000}, status=201)

        # --- the reports: units by name, 20 a page, then the 21st and the other county's on page 2
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        assert (await c.get("/reports")).headers["location"].startswith("/reports/")
        page = (await c.get(f"/reports/{YEAR}")).text
        shown = names_in(page, "units")
        assert shown == [f"许昌测试单位{i:02d}" for i in range(1, 21)]
        assert "第 1 页，共 22 条" in page and 'id="units-pager"' in page and "魏都区" in page
        assert "¥0.00" in page and "voucher." not in page and "None" not in page
        second = (await c.get(f"/reports/{YEAR}?page=2")).text
        assert names_in(second, "units") == ["许昌测试单位21", "许昌测试单位22"] and "禹州市" in second
        for kind in ("units", "counties", "categories"):
            assert f'href="/reports/{YEAR}/{kind}.xlsx"' in page
            r = await c.get(f"/reports/{YEAR}/{kind}.xlsx")
            assert r.status_code == 200 and r.headers["content-type"] == XLSX and r.content[:2] == b"PK", kind
            assert "attachment" in r.headers["content-disposition"]
        assert (await c.get(f"/reports/{YEAR}/secrets.xlsx")).status_code == 404
        c.cookies.set("xciss_session", p.token(Role.BUREAU, "市科技局"))
        assert (await c.get(f"/reports/{YEAR}")).status_code == 200
        c.cookies.set("xciss_session", p.token(Role.DEPARTMENT, DEPT))
        assert (await c.get(f"/reports/{YEAR}")).status_code == 403
        assert (await c.get(f"/reports/{YEAR}/units.xlsx")).status_code == 403

        # --- the department: a unit applies; the workspace counts it; the summary and the units
        await call(p, "POST", "/v1/applications/", Role.UNIT, units[0], {"year": YEAR, "documents": await documents(p, units[0])}, 201)
        work = (await c.get("/workspace")).text
        assert re.search(r'data-task="evaluations_to_forward"><a href="/queue"><b class="count">1</b><span>待审核转报的绩效评价申请', work)
        assert '<a href="/guide/department" id="guide-link">办事指南：主管部门工作指南</a>' in work  # its own procedures
        summary = (await c.get(f"/department/summary?year={YEAR}")).text
        assert f"主管部门汇总 · {DEPT} · {YEAR}" in summary and 'id="units-total">21<' in summary
        assert "评价申请（本部门）" in summary and len(names_in(summary, "units")) == 20 and "第 1 页，共 21 条" in summary
        assert f'href="/units/{units[0]}/use?year={YEAR}"' in summary
        use = (await c.get(f"/units/{units[0]}/use?year={YEAR}")).text
        assert "仪器运行使用情况 · 许昌测试单位01" in use and 'id="sharing-rate">0.00%' in use and 'id="effective-hours">0.00' in use
        assert (await c.get(f"/units/{other}/use?year={YEAR}")).status_code == 404  # another department's unit
        # the unit reads its own use, from its evaluation page; not another unit's
        c.cookies.set("xciss_session", p.token(Role.UNIT, units[0]))
        assert f'href="/units/{units[0]}/use?year=' in (await c.get("/unit/evaluation")).text
        assert (await c.get(f"/units/{units[0]}/use?year={YEAR}")).status_code == 200
        assert (await c.get(f"/units/{units[1]}/use?year={YEAR}")).status_code == 403
        assert (await c.get("/department/summary")).status_code == 403
        # the center names the department it reads
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        assert 'id="name-a-department"' in (await c.get("/department/summary")).text
        assert 'id="units-total">1<' in (await c.get(f"/department/summary?year={YEAR}&department=禹州市科技局")).text

        # --- reviewed redemptions: by the unit's name (evaluation's own record), approved or not
        claim_ok, claim_no = uid(), uid()
        await publish(p,
            ve.RedemptionReviewed(claim_id=claim_ok, unit_id=units[0], year=YEAR, voucher_ids=[uid()], amount_fen=300_000, status="approved", approved=True, approved_fen=299_999),
            ve.RedemptionReviewed(claim_id=claim_no, unit_id=units[1], year=YEAR, voucher_ids=[uid()], amount_fen=100_000, status="rejected", approved=False, approved_fen=0, reasons=["invoice.reused"]),
        )

        async def reviews_known() -> bool:
            async with p["evaluation"].db.read() as s:
                return len((await s.execute(select(redemption_view.c.claim_id))).all()) == 2

        await eventually(reviews_known)
        page = (await c.get(f"/evaluation/redemptions?year={YEAR}")).text
        assert "许昌测试单位01" in page and "许昌测试单位02" in page and "¥2,999.99" in page and "审核通过" in page and "未通过" in page and "尚未公示" in page
        assert f'data-claim="{claim_ok}"' in page and "invoice.reused" not in page
        c.cookies.set("xciss_session", p.token(Role.DEPARTMENT, DEPT))
        assert (await c.get(f"/evaluation/redemptions?year={YEAR}")).status_code == 403
