"""The evaluation's decisions on pages (issue 17), through the real gateway and the real
evaluation service on both databases: the bureau opens the year on /evaluation/cycles (refused
without a budget, then a second time, each at its field); the center's grade page shows the
experts' sheets, refuses a grade while an expert role is missing and while an expert has not
scored (at the button, the experts by name), then decides it (the grade in Chinese, the next
step); the center's finalize button on the grades notice is refused while the window is open and
while an objection is open; the re-decision of the reopened case needs a reason (at the reason);
once the objection is resolved the notice is made final and the application reads 已生效."""

from __future__ import annotations

import re

import pytest

from services.evaluation import notices, sources
from services.evaluation.domain.measures import Measures
from services.runtime.roles import Role
from tests.support.evaluation_cycle import (
    AFTER,
    BEST,
    DEPT,
    FULL,
    PUBLISHED_ON,
    YEAR,
    Year,
    call,
    unit_event,
    units_known,
)
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.portal import csrf_of, gateway
from tests.support.vouchers import uid

SERVICES = ["registry", "evaluation"]


def error_at(html: str, id_: str) -> str:
    found = re.search(rf'id="{id_}">([^<]+)<', html)
    assert found, f"no error {id_}"
    return found.group(1)


async def test_the_bureau_opens_the_year_and_the_center_grades_and_finalizes(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    unit = uid()

    async def fake_source(session, year, unit_ids=None):  # noqa: ANN001
        return {u: Measures(unit_id=u, year=year, **BEST) for u in (unit,) if unit_ids is None or u in unit_ids}

    monkeypatch.setattr(sources, "MEASURES_SOURCE", fake_source)
    monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)
    async with running(Platform(settings, SERVICES)) as p, gateway(p) as c:
        await publish(p, unit_event(unit))
        await units_known(p, 1)

        # --- the bureau opens the year: refused without a budget, opened, refused a second time
        c.cookies.set("xciss_session", p.token(Role.BUREAU, "市科技局"))
        page = (await c.get(f"/evaluation/cycles?year={YEAR}")).text
        assert 'id="cycle-none">' in page and "年度绩效评价尚未启动" in page.split('id="cycle-none">')[1].split("</p>")[0]
        assert 'id="cycle-form"' in page
        r = await c.post("/evaluation/cycles", data={"_csrf_token": csrf_of(page), "year": str(YEAR), "award_budget": ""})
        assert r.status_code == 400 and error_at(r.text, "award-budget-error") == "请填写金额（元，最多两位小数）"
        r = await c.post("/evaluation/cycles", data={"_csrf_token": csrf_of(page), "year": str(YEAR), "award_budget": "100,000.00", "reason": "按年度预算启动"})
        assert r.status_code == 303 and r.headers["location"] == f"/evaluation/cycles?year={YEAR}&done=1"
        assert (await call(p, "GET", f"/v1/cycles/{YEAR}", Role.CENTER, status=200))["award_budget_fen"] == 10_000_000
        page = (await c.get(r.headers["location"])).text
        assert "操作成功" in page and "¥100,000.00" in page
        r = await c.post("/evaluation/cycles", data={"_csrf_token": csrf_of(page), "year": str(YEAR), "award_budget": "5"})
        assert r.status_code == 409 and error_at(r.text, "year-error") == f"{YEAR} 年度绩效评价已启动"
        # the center reads the year but does not open one
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        page = (await c.get(f"/evaluation/cycles?year={YEAR}")).text
        assert "¥100,000.00" in page and 'id="cycle-form"' not in page
        assert (await c.post("/evaluation/cycles", data={"_csrf_token": csrf_of(page), "year": "2027", "award_budget": "1"})).status_code == 403

        # --- the unit applies, its department forwards; two of three experts assigned and scored
        experts = {r: (await call(p, "POST", "/v1/experts/", Role.CENTER, json={"name": f"专家{r[:4]}", "role": r}, status=201))["expert_id"] for r in ("management", "technical", "finance")}
        y = Year(p, experts)
        app_id = await y.apply_and_forward(unit)
        assigned = {}
        for role in ("management", "technical"):
            assigned[role] = (await call(p, "POST", f"/v1/applications/{app_id}/assignments", Role.CENTER, json={"expert_id": experts[role]}, status=201))["assignment_id"]
            await y.score(assigned[role], role, FULL[role])
        url = f"/evaluation/applications/{app_id}"
        page = (await c.get(url)).text
        assert f"单位{unit[:4]}" in page and "专家mana" in page and "专家tech" in page
        assert "优秀：总分不低于 85.00 分" in page and "不合格：总分低于 70.00 分" in page and 'id="grade-form"' in page
        assert "14.00" in page  # the management expert's sheet: 8.00 + 6.00
        r = await c.post(f"{url}/grade", data={"_csrf_token": csrf_of(page), "status": "forwarded"})
        assert r.status_code == 409 and error_at(r.text, "grade-error") == "尚有专家未评分或缺少管理、技术、财务专家"
        assert error_at(r.text, "grade-missing") == "尚未指派：财务专家"
        assigned["finance"] = (await call(p, "POST", f"/v1/applications/{app_id}/assignments", Role.CENTER, json={"expert_id": experts["finance"]}, status=201))["assignment_id"]
        r = await c.post(f"{url}/grade", data={"_csrf_token": csrf_of(page), "status": "forwarded"})
        assert r.status_code == 409 and error_at(r.text, "grade-unscored") == "尚未评分：专家fina（财务专家）"
        await y.score(assigned["finance"], "finance", FULL["finance"])
        r = await c.post(f"{url}/grade", data={"_csrf_token": csrf_of(page), "status": "forwarded"})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1#grade"
        decided = await call(p, "GET", f"/v1/applications/{app_id}", Role.CENTER, status=200)
        assert decided["status"] == "graded"
        page = (await c.get(url)).text
        assert f'id="grade">{ {"excellent": "优秀", "good": "良好", "unqualified": "不合格"}[decided["grade"]]}（总分 {decided["total_centi"] / 100:.2f}）' in page
        assert "等级已评定，等待结果公示" in page and 'id="grade-form"' not in page
        assert f'id="total">{decided["total_centi"] / 100:.2f}' in page
        # the bureau reads the page; it does not decide
        c.cookies.set("xciss_session", p.token(Role.BUREAU, "市科技局"))
        assert 'id="grade-form"' not in (await c.get(url)).text
        assert (await c.post(f"{url}/grade", data={"_csrf_token": csrf_of(page)})).status_code == 403
        c.cookies.set("xciss_session", p.token(Role.DEPARTMENT, DEPT))
        assert (await c.get(url)).status_code == 403

        # --- the grades notice: finalize refused while the window runs, then while an objection is open
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        grades = await call(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "grades", "year": YEAR}, status=201)
        nurl = f"/notices/{grades['notice_id']}"
        page = (await c.get(nurl)).text
        assert 'id="finalize"' in page
        r = await c.post(f"{nurl}/finalize", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 409 and "公示期" in error_at(r.text, "finalize-error")
        await call(p, "POST", f"/v1/notices/{grades['notice_id']}/objections", json={"ref": app_id, "name": "张三", "phone": "13812345678", "text": "部分材料漏评"}, status=201)
        monkeypatch.setattr(notices, "today", lambda: AFTER)
        r = await c.post(f"{nurl}/finalize", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 409 and "异议" in error_at(r.text, "finalize-error")

        # --- the reopened case is decided again: a reason is required
        page = (await c.get(url)).text
        assert "重新评定理由（必填）" in page
        r = await c.post(f"{url}/grade", data={"_csrf_token": csrf_of(page), "status": "reopened", "reason": " "})
        assert r.status_code == 400 and error_at(r.text, "reason-error") == "重新评定等次须填写理由"
        r = await c.post(f"{url}/grade", data={"_csrf_token": csrf_of(page), "status": "reopened", "reason": "异议复核：材料齐全，维持原评分"})
        assert r.status_code == 303
        objection = (await call(p, "GET", f"/v1/notices/{grades['notice_id']}/objections", Role.CENTER, status=200))["items"][0]
        await call(p, "POST", f"/v1/objections/{objection['objection_id']}/resolve", Role.CENTER, json={"outcome": "upheld_line", "reason": "复核属实"}, status=200)
        r = await c.post(f"{nurl}/finalize", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 303 and r.headers["location"] == f"{nurl}?done=1#finalize"
        page = (await c.get(nurl)).text
        assert "公示期满，已生效" in page and 'id="finalize"' not in page
        assert (await call(p, "GET", f"/v1/applications/{app_id}", Role.CENTER, status=200))["status"] == "final"
        assert "公示期满，等待奖补方案审批和资金拨付" in (await c.get(url)).text
