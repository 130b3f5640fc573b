"""M15 限期整改 through evaluation's HTTP API on both databases: an unqualified
unit, given its deadline when the approved award plan is final, reports its
rectification (text and a file) by the end of its deadline day — not a day
later; the bureau re-checks only a report, with an outcome and a reason; both
are audited, emitted (the re-check) and shown on the unit's evaluation record,
to the unit, its department and staff only."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from contracts import evaluation as ee
from services.evaluation import notices
from services.runtime.roles import Role
from tests.support.evaluation_cycle import DEADLINE, DEPT, YEAR, call, emitted, graded, measured, plan_final
from tests.support.vouchers import uid
from tests.support.evidence import upload
from tests.support.platform import Platform, running

OTHER_DEPT = "禹州市科技局"


async def test_an_unqualified_unit_reports_by_its_deadline_and_the_bureau_rechecks(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["evaluation"])
    good, bad = uid(), uid()
    measured(monkeypatch, good)
    async with running(Platform(settings, ["evaluation"])) as p:
        apps = await graded(p, monkeypatch, good, bad)

        # before the plan is final nobody has a deadline: nothing to report yet
        r = await call(p, "POST", f"/v1/rectifications/{YEAR}/report", Role.UNIT, bad, {"report": "已整改"}, 409)
        assert r["code"] == "rectification.not_required"
        await plan_final(p, monkeypatch)
        assert [(x.unit_id, x.deadline) for x in await emitted(p, ee.RectificationRequired)] == [(bad, DEADLINE)]

        record = await call(p, "GET", f"/v1/applications/{apps[bad]}", Role.UNIT, bad, status=200)
        assert record["rectification"]["status"] == "required" and record["rectification"]["deadline"] == DEADLINE.isoformat()
        assert (await call(p, "GET", f"/v1/applications/{apps[good]}", Role.UNIT, good, status=200))["rectification"] is None

        # a re-check before any report is refused; a unit without a deadline cannot report
        r = await call(p, "POST", f"/v1/rectifications/{YEAR}/{bad}/recheck", Role.BUREAU, json={"outcome": "passed", "reason": "已核实"}, status=409)
        assert r["code"] == "rectification.not_reported"
        r = await call(p, "POST", f"/v1/rectifications/{YEAR}/report", Role.UNIT, good, {"report": "无"}, 409)
        assert r["code"] == "rectification.not_required"

        # the day after the deadline: refused; on the deadline day: accepted, with a file
        monkeypatch.setattr(notices, "today", lambda: date(2026, 9, 8))
        r = await call(p, "POST", f"/v1/rectifications/{YEAR}/report", Role.UNIT, bad, {"report": "已建立开放共享管理制度"}, 409)
        assert r["code"] == "rectification.deadline_passed"
        monkeypatch.setattr(notices, "today", lambda: DEADLINE)
        evidence_of_good = (await upload(p, good, "rectification", filename="整改报告.pdf")).json()
        r = await call(p, "POST", f"/v1/rectifications/{YEAR}/report", Role.UNIT, bad, {"report": "x", "document_id": evidence_of_good["document_id"]}, 422)
        assert r["code"] == "rectification.document_unknown" and r["details"]["field"] == "document_id"
        doc = (await upload(p, bad, "rectification", filename="整改报告.pdf")).json()
        # no report yet: an If-Match names a version that does not exist (412, nothing written)
        r = await p.call("evaluation", "POST", f"/v1/rectifications/{YEAR}/report", role=Role.UNIT, org=bad, json={"report": "x"}, headers={"If-Match": '"v1"'})
        assert r.status_code == 412 and r.json()["code"] == "request.precondition_failed" and r.json()["details"]["etag"] is None
        assert (await call(p, "GET", f"/v1/rectifications/{YEAR}/{bad}", Role.UNIT, bad, status=200))["status"] == "required"
        reported = await call(p, "POST", f"/v1/rectifications/{YEAR}/report", Role.UNIT, bad, {"report": "已建立开放共享管理制度，配备专职人员", "document_id": doc["document_id"]}, 200)
        assert reported["status"] == "reported" and reported["document_id"] == doc["document_id"] and reported["deadline"] == DEADLINE.isoformat()

        # the report's version is its ETag: a second first report (If-None-Match: *), or a
        # replacement sent at a version since replaced, is refused and nothing is overwritten
        url = f"/v1/rectifications/{YEAR}/report"
        assert reported["version"] == 1
        assert (await p.call("evaluation", "GET", f"/v1/rectifications/{YEAR}/{bad}", role=Role.UNIT, org=bad)).headers["etag"] == '"v1"'
        r = await p.call("evaluation", "POST", url, role=Role.UNIT, org=bad, json={"report": "同事的报告"}, headers={"If-None-Match": "*"})
        assert r.status_code == 412 and r.json()["code"] == "request.record_exists" and r.json()["details"]["etag"] == '"v1"'
        r = await p.call("evaluation", "POST", url, role=Role.UNIT, org=bad, json={"report": "补充：已配备专职人员两名"}, headers={"If-Match": '"v1"'})
        assert r.status_code == 200 and r.headers["etag"] == '"v2"' and r.json()["report"] == "补充：已配备专职人员两名"
        r = await p.call("evaluation", "POST", url, role=Role.UNIT, org=bad, json={"report": "旧页面上的报告"}, headers={"If-Match": '"v1"'})
        assert r.status_code == 412 and r.json()["code"] == "request.precondition_failed" and r.json()["details"]["etag"] == '"v2"'
        r = await p.call("evaluation", "POST", url, role=Role.UNIT, org=bad, json={"report": "x"}, headers={"If-Match": "v2"})
        assert r.status_code == 400 and r.json()["code"] == "request.if_match_invalid"
        reported = await call(p, "POST", url, Role.UNIT, bad, {"report": "已建立开放共享管理制度，配备专职人员", "document_id": doc["document_id"]}, 200)
        assert reported["version"] == 3 and (await call(p, "GET", f"/v1/rectifications/{YEAR}/{bad}", Role.UNIT, bad, status=200))["report"] == "已建立开放共享管理制度，配备专职人员"

        # readers: the unit, its department, staff; not another unit or department
        for role, org in ((Role.UNIT, bad), (Role.DEPARTMENT, DEPT), (Role.CENTER, None), (Role.BUREAU, None)):
            assert (await call(p, "GET", f"/v1/rectifications/{YEAR}/{bad}", role, org, status=200))["report"].startswith("已建立")
        for role, org in ((Role.UNIT, good), (Role.DEPARTMENT, OTHER_DEPT)):
            await call(p, "GET", f"/v1/rectifications/{YEAR}/{bad}", role, org, status=404)
        assert (await p.call("evaluation", "GET", f"/v1/evaluation-documents/{doc['document_id']}/content", role=Role.DEPARTMENT, org=DEPT)).status_code == 200
        assert (await p.call("evaluation", "GET", f"/v1/evaluation-documents/{doc['document_id']}/content", role=Role.DEPARTMENT, org=OTHER_DEPT)).status_code == 404

        # the bureau re-checks, once, with a reason; the outcome is emitted and on the record
        await call(p, "POST", f"/v1/rectifications/{YEAR}/{bad}/recheck", Role.CENTER, json={"outcome": "failed", "reason": "x"}, status=403)
        await call(p, "POST", f"/v1/rectifications/{YEAR}/{bad}/recheck", Role.BUREAU, json={"outcome": "failed"}, status=400)
        checked = await call(p, "POST", f"/v1/rectifications/{YEAR}/{bad}/recheck", Role.BUREAU, "市科技局", json={"outcome": "failed", "reason": "专职人员未到岗"}, status=200)
        assert (checked["status"], checked["outcome"], checked["outcome_reason"]) == ("failed", "failed", "专职人员未到岗") and checked["checked_by"].startswith("bureau:")
        assert checked["version"] == 4  # a report sent at the version before the re-check is refused
        r = await p.call("evaluation", "POST", url, role=Role.UNIT, org=bad, json={"report": "x"}, headers={"If-Match": '"v3"'})
        assert r.status_code == 412 and r.json()["details"]["etag"] == '"v4"'
        r = await call(p, "POST", f"/v1/rectifications/{YEAR}/{bad}/recheck", Role.BUREAU, json={"outcome": "passed", "reason": "x"}, status=409)
        assert r["code"] == "rectification.already_checked"
        assert [(x.unit_id, x.year, x.outcome, x.deadline) for x in await emitted(p, ee.RectificationRechecked)] == [(bad, YEAR, "failed", DEADLINE)]
        on_record = (await call(p, "GET", f"/v1/applications/{apps[bad]}", Role.DEPARTMENT, DEPT, status=200))["rectification"]
        assert on_record["outcome"] == "failed" and on_record["outcome_reason"] == "专职人员未到岗"

        audit = p["evaluation"].db.metadata.tables["audit_log"]
        async with p["evaluation"].db.read() as s:
            actions = (await s.execute(select(audit.c.action, audit.c.reason).where(audit.c.object_id == bad, audit.c.action.like("rectification.%")).order_by(audit.c.id))).all()
        assert [tuple(a) for a in actions] == [("rectification.require", f"unqualified in {YEAR}"), *[("rectification.report", None)] * 3, ("rectification.recheck", "专职人员未到岗")]
