"""Complaints in the portal (issue 17; M11(6) 接受社会监督), through the gateway: a
signed-in user complains from its order's page, reads its refusals in Chinese at the
field (English on ``?lang=en``), and finds the TS case number, the status and the
deadline on its complaint's page and in 我的投诉; the public complains about an
instrument's unit without signing in and gets the receipt on the spot; the unit reads
the complaints about it without who complained; the center finds one by its case
number, decides it with an outcome and a reason (refused at the field without them),
counts the open ones on its workspace; the bureau reads; the user sees the decision;
nobody else sees a complaint. The policy clock stands at Monday 2026-09-28 09:00 in
Xuchang. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from services.registry.domain.complaints import MAX_CONTACT_CHARS, MAX_REASON_CHARS, MAX_TEXT_CHARS
from services.runtime import clock
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import World, approved_unit, verified_user, world
from tests.support.portal import as_party, error_at, fact, gateway, post, tracked

SERVICES = ["registry"]
T0 = datetime.fromisoformat("2026-09-28T09:00:00+08:00")
TEXT = "检测收费高于平台公布的收费标准，且未说明理由"


@pytest.fixture(autouse=True)
def policy_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: T0)


def case_numbers(html: str) -> list[str]:
    return re.findall(r'<tr data-case="(TS-\d{4}-\d+)">', html)


async def file_as_user(c: httpx.AsyncClient, oid: str, data: dict[str, Any]) -> httpx.Response:
    return await post(c, f"/complaints/new?order_id={oid}", "/complaints", {"order_id": oid} | data)


async def test_file_list_decide_and_read_complaints_in_the_portal(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        w: World = await world(p)
        oid = await w.order()
        order_case = (await w.as_user("GET", f"/v1/orders/{oid}")).json()["case_no"]
        other_unit = await approved_unit(p, name="许昌另一单位")
        stranger = await verified_user(p, "许昌无关企业")

        # the user: a 投诉 button on its order's page opens the form about that order and its unit
        as_party(c, p, Role.USER, w.user)
        order_page = (await c.get(f"/orders/{oid}")).text
        assert f'href="/complaints/new?order_id={oid}"' in order_page
        form = (await c.get(f"/complaints/new?order_id={oid}")).text
        assert order_case in fact(form, "complaint-subject") and "许昌学院" in fact(form, "complaint-subject")

        # refusals at their fields, in Chinese, what was typed kept; in English with ?lang=en
        r = await file_as_user(c, oid, {"category": "", "text": TEXT, "contact": "李经理 13900000000"})
        assert r.status_code == 422 and error_at(r.text, "category") == "请选择投诉类别"
        assert TEXT in r.text and 'value="李经理 13900000000"' in r.text
        r = await file_as_user(c, oid, {"category": "fees", "text": "  "})
        assert r.status_code == 422 and error_at(r.text, "text") == "请填写投诉内容"
        assert "complaint.field_required" not in r.text
        # too long: the registry's refusal at the field, naming the registry's own limit (the portal keeps no copy)
        r = await file_as_user(c, oid, {"category": "fees", "text": "字" * (MAX_TEXT_CHARS + 1), "contact": "李经理"})
        assert r.status_code == 422 and error_at(r.text, "text") == f"投诉内容不得超过 {MAX_TEXT_CHARS} 字"
        assert 'value="李经理"' in r.text and "complaint.field_too_long" not in r.text
        r = await file_as_user(c, oid, {"category": "fees", "text": TEXT, "contact": "电" * (MAX_CONTACT_CHARS + 1)})
        assert r.status_code == 422 and error_at(r.text, "contact") == f"联系方式不得超过 {MAX_CONTACT_CHARS} 字"
        english = await post(c, f"/complaints/new?order_id={oid}&lang=en", "/complaints", {"order_id": oid, "category": "fees", "text": "x" * (MAX_TEXT_CHARS + 1)})
        assert english.status_code == 422 and error_at(english.text, "text") == f"the complaint's text has at most {MAX_TEXT_CHARS} characters"
        english = await post(c, f"/complaints/new?order_id={oid}&lang=en", "/complaints", {"order_id": oid, "category": "fees", "text": ""})
        assert error_at(english.text, "text") == "the complaint's text is required" and "File a complaint" in english.text
        as_party(c, p, Role.USER, w.user)
        await c.get("/complaints/new?lang=zh&order_id=" + oid)  # back to Chinese
        # another user's order does not exist for it: said at the order
        as_party(c, p, Role.USER, stranger)
        r = await post(c, f"/instruments/{w.iid}", "/complaints", {"order_id": oid, "category": "fees", "text": TEXT})
        assert r.status_code == 404 and "订单不存在" in error_at(r.text, "order")

        # filed: the complaint's page with the TS case number, the status and the deadline
        as_party(c, p, Role.USER, w.user)
        r = await file_as_user(c, oid, {"category": "fees", "text": TEXT, "contact": "李经理 13900000000"})
        assert r.status_code == 303, r.text
        mine_url = r.headers["location"]
        assert mine_url.startswith("/complaints/") and mine_url.endswith("?done=1")
        cid = mine_url.split("/")[2].split("?")[0]
        api = (await w.as_user("GET", f"/v1/complaints/{cid}")).json()
        case_no, due_on = api["case_no"], api["due_on"]
        assert re.fullmatch(r"TS-2026-\d{6}", case_no)
        page = (await c.get(mine_url)).text
        assert fact(page, "case-no") == case_no and fact(page, "complaint-status") == "待处理"
        assert tracked(page, "complaint-progress") == ("服务中心处理", f"服务中心将在{due_on}前核实处理并答复您")
        assert fact(page, "complaint-due").startswith(due_on) and "15 个工作日" in fact(page, "complaint-due")
        assert fact(page, "complaint-text") == TEXT and "操作成功" in page
        assert order_case in page and "2026-09-28 09:00" in page  # filed, Beijing time
        mine = (await c.get("/complaints")).text
        assert "我的投诉" in mine and case_numbers(mine) == [case_no] and due_on in mine and "收费" in mine
        assert 'href="/complaints"' in (await c.get("/workspace")).text  # in the nav
        assert "My complaints" in (await c.get("/complaints?lang=en")).text and "open" in (await c.get("/complaints?lang=en")).text
        await c.get("/complaints?lang=zh")

        # the public: from an instrument's page about its unit, a receipt at once; no list for it
        as_party(c, p, None)
        inst = (await c.get(f"/instruments/{w.iid}")).text
        assert f'href="/complaints/new?unit_id={w.unit}"' in inst
        r = await post(c, f"/complaints/new?unit_id={w.unit}", "/complaints", {"unit_id": w.unit, "category": "refusal", "text": "多次预约均被拖延", "contact": "王女士"})
        assert r.status_code == 201, r.text
        public_case = fact(r.text, "case-no")
        assert re.fullmatch(r"TS-2026-\d{6}", public_case) and public_case != case_no
        assert fact(r.text, "complaint-status") == "待处理" and "complaint-due" in r.text and "受理编号" in r.text
        assert "王女士" not in r.text  # the receipt repeats nothing private
        assert (await c.get("/complaints")).status_code == 303  # to sign in

        # the unit: the complaints about it, without who complained or how to reach them
        as_party(c, p, Role.UNIT, w.unit)
        theirs = (await c.get("/complaints")).text
        assert "本单位被投诉事项" in theirs and sorted(case_numbers(theirs)) == sorted([case_no, public_case])
        page = (await c.get(f"/complaints/{cid}")).text
        assert fact(page, "complaint-text") == TEXT
        assert "李经理" not in page and "许昌测试企业" not in page and 'id="decision-form"' not in page
        assert tracked(page, "complaint-progress")[1].startswith("服务中心正在核实该投诉")
        as_party(c, p, Role.UNIT, other_unit)
        assert case_numbers((await c.get("/complaints")).text) == []
        assert (await c.get(f"/complaints/{cid}")).status_code == 404
        as_party(c, p, Role.USER, stranger)
        assert case_numbers((await c.get("/complaints")).text) == []
        assert (await c.get(f"/complaints/{cid}")).status_code == 404

        # the center: the open ones on its workspace; found by case number as typed
        as_party(c, p, Role.CENTER)
        todo = (await c.get("/workspace")).text
        assert re.search(r'data-task="complaints_open"><a href="/complaints\?status=open"><b class="count">2</b>', todo), todo
        listed = (await c.get("/complaints?status=open")).text
        assert "投诉处理" in listed and sorted(case_numbers(listed)) == sorted([case_no, public_case])
        found = (await c.get("/complaints", params={"case_no": f" {case_no.lower()} "})).text
        assert case_numbers(found) == [case_no]
        assert case_numbers((await c.get("/complaints?status=upheld")).text) == []
        page = (await c.get(f"/complaints/{cid}")).text
        assert fact(page, "complainant") == "许昌测试企业" and fact(page, "complaint-contact") == "李经理 13900000000"
        assert tracked(page, "complaint-progress") == ("服务中心处理", f"请在{due_on}前核实投诉并作出处理决定")
        # the decision: an outcome and a reason, each refused at its field
        r = await post(c, f"/complaints/{cid}", f"/complaints/{cid}/decision", {"reason": "经核实收费超标"})
        assert r.status_code == 422 and error_at(r.text, "outcome") == "请选择处理结果"
        assert "经核实收费超标" in r.text
        r = await post(c, f"/complaints/{cid}", f"/complaints/{cid}/decision", {"outcome": "upheld", "reason": " "})
        assert r.status_code == 400 and error_at(r.text, "reason") == "处理投诉须填写理由"
        r = await post(c, f"/complaints/{cid}", f"/complaints/{cid}/decision", {"outcome": "upheld", "reason": "理" * (MAX_REASON_CHARS + 1)})
        assert r.status_code == 422 and error_at(r.text, "reason") == f"处理理由不得超过 {MAX_REASON_CHARS} 字"
        r = await post(c, f"/complaints/{cid}", f"/complaints/{cid}/decision", {"outcome": "upheld", "reason": "经核实，收费高于公布标准，责令退还差价"})
        assert r.status_code == 303 and r.headers["location"] == f"/complaints/{cid}?done=1"
        page = (await c.get(f"/complaints/{cid}")).text
        assert fact(page, "complaint-status") == "投诉成立" and fact(page, "complaint-reason") == "经核实，收费高于公布标准，责令退还差价"
        assert 'id="decision-form"' not in page and tracked(page, "complaint-progress") == (None, "投诉成立，处理意见见上")
        r = await c.post(f"/complaints/{cid}/decision", data={"_csrf_token": c.cookies.get("xciss_csrf") or "", "outcome": "dismissed", "reason": "再议"})
        assert r.status_code == 409 and "该投诉已处理" in r.text
        assert re.search(r'data-task="complaints_open"><a href="/complaints\?status=open"><b class="count">1</b>', (await c.get("/workspace")).text)

        # the bureau reads every complaint and decides none
        as_party(c, p, Role.BUREAU)
        assert sorted(case_numbers((await c.get("/complaints")).text)) == sorted([case_no, public_case])
        page = (await c.get(f"/complaints/{cid}")).text
        assert fact(page, "complaint-status") == "投诉成立" and 'id="decision-form"' not in page
        r = await post(c, f"/complaints/{cid}", f"/complaints/{cid}/decision", {"outcome": "dismissed", "reason": "x"})
        assert r.status_code == 403

        # the user sees the decision
        as_party(c, p, Role.USER, w.user)
        page = (await c.get(f"/complaints/{cid}")).text
        assert fact(page, "complaint-status") == "投诉成立" and fact(page, "complaint-reason") == "经核实，收费高于公布标准，责令退还差价"
        assert "投诉成立" in (await c.get("/complaints")).text

        # a page at a time: ten a page, the next page linked with the filter kept
        for n in range(10):
            r = await p.call("registry", "POST", "/v1/complaints/", json={"category": "other", "text": f"第{n}条", "unit_id": other_unit})
            assert r.status_code == 201, r.text
        as_party(c, p, Role.CENTER)
        first = (await c.get("/complaints?status=open")).text
        assert len(case_numbers(first)) == 10 and "共 11 条" in first and 'href="?status=open&amp;page=2"' in first
        second = (await c.get("/complaints?status=open&page=2")).text
        assert len(case_numbers(second)) == 1 and not set(case_numbers(second)) & set(case_numbers(first))
