"""The year's evaluation through evaluation's HTTP API, on both databases with
a real NATS: the bureau opens the year, units apply, their department returns
and forwards, experts (with conflict-of-interest checks) score, the center
grades; the grades go on notice, an objection reopens one case which is
re-decided and corrected; the award plan funds in order of merit up to the
last fen of the budget, excludes a provincial award, and on finalization
approves awards, requires rectification and recognises excellent units;
approved redemption claims go on their own notice."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from contracts import evaluation as ee
from contracts import vouchers as ve
from services.evaluation import notice_finalization, notices, sources
from services.evaluation.db.models import redemption_view
from services.evaluation.domain.measures import Measures
from services.runtime.roles import Role
from tests.support.evaluation_cycle import (
    AFTER,
    BEST,
    DEPT,
    FULL,
    PUBLISHED_ON,
    YEAR,
    ZERO,
    Year,
    call,
    emitted,
    unit_event,
    units_known,
)
from tests.support.evidence import documents
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.vouchers import uid


async def test_a_whole_year_of_evaluation_with_an_objection_and_the_budget_edge(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["evaluation"])
    a, b, c, d, e, parent = uid(), uid(), uid(), uid(), uid(), uid()
    college = uid()
    other_dept_unit = uid()
    measures = {u: Measures(unit_id=u, year=YEAR, **BEST) for u in (a, b, d, e)}  # c has nothing on record

    async def fake_source(session, year, unit_ids=None):  # noqa: ANN001
        return {u: m for u, m in measures.items() if unit_ids is None or u in unit_ids}

    monkeypatch.setattr(sources, "MEASURES_SOURCE", fake_source)
    monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)

    async with running(Platform(settings, ["evaluation"])) as p:
        await publish(p, *(unit_event(u) for u in (a, b, c, d, e, parent)), unit_event(college, parent=parent), unit_event(other_dept_unit, department="禹州市科技局"))

        await units_known(p, 8)

        # --- the bureau opens the year; once only
        await call(p, "POST", "/v1/applications/", Role.UNIT, a, {"year": YEAR, "documents": await documents(p, a)}, 409)  # cycle.not_open
        cyc = await call(p, "POST", "/v1/cycles/", Role.BUREAU, json={"year": YEAR, "award_budget_fen": 8_000_000}, status=201)
        assert cyc["indicator_set_version"] == "xuchang-2023.2" and cyc["excellent_award_fen"] == 5_000_000 and cyc["good_award_fen"] == 3_000_000
        r = await call(p, "POST", "/v1/cycles/", Role.BUREAU, json={"year": YEAR, "award_budget_fen": 1}, status=409)
        assert r["code"] == "cycle.already_open"
        await call(p, "POST", "/v1/cycles/", Role.CENTER, json={"year": YEAR, "award_budget_fen": 1}, status=403)
        opened = await emitted(p, ee.CycleOpened)
        assert [(x.year, x.award_budget_fen) for x in opened] == [(YEAR, 8_000_000)]

        # --- a unit applies; its department returns it, the unit resubmits, the department forwards
        app_a = await call(p, "POST", "/v1/applications/", Role.UNIT, a, {"year": YEAR, "documents": await documents(p, a), "status": "graded"}, 400)
        app_a = await call(p, "POST", "/v1/applications/", Role.UNIT, a, {"year": YEAR, "documents": await documents(p, a)}, 201)
        assert app_a["status"] == "submitted" and app_a["department"] == DEPT
        r = await call(p, "POST", "/v1/applications/", Role.UNIT, a, {"year": YEAR, "documents": await documents(p, a)}, 409)
        assert r["code"] == "application.duplicate"
        a_id = app_a["application_id"]
        await call(p, "GET", f"/v1/applications/{a_id}", Role.UNIT, b, status=404)
        await call(p, "POST", f"/v1/applications/{a_id}/forward", Role.DEPARTMENT, "禹州市科技局", {}, 404)
        r = await call(p, "POST", f"/v1/applications/{a_id}/return", Role.DEPARTMENT, DEPT, {}, 400)
        returned = await call(p, "POST", f"/v1/applications/{a_id}/return", Role.DEPARTMENT, DEPT, {"reason": "缺少服务记录汇总表"}, 200)
        assert returned["status"] == "returned" and returned["review_reason"] == "缺少服务记录汇总表"
        await call(p, "POST", f"/v1/applications/{a_id}/forward", Role.DEPARTMENT, DEPT, {}, 409)
        again = await call(p, "POST", f"/v1/applications/{a_id}/resubmit", Role.UNIT, a, {"documents": await documents(p, a)}, 200)
        assert again["status"] == "submitted"
        assert (await call(p, "POST", f"/v1/applications/{a_id}/forward", Role.DEPARTMENT, DEPT, {}, 200))["status"] == "forwarded"
        dept_view = await call(p, "GET", f"/v1/applications/?year={YEAR}", Role.DEPARTMENT, DEPT, status=200)
        assert [i["application_id"] for i in dept_view["items"]] == [a_id]
        assert (await call(p, "GET", "/v1/applications/", Role.DEPARTMENT, "禹州市科技局", status=200))["total"] == 0

        # --- experts: conflict of interest refused with a stable code
        experts = {}
        for role in ("management", "technical", "finance"):
            experts[role] = (await call(p, "POST", "/v1/experts/", Role.CENTER, json={"name": f"{role}专家", "role": role}, status=201))["expert_id"]
        of_parent = (await call(p, "POST", "/v1/experts/", Role.CENTER, json={"name": "母体专家", "role": "technical", "unit_id": parent}, status=201))["expert_id"]
        tied = (await call(p, "POST", "/v1/experts/", Role.CENTER, json={"name": "关联专家", "role": "finance", "ties": [a]}, status=201))["expert_id"]
        y = Year(p, experts)
        r = await call(p, "POST", f"/v1/applications/{a_id}/assignments", Role.CENTER, json={"expert_id": tied}, status=409)
        assert r["code"] == "assignment.conflict_of_interest"
        col = await call(p, "POST", "/v1/applications/", Role.UNIT, college, {"year": YEAR, "documents": await documents(p, college)}, 201)
        await call(p, "POST", f"/v1/applications/{col['application_id']}/forward", Role.DEPARTMENT, DEPT, {}, 200)
        r = await call(p, "POST", f"/v1/applications/{col['application_id']}/assignments", Role.CENTER, json={"expert_id": of_parent}, status=409)
        assert r["code"] == "assignment.conflict_of_interest"
        await call(p, "POST", f"/v1/applications/{col['application_id']}/return", Role.DEPARTMENT, DEPT, {"reason": "未达到申报条件"}, 409)  # already forwarded

        # --- scores and grades: a 100.00, b 70.00 (good at the edge), c 58.00, d 70.00, e 100.00
        ids = {a: a_id}
        for u in (b, c, d, e):
            ids[u] = await y.apply_and_forward(u)
        sheets = {a: FULL, b: {**ZERO, "finance": FULL["finance"]}, c: FULL, d: {**ZERO, "finance": FULL["finance"]}, e: FULL}
        assigned: dict[str, dict[str, str]] = {}
        for u, app_id in ids.items():
            assigned[u] = await y.assign_all(app_id)
        r = await call(p, "POST", f"/v1/applications/{a_id}/grade", Role.CENTER, json={}, status=409)
        assert r["code"] == "grade.scores_incomplete" and len(r["details"]["unscored_assignments"]) == 3
        # an expert sees only their assignments and scores only their own
        mine = await call(p, "GET", "/v1/assignments/", Role.EXPERT, experts["technical"], status=200)
        assert mine["total"] == 5 and {i["role"] for i in mine["items"]} == {"technical"}
        await call(p, "POST", f"/v1/assignments/{assigned[a]['management']}/scores", Role.EXPERT, experts["technical"],
                   {"scores": FULL["management"], "onsite_date": "2026-05-20", "findings": "x"}, 404)
        r = await call(p, "POST", f"/v1/assignments/{assigned[a]['finance']}/scores", Role.EXPERT, experts["finance"],
                       {"scores": {"org.finance": 601, "share.fees": 0}, "onsite_date": "2026-05-20", "findings": "x"}, 422)
        assert r["code"] == "score.sheet_invalid"
        await call(p, "GET", f"/v1/applications/{col['application_id']}", Role.EXPERT, experts["technical"], status=404)
        for u in ids:
            for role in ("management", "technical", "finance"):
                await y.score(assigned[u][role], role, sheets[u][role])
        graded = {}
        for u, app_id in ids.items():
            graded[u] = await call(p, "POST", f"/v1/applications/{app_id}/grade", Role.CENTER, json={"reason": "材料审查和现场核查完成"}, status=200)
        assert {u: (g["total_centi"], g["grade"]) for u, g in graded.items()} == {
            a: (10000, "excellent"), b: (7000, "good"), c: (5800, "unqualified"), d: (7000, "good"), e: (10000, "excellent")
        }
        assert graded[c]["scores"]["op.listed_on_time"] == 800 and graded[c]["scores"]["op.idle"] == 200 and graded[c]["scores"]["op.orders"] == 0

        # --- the grades notice: the college's application is still forwarded, so it cannot be published yet
        r = await call(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "grades", "year": YEAR}, status=409)
        assert r["code"] == "notice.applications_pending"
        # the college is scored too (every expert gives zero) and graded
        await y.assign_all(col["application_id"])
        col_assign = {a_["role"]: a_["assignment_id"] for a_ in (await call(p, "GET", f"/v1/assignments/?application_id={col['application_id']}", Role.CENTER, status=200))["items"]}
        for role, aid in col_assign.items():
            await y.score(aid, role, ZERO[role])
        measures[college] = Measures(unit_id=college, year=YEAR)
        await call(p, "POST", f"/v1/applications/{col['application_id']}/grade", Role.CENTER, json={}, status=200)

        grades = await call(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "grades", "year": YEAR}, status=201)
        assert (grades["opens_on"], grades["closes_on"]) == ("2026-06-02", "2026-06-08")
        assert len(grades["items"]) == 6
        public = await call(p, "GET", f"/v1/notices/{grades['notice_id']}", status=200)
        assert {i["ref"] for i in public["items"]} == set(ids.values()) | {col["application_id"]}

        # --- an objection, real name required, reopens b's case
        path = f"/v1/notices/{grades['notice_id']}/objections"
        r = await call(p, "POST", path, json={"ref": ids[b], "name": "张三", "text": "服务记录有误"}, status=422)
        assert r["code"] == "objection.real_name_required"
        obj = await call(p, "POST", path, json={"ref": ids[b], "name": "张三", "phone": "13812345678", "text": "该单位部分管理制度材料被漏评"}, status=201)
        assert obj["contact"] == "138****5678" and "13812345678" not in str(obj)
        async with p["evaluation"].db.read() as s:
            stored = (await s.execute(select(p["evaluation"].db.metadata.tables["objections"].c.contact_enc))).scalar_one()
        assert "13812345678" not in stored and settings.field_cipher().decrypt(stored, "objection.contact") == "13812345678"
        assert (await call(p, "GET", f"/v1/applications/{ids[b]}", Role.CENTER, status=200))["status"] == "reopened"
        await call(p, "GET", path, status=401)
        listed = await call(p, "GET", path, Role.CENTER, status=200)
        assert listed["items"][0]["contact"] == "138****5678"

        # the window closes; the open objection keeps the notice from becoming final
        r = await call(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}, status=409)
        assert r["code"] == "notice.window_open"
        monkeypatch.setattr(notices, "today", lambda: AFTER)
        r = await call(p, "POST", path, json={"ref": ids[a], "name": "李四", "id_number": "11010519491231002X", "text": "迟到的异议"}, status=409)
        assert r["code"] == "objection.window_closed"
        r = await call(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}, status=409)
        assert r["code"] == "notice.objections_open"
        assert await notice_finalization.finalize_due(p["evaluation"].db) == 0

        # the case goes back to decision: the management expert corrects the sheet, the center re-decides
        r = await call(p, "POST", f"/v1/objections/{obj['objection_id']}/resolve", Role.CENTER, json={"outcome": "corrected", "reason": "复核"}, status=409)
        assert r["code"] == "objection.case_not_redecided"
        await y.score(assigned[b]["management"], "management", {"org.rules": 100, "org.staff": 0})
        for blank in ({}, {"reason": "  "}):  # a reopened case is decided again with its reason
            r = await call(p, "POST", f"/v1/applications/{ids[b]}/grade", Role.CENTER, json=blank, status=400)
            assert r["code"] == "grade.reason_required" and r["details"]["field"] == "reason"
        regraded = await call(p, "POST", f"/v1/applications/{ids[b]}/grade", Role.CENTER, json={"reason": "异议复核：补评管理制度"}, status=200)
        assert (regraded["total_centi"], regraded["grade"]) == (7100, "good")
        resolved = await call(p, "POST", f"/v1/objections/{obj['objection_id']}/resolve", Role.CENTER, json={"outcome": "corrected", "reason": "异议成立，已更正"}, status=200)
        assert resolved["status"] == "resolved" and resolved["outcome"] == "corrected"
        await call(p, "POST", f"/v1/objections/{obj['objection_id']}/resolve", Role.CENTER, json={"outcome": "withdrawn", "reason": "again"}, status=409)

        final = await call(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}, status=200)
        assert final["status"] == "final"
        again = await call(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}, status=200)
        assert again["finalized_at"] == final["finalized_at"]
        [fin] = await emitted(p, ee.NoticeFinalized)
        assert {i.ref: i.label for i in fin.items}[ids[b]].endswith("良好（71.00 分）")
        assert [x.outcome for x in await emitted(p, ee.ObjectionResolved)] == ["corrected"]

        # --- the award plan: e has a provincial award; a (5,000,000) and b (3,000,000) take the
        # budget to the last fen; d (good, 70.00) is the first that does not fit
        await call(p, "POST", "/v1/provincial-awards", Role.BUREAU, json={"unit_id": e, "year": YEAR, "reference": "豫科〔2026〕1号"}, status=201)
        monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)
        plan = await call(p, "POST", f"/v1/award-plans/{YEAR}", Role.BUREAU, json={}, status=201)
        lines = {line["unit_id"]: (line["amount_fen"], line["outcome"]) for line in plan["lines"]}
        assert lines == {
            e: (0, "provincial_award"), a: (5_000_000, "funded"), b: (3_000_000, "funded"), d: (0, "budget_exhausted"),
            c: (0, "unqualified"), college: (0, "unqualified"),
        }
        assert plan["planned_fen"] == plan["budget_fen"] == 8_000_000
        await call(p, "POST", f"/v1/award-plans/{YEAR}", Role.BUREAU, json={}, status=409)
        # R14(4): no notice before the bureau approves the plan; who and when are recorded
        assert plan["notice"] is None and plan["approval"] is None
        r = await call(p, "POST", f"/v1/award-plans/{YEAR}/notice", Role.CENTER, json={}, status=409)
        assert r["code"] == "award_plan.not_approved"
        assert (await call(p, "GET", f"/v1/notices/?kind=award_plan&year={YEAR}", status=200))["total"] == 0
        await call(p, "POST", f"/v1/award-plans/{YEAR}/approve", Role.CENTER, json={}, status=403)
        approved_plan = await call(p, "POST", f"/v1/award-plans/{YEAR}/approve", Role.BUREAU, "市科技局", json={"reason": "局党组会议审议通过"}, status=200)
        assert approved_plan["approval"]["approved_by"].startswith("bureau:") and approved_plan["approval"]["reason"] == "局党组会议审议通过"
        assert approved_plan["approval"]["approved_at"] and approved_plan["approval"]["published_at"] is None
        r = await call(p, "POST", f"/v1/award-plans/{YEAR}/approve", Role.BUREAU, json={}, status=409)
        assert r["code"] == "award_plan.already_approved"
        plan = await call(p, "POST", f"/v1/award-plans/{YEAR}/notice", Role.CENTER, json={}, status=201)
        assert {i["unit_id"] for i in plan["notice"]["items"]} == {a, b} and plan["approval"]["published_at"] is not None
        r = await call(p, "POST", f"/v1/award-plans/{YEAR}/notice", Role.CENTER, json={}, status=409)
        assert r["code"] == "notice.already_published"
        audit = p["evaluation"].db.metadata.tables["audit_log"]
        async with p["evaluation"].db.read() as s:
            actions = (await s.execute(select(audit.c.action).where(audit.c.object_type == "award_plan", audit.c.object_id == str(YEAR)))).scalars().all()
        assert list(actions) == ["award_plan.approve"]

        # the worker's periodic task finalizes it once the window has closed
        assert await notice_finalization.finalize_due(p["evaluation"].db) == 0
        monkeypatch.setattr(notices, "today", lambda: AFTER)
        assert await notice_finalization.finalize_due(p["evaluation"].db) == 1
        assert await notice_finalization.finalize_due(p["evaluation"].db) == 0
        approved = await emitted(p, ee.AwardApproved)
        assert sorted((x.unit_id, x.amount_fen, x.grade) for x in approved) == sorted([(a, 5_000_000, "excellent"), (b, 3_000_000, "good")])
        rect = await emitted(p, ee.RectificationRequired)
        assert sorted(x.unit_id for x in rect) == sorted([c, college]) and rect[0].deadline == date(2026, 9, 7)
        assert sorted(x.unit_id for x in await emitted(p, ee.UnitRecognised)) == sorted([a, e])
        plan_now = await call(p, "GET", f"/v1/award-plans/{YEAR}", Role.FINANCE, status=200)
        assert {line["unit_id"]: line["status"] for line in plan_now["lines"]}[a] == "approved"

        # --- redemption: approved claims from vouchers go on their own notice
        claim_ok, claim_no = uid(), uid()
        await publish(p,
            ve.RedemptionReviewed(claim_id=claim_ok, unit_id=a, year=YEAR, voucher_ids=[uid()], amount_fen=300_000, status="approved", approved=True, approved_fen=299_999),
            ve.RedemptionReviewed(claim_id=claim_no, unit_id=b, year=YEAR, voucher_ids=[uid()], amount_fen=100_000, status="rejected", approved=False, approved_fen=0, reasons=["invoice.reused"]),
        )

        async def reviews_known() -> bool:
            async with p["evaluation"].db.read() as s:
                return len((await s.execute(select(redemption_view.c.claim_id))).all()) == 2

        await eventually(reviews_known)
        monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)
        red = await call(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "redemption", "year": YEAR}, status=201)
        assert [(i["ref"], i["unit_id"], i["amount_fen"]) for i in red["items"]] == [(claim_ok, a, 299_999)]
        r = await call(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "redemption", "year": YEAR}, status=409)
        assert r["code"] == "notice.nothing_to_publish"
        monkeypatch.setattr(notices, "today", lambda: AFTER)
        await call(p, "POST", f"/v1/notices/{red['notice_id']}/finalize", Role.CENTER, json={}, status=200)
        finals = {x.kind: x for x in await emitted(p, ee.NoticeFinalized)}
        assert [(i.ref, i.unit_id, i.amount_fen) for i in finals["redemption"].items] == [(claim_ok, a, 299_999)]
        assert sorted(i.ref for i in finals["award_plan"].items) == sorted(line["award_id"] for line in plan["lines"] if line["outcome"] == "funded")
        listing = await call(p, "GET", f"/v1/notices/?year={YEAR}", status=200)
        assert listing["total"] == 3 and {n["status"] for n in listing["items"]} == {"final"}
