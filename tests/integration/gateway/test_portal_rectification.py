"""限期整改 in the portal (M15, issue 17) against the real evaluation service: a unit
graded unqualified sees its deadline once the award plan is final and sends its
report (a blank one refused at its field); another unit is refused the page; the bureau
sees the report and records the re-check (refused without an outcome or a reason);
once passed, the unit has no form and the re-check's time shows in Beijing time. The
API's own rules: tests/integration/evaluation/test_evaluation_rectification.py."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.evaluation import notices
from services.runtime.clock import POLICY_ZONE
from services.runtime.roles import Role
from tests.support.evaluation_cycle import (
    DEADLINE,
    YEAR,
    call,
    graded,
    measured,
    plan_final,
)
from tests.support.platform import Platform, running
from tests.support.portal import csrf_of, gateway, tracked, version_of
from tests.support.vouchers import uid

SERVICES = ["registry", "evaluation"]


async def test_the_unit_reports_and_the_bureau_rechecks_through_the_portal(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    good, bad = uid(), uid()
    measured(monkeypatch, good)
    async with running(Platform(settings, SERVICES)) as p, gateway(p) as c:
        await graded(p, monkeypatch, good, bad)
        await plan_final(p, monkeypatch)
        monkeypatch.setattr(notices, "today", lambda: DEADLINE)  # the last day to report
        url = f"/rectification/{YEAR}/{bad}"

        c.cookies.set("xciss_session", p.token(Role.UNIT, bad))
        page = (await c.get(url)).text
        assert "待提交整改报告" in page and DEADLINE.isoformat() in page and 'id="rectification-form"' in page
        assert tracked(page, "rectification-progress") == ("提交整改报告", f"请在{DEADLINE.isoformat()}前提交整改报告")
        r = await c.post(f"{url}/report", data={"_csrf_token": csrf_of(page), "report": "  "})
        assert r.status_code == 400 and 'id="report-error">此项必填' in r.text
        r = await c.post(f"{url}/report", data={"_csrf_token": csrf_of(page), "version": version_of(page, "rectification-form"), "report": "已建立开放共享管理制度，配备专职人员"})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1"
        assert (await call(p, "GET", f"/v1/rectifications/{YEAR}/{bad}", Role.UNIT, bad, status=200))["status"] == "reported"
        # a colleague had the form open before that report: theirs is not saved over it unseen;
        # the page shows the report as it now is, with what they typed kept to send knowingly
        r = await c.post(f"{url}/report", data={"_csrf_token": csrf_of(page), "version": version_of(page, "rectification-form"), "report": "同事起草的整改报告"})
        assert r.status_code == 409 and "已被他人修改并保存" in r.text
        assert '<dd class="pre">已建立开放共享管理制度，配备专职人员</dd>' in r.text and ">同事起草的整改报告</textarea>" in r.text
        assert (await call(p, "GET", f"/v1/rectifications/{YEAR}/{bad}", Role.UNIT, bad, status=200))["report"] == "已建立开放共享管理制度，配备专职人员"
        r = await c.post(f"{url}/report", data={"_csrf_token": csrf_of(r.text), "version": version_of(r.text, "rectification-form"), "report": "已建立开放共享管理制度，配备专职人员两名"})
        assert r.status_code == 303
        now = await call(p, "GET", f"/v1/rectifications/{YEAR}/{bad}", Role.UNIT, bad, status=200)
        assert (now["report"], now["version"]) == ("已建立开放共享管理制度，配备专职人员两名", 2)
        # another unit is refused the page; the unit does not re-check itself
        c.cookies.set("xciss_session", p.token(Role.UNIT, good))
        assert (await c.get(url)).status_code == 403
        c.cookies.set("xciss_session", p.token(Role.UNIT, bad))
        page = (await c.get(url)).text
        assert (await c.post(f"{url}/recheck", data={"_csrf_token": csrf_of(page), "outcome": "passed", "reason": "x"})).status_code == 403

        # the bureau sees the report and re-checks: an outcome and a reason are required
        c.cookies.set("xciss_session", p.token(Role.BUREAU, "市科技局"))
        page = (await c.get(url)).text
        assert tracked(page, "rectification-progress") == ("市科技局复查", "请复查整改报告，作出通过或不通过的结论并写明理由")
        assert "已建立开放共享管理制度，配备专职人员两名" in page and 'id="recheck-form"' in page and 'id="rectification-form"' not in page
        r = await c.post(f"{url}/recheck", data={"_csrf_token": csrf_of(page), "reason": "材料齐全"})
        assert r.status_code == 400 and 'id="outcome-error">此项必填' in r.text
        r = await c.post(f"{url}/recheck", data={"_csrf_token": csrf_of(page), "outcome": "passed", "reason": " "})
        assert r.status_code == 400 and "复核结论须填写理由" in r.text
        r = await c.post(f"{url}/recheck", data={"_csrf_token": csrf_of(page), "outcome": "passed", "reason": "材料齐全，现场核查属实"})
        assert r.status_code == 303
        checked = await call(p, "GET", f"/v1/rectifications/{YEAR}/{bad}", Role.BUREAU, status=200)
        assert (checked["status"], checked["outcome"], checked["outcome_reason"]) == ("passed", "passed", "材料齐全，现场核查属实")

        # the unit sees the outcome, with the re-check's time in Beijing time, and no form
        c.cookies.set("xciss_session", p.token(Role.UNIT, bad))
        page = (await c.get(url)).text
        shown = datetime.fromisoformat(checked["checked_at"].replace("Z", "+00:00")).astimezone(POLICY_ZONE).strftime("%Y-%m-%d %H:%M")
        assert "复核通过" in page and "材料齐全，现场核查属实" in page and shown in page and 'id="rectification-form"' not in page
        assert tracked(page, "rectification-progress") == (None, "整改已通过复查")
