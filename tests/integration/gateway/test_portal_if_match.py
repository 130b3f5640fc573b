"""Two officers on one form (issue 17), through the gateway: every portal form that edits a
record whose API answers an ``ETag`` carries the version it showed and sends it as
``If-Match``. When two officers open one form and the first saves, the second's save is
refused, told in Chinese at the top of the form (English on ``?lang=en``) that somebody
else changed the record meanwhile, and shown the first one's values with the current
version, so that saving again is a knowing change. Forms: an instrument's schedule (the
unit), the year's complaint handling deadline (the bureau; its page also refuses a bad
number at its field), the programme budget (bureau and finance) and the redemption window
(the center). A form opened while its record does not exist yet (a first schedule, a year's
first deadline, a first window, a unit's first bank details) carries version 0 and saves with
``If-None-Match: *``: when two officers create the record at once, the second is told the
same way and shown the first one's values. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html as markup
import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from services.runtime import clock
from services.runtime.roles import Role
from tests.support.bookings import PORTAL_SCHEDULE
from tests.support.platform import Platform, running
from tests.support.portal import (
    as_party,
    csrf_of,
    field_error,
    gateway,
    text_of,
    version_of,
)
from tests.support.registry import PDF, PROOF, World, contract, world
from tests.support.vouchers import YEAR, open_programme, uid

CHANGED_ZH = "此记录在您打开页面后已被他人修改并保存，下方显示的是最新内容，请核对后重新提交您的修改。"
CHANGED_KEPT_ZH = "此记录在您打开页面后已被他人修改并保存。您填写的内容仍保留在表单中，请核对最新内容；再次提交将以您填写的内容为准。"
CHANGED_EN = "Somebody else changed this record after you opened the page. Its current values are shown below: check them and apply your change again."
T0 = datetime.fromisoformat("2026-09-28T09:00:00+08:00")


def alert_of(html: str) -> str:
    found = re.search(r'<div class="alert" role="alert">(.*?)</div>', html, re.DOTALL)
    assert found, "no alert"
    return markup.unescape(text_of(found.group(1)))


class Opened:
    """A form as one officer opened it: its CSRF token and the version it showed."""

    def __init__(self, html: str, form_id: str):
        self.csrf, self.version = csrf_of(html), version_of(html, form_id)

    async def save(self, c: httpx.AsyncClient, path: str, data: dict[str, Any]) -> httpx.Response:
        return await c.post(path, data={"_csrf_token": self.csrf, "version": self.version, **data})


async def test_schedule_and_complaint_deadline_forms_refuse_a_stale_save(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: T0)
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False) as p, gateway(p) as c:
        w: World = await world(p)
        assert (await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json=PORTAL_SCHEDULE)).status_code == 200

        # two unit officers open the schedule; the first opens Saturday, the second (on the old version) Sunday
        as_party(c, p, Role.UNIT, w.unit)
        page, action = f"/unit/instruments/{w.iid}/time", f"/unit/instruments/{w.iid}/schedule"
        first, second = Opened((await c.get(page)).text, "schedule-form"), Opened((await c.get(page)).text, "schedule-form")
        fields = {f"hours_{d}": "09:00-12:00, 13:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")} | {"slot_minutes": "30", "min_minutes": "60", "max_minutes": "240"}
        fields |= {"book_ahead_days": "28", "book_before_minutes": "60", "cancel_before_hours": "24", "operated_by": "staff", "approval": "required", "closed_on_holidays": "on"}
        saved = await first.save(c, action, fields | {"hours_sat": "09:00-12:00"})
        assert saved.status_code == 303, saved.text
        refused = await second.save(c, action, fields | {"hours_sun": "08:30-11:30"})
        assert refused.status_code == 409 and CHANGED_ZH in refused.text, refused.text
        assert refused.text.count(CHANGED_ZH) == 1, "the schedule page shows its error once, in the page's alert"
        assert "request.precondition_failed" not in refused.text and "412" not in text_of(refused.text)
        assert 'name="hours_sat" value="09:00-12:00"' in refused.text and 'name="hours_sun" value=""' in refused.text  # the first one's schedule
        current = await w.as_unit("GET", f"/v1/instruments/{w.iid}/schedule")
        assert not current.json()["weekly_hours"].get("sun") and current.json()["weekly_hours"]["sat"] == [["09:00", "12:00"]]
        assert version_of(refused.text, "schedule-form") == str(current.json()["version"]) != second.version
        # saved again from the page shown: the change applies over the current version
        again = await Opened(refused.text, "schedule-form").save(c, action, fields | {"hours_sat": "09:00-12:00", "hours_sun": "08:30-11:30"})
        assert again.status_code == 303, again.text
        assert (await w.as_unit("GET", f"/v1/instruments/{w.iid}/schedule")).json()["weekly_hours"]["sun"] == [["08:30", "11:30"]]

        # the bureau's complaint deadline: reached from the staff's complaint list; the default until set
        as_party(c, p, Role.BUREAU)
        assert 'href="/complaints/policy"' in (await c.get("/complaints")).text
        page = "/complaints/policy?year=2026"
        html = (await c.get(page)).text
        assert "15 个工作日（政策文件默认值，市科技局尚未设定）" in text_of(html) and version_of(html, "policy-form") == "0"  # no record yet
        csrf = csrf_of(html)
        bad = await c.post("/complaints/policy", data={"_csrf_token": csrf, "year": "2026", "handling_workdays": "十天"})
        assert bad.status_code == 422 and field_error(bad.text, "handling_workdays") == "请填写 1 至 250 之间的整数"
        bad = await c.post("/complaints/policy", data={"_csrf_token": csrf, "year": "2026", "handling_workdays": "0"})
        assert bad.status_code == 422 and field_error(bad.text, "handling_workdays") == "处理时限应为 1 至 250 个工作日"
        assert 'name="handling_workdays" inputmode="numeric" required value="0"' in bad.text  # what was typed stays
        bad = await c.post("/complaints/policy?lang=en", data={"_csrf_token": csrf, "year": "2026", "handling_workdays": "300"})
        assert field_error(bad.text, "handling_workdays") == "the handling deadline is 1 to 250 working days"
        done = await c.post("/complaints/policy", data={"_csrf_token": csrf, "year": "2026", "handling_workdays": "20", "reason": "工作量增加"})
        assert done.status_code == 303 and done.headers["location"] == "/complaints/policy?year=2026&done=1"
        html = (await c.get("/complaints/policy?year=2026&lang=zh")).text
        assert "20 个工作日" in text_of(html) and "默认值" not in html
        assert (await p.call("registry", "GET", "/v1/complaints/policies/2026")).json()["handling_workdays"] == 20

        # two bureau officers: the first sets 10, the second's 30 (from the old version) is refused, 10 shown
        first, second = Opened((await c.get(page)).text, "policy-form"), Opened((await c.get(page)).text, "policy-form")
        assert (await first.save(c, "/complaints/policy", {"year": "2026", "handling_workdays": "10"})).status_code == 303
        refused = await second.save(c, "/complaints/policy", {"year": "2026", "handling_workdays": "30"})
        assert refused.status_code == 409 and alert_of(refused.text) == f"出错了：{CHANGED_ZH}", refused.text
        assert 'name="handling_workdays" inputmode="numeric" required value="10"' in refused.text and "10 个工作日" in text_of(refused.text)
        english = await second.save(c, "/complaints/policy?lang=en", {"year": "2026", "handling_workdays": "30"})
        assert CHANGED_EN in english.text and "此记录" not in english.text
        assert (await p.call("registry", "GET", "/v1/complaints/policies/2026")).json()["handling_workdays"] == 10
        assert (await Opened(refused.text, "policy-form").save(c, "/complaints/policy", {"year": "2026", "handling_workdays": "30"})).status_code == 303
        assert (await p.call("registry", "GET", "/v1/complaints/policies/2026")).json()["handling_workdays"] == 30

        # the center reads the deadline without the form; a unit is refused the page
        as_party(c, p, Role.CENTER)
        html = (await c.get("/complaints/policy?year=2026&lang=zh")).text
        assert "30 个工作日" in text_of(html) and 'id="policy-form"' not in html
        as_party(c, p, Role.UNIT, w.unit)
        assert (await c.get("/complaints/policy")).status_code == 403


async def test_budget_and_redemption_window_forms_refuse_a_stale_save(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"]), worker=False, relay=False) as p, gateway(p) as c:
        await open_programme(p, budget_fen=10_000_000)

        # the bureau and finance open the budget form; the bureau raises it, finance's cut is refused
        as_party(c, p, Role.BUREAU)
        bureau = Opened((await c.get("/programme/budget")).text, "budget-form")
        as_party(c, p, Role.FINANCE)
        finance = Opened((await c.get("/programme/budget")).text, "budget-form")
        as_party(c, p, Role.BUREAU)
        saved = await bureau.save(c, "/programme/budget", {"budget": "120000", "reason": "追加预算"})
        assert saved.status_code == 303, saved.text
        as_party(c, p, Role.FINANCE)
        refused = await finance.save(c, "/programme/budget", {"budget": "80000", "reason": "压缩预算"})
        assert refused.status_code == 409 and alert_of(refused.text) == f"出错了：{CHANGED_ZH}", refused.text
        assert "预算 ¥120,000.00" in text_of(refused.text) and 'value="80000"' not in refused.text
        english = await finance.save(c, "/programme/budget?lang=en", {"budget": "80000", "reason": "压缩预算"})
        assert CHANGED_EN in english.text
        assert (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")).json()["budget_fen"] == 12_000_000
        # from the page shown again, the change applies
        again = await Opened(refused.text, "budget-form").save(c, "/programme/budget", {"budget": "80000", "reason": "压缩预算"})
        assert again.status_code == 303, again.text
        assert (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")).json()["budget_fen"] == 8_000_000

        # the window: set once, then two center officers change it from the same page
        as_party(c, p, Role.CENTER)
        page = f"/redemption/claims?year={YEAR}&lang=zh"
        csrf = csrf_of((await c.get(page)).text)
        # a year that is none is the portal's refusal in words, not a 500
        typed = await c.post("/redemption/window", data={"_csrf_token": csrf, "year": "abc", "opens_on": f"{YEAR + 1}-03-01", "closes_on": f"{YEAR + 1}-03-31"})
        assert typed.status_code == 422 and "请填写 2000 至 2100 之间的年份" in typed.text, typed.text[-2000:]
        set_first = await c.post("/redemption/window", data={"_csrf_token": csrf, "year": str(YEAR), "opens_on": f"{YEAR + 1}-03-01", "closes_on": f"{YEAR + 1}-03-31"})
        assert set_first.status_code == 303, set_first.text
        first, second = Opened((await c.get(page)).text, "window-form"), Opened((await c.get(page)).text, "window-form")
        dates = {"year": str(YEAR), "opens_on": f"{YEAR + 1}-04-01", "closes_on": f"{YEAR + 1}-04-30"}
        assert (await first.save(c, "/redemption/window", dates)).status_code == 303
        late = {"year": str(YEAR), "opens_on": f"{YEAR + 1}-05-01", "closes_on": f"{YEAR + 1}-05-31"}
        refused = await second.save(c, "/redemption/window", late)
        assert refused.status_code == 409 and alert_of(refused.text) == f"出错了：{CHANGED_ZH}", refused.text
        assert f'name="opens_on" value="{YEAR + 1}-04-01"' in refused.text and f"{YEAR + 1}-04-01 – {YEAR + 1}-04-30" in refused.text
        window = (await p.call("vouchers", "GET", f"/v1/redemption/windows/{YEAR}")).json()
        assert window["opens_on"] == f"{YEAR + 1}-04-01" and version_of(refused.text, "window-form") == str(window["version"])
        assert (await Opened(refused.text, "window-form").save(c, "/redemption/window", late)).status_code == 303
        assert (await p.call("vouchers", "GET", f"/v1/redemption/windows/{YEAR}")).json()["opens_on"] == f"{YEAR + 1}-05-01"


async def test_the_contract_terms_form_refuses_terms_the_other_party_changed_meanwhile(make_settings) -> None:
    """The enterprise opens its order's contract terms; the unit changes them before it saves:
    its save is refused and the page shows the unit's terms, not the enterprise's overwriting them."""
    services = ["registry", "vouchers"]  # the order page reads the voucher applications
    settings = await make_settings(services)
    async with running(Platform(settings, services), worker=False, relay=False) as p, gateway(p) as c:
        w = await world(p)
        oid = await w.quoted()
        doc = (await w.upload(oid, "contract", PDF)).json()["document_id"]
        proof = (await w.upload(oid, "rd_proof", PROOF, by="unit", filename="proof.png")).json()["document_id"]
        page, action = f"/orders/{oid}", f"/orders/{oid}/contract"
        as_party(c, p, Role.USER, w.user)
        first = (await c.get(page)).text
        opened = Opened(first, "contract-form")
        amount_fen = (await w.as_user("GET", f"/v1/orders/{oid}")).json()["amount_fen"]
        assert f'name="testing_fee" inputmode="decimal" value="{amount_fen / 100:.2f}"' in first  # the fee starts as the order's amount, in yuan

        unit_terms = contract(doc, proof, ip_ownership="检测数据归双方共有")
        r = await w.as_unit("PUT", f"/v1/orders/{oid}/contract", json=unit_terms)
        assert r.status_code == 200, r.text
        typed = {"testing_fee": "600.00", "ip_ownership": "检测数据及成果归用户所有", "confidentiality": "保密", "damage_compensation": "照价赔偿", "contract_document_id": doc, "rd_proof_document_id": proof}
        refused = await opened.save(c, action, typed)
        assert refused.status_code == 409 and alert_of(refused.text).endswith(CHANGED_ZH), refused.text
        assert 'name="ip_ownership" value="检测数据归双方共有"' in refused.text  # the unit's terms, shown anew
        order = (await w.as_user("GET", f"/v1/orders/{oid}")).json()
        assert order["contract"]["ip_ownership"] == "检测数据归双方共有" and version_of(refused.text, "contract-form") == str(order["version"])

        # saved again from the page as it now is: a knowing change, kept
        again = await Opened(refused.text, "contract-form").save(c, action, typed)
        assert again.status_code == 303, again.text
        assert (await w.as_user("GET", f"/v1/orders/{oid}")).json()["contract"]["ip_ownership"] == "检测数据及成果归用户所有"


async def test_two_officers_creating_a_schedule_or_a_deadline_at_once_the_second_is_told(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: T0)
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False) as p, gateway(p) as c:
        w: World = await world(p)
        # two unit officers open the time page of an instrument with no schedule yet; both save a first one
        as_party(c, p, Role.UNIT, w.unit)
        page, action = f"/unit/instruments/{w.iid}/time", f"/unit/instruments/{w.iid}/schedule"
        first, second = Opened((await c.get(page)).text, "schedule-form"), Opened((await c.get(page)).text, "schedule-form")
        assert first.version == second.version == "0"
        fields = {f"hours_{d}": "09:00-12:00" for d in ("mon", "tue", "wed", "thu", "fri")} | {"slot_minutes": "30", "min_minutes": "60", "max_minutes": "240"}
        fields |= {"book_ahead_days": "28", "book_before_minutes": "60", "cancel_before_hours": "24", "operated_by": "staff", "approval": "required", "closed_on_holidays": "on"}
        assert (await first.save(c, action, fields | {"hours_sat": "09:00-12:00"})).status_code == 303
        refused = await second.save(c, action, fields | {"hours_sun": "08:30-11:30"})
        assert refused.status_code == 409 and refused.text.count(CHANGED_ZH) == 1, refused.text
        assert "request.record_exists" not in refused.text and "412" not in text_of(refused.text)
        assert 'name="hours_sat" value="09:00-12:00"' in refused.text and 'name="hours_sun" value=""' in refused.text  # the first one's schedule
        current = (await w.as_unit("GET", f"/v1/instruments/{w.iid}/schedule")).json()
        assert current["version"] == 1 and not current["weekly_hours"].get("sun") and version_of(refused.text, "schedule-form") == "1"
        # saved again from the page shown: a knowing change of the current version
        assert (await Opened(refused.text, "schedule-form").save(c, action, fields | {"hours_sun": "08:30-11:30"})).status_code == 303
        assert (await w.as_unit("GET", f"/v1/instruments/{w.iid}/schedule")).json()["weekly_hours"]["sun"] == [["08:30", "11:30"]]

        # two bureau officers open a year still on the default; the first sets 10, the second's 30 is refused, 10 shown
        as_party(c, p, Role.BUREAU)
        page = "/complaints/policy?year=2027"
        first, second = Opened((await c.get(page)).text, "policy-form"), Opened((await c.get(page)).text, "policy-form")
        assert first.version == second.version == "0"
        # posted to the form's action, which names the year: the page shown again is 2027's
        assert (await first.save(c, "/complaints/policy?year=2027", {"year": "2027", "handling_workdays": "10"})).status_code == 303
        refused = await second.save(c, "/complaints/policy?year=2027", {"year": "2027", "handling_workdays": "30"})
        assert refused.status_code == 409 and alert_of(refused.text) == f"出错了：{CHANGED_ZH}", refused.text
        assert 'name="handling_workdays" inputmode="numeric" required value="10"' in refused.text and version_of(refused.text, "policy-form") == "1"
        assert 'action="/complaints/policy?year=2027"' in refused.text  # the year refused, not this year
        english = await second.save(c, "/complaints/policy?year=2027&lang=en", {"year": "2027", "handling_workdays": "30"})
        assert english.status_code == 409 and CHANGED_EN in english.text and "此记录" not in english.text
        assert (await p.call("registry", "GET", "/v1/complaints/policies/2027")).json()["handling_workdays"] == 10


async def test_two_officers_creating_a_window_or_bank_details_at_once_the_second_is_told(make_settings) -> None:
    services = ["registry", "vouchers", "payments"]
    settings = await make_settings(services)
    async with running(Platform(settings, services), worker=False, relay=False) as p, gateway(p) as c:
        # two center officers open the claims page of a year with no window; both set one
        as_party(c, p, Role.CENTER)
        page = f"/redemption/claims?year={YEAR}&lang=zh"
        first, second = Opened((await c.get(page)).text, "window-form"), Opened((await c.get(page)).text, "window-form")
        assert first.version == second.version == "0"
        april = {"year": str(YEAR), "opens_on": f"{YEAR + 1}-04-01", "closes_on": f"{YEAR + 1}-04-30"}
        may = {"year": str(YEAR), "opens_on": f"{YEAR + 1}-05-01", "closes_on": f"{YEAR + 1}-05-31"}
        assert f'action="/redemption/window?year={YEAR}"' in (await c.get(page)).text
        assert (await first.save(c, f"/redemption/window?year={YEAR}", april)).status_code == 303
        refused = await second.save(c, f"/redemption/window?year={YEAR}", may)
        assert refused.status_code == 409 and alert_of(refused.text) == f"出错了：{CHANGED_ZH}", refused.text
        assert f'name="opens_on" value="{YEAR + 1}-04-01"' in refused.text and version_of(refused.text, "window-form") == "1"
        assert (await p.call("vouchers", "GET", f"/v1/redemption/windows/{YEAR}")).json()["opens_on"] == f"{YEAR + 1}-04-01"

        # two people of a unit enter its first bank details; the second is told and shown the first's
        unit = uid()
        as_party(c, p, Role.UNIT, unit)
        first, second = Opened((await c.get("/unit/payee")).text, "payee-form"), Opened((await c.get("/unit/payee")).text, "payee-form")
        assert first.version == second.version == "0"
        saved = await first.save(c, "/unit/payee", {"bank_name": "中国银行许昌分行", "account_name": "许昌某研究院", "account_number": "104123456789012"})
        assert saved.status_code == 303, saved.text
        refused = await second.save(c, "/unit/payee", {"bank_name": "中国工商银行许昌分行", "account_name": "许昌某研究院", "account_number": "62220212345678"})
        # the payee page shows the details saved beside the form and keeps what was typed (its edits do so too)
        assert refused.status_code == 409 and alert_of(refused.text) == f"出错了：{CHANGED_KEPT_ZH}", refused.text
        saved_now = re.search(r'<dl class="facts" id="payee">(.*?)</dl>', refused.text, re.DOTALL)
        assert saved_now and "中国银行许昌分行" in text_of(saved_now.group(1)) and "9012" in text_of(saved_now.group(1))
        assert 'name="bank_name" required maxlength="200" value="中国工商银行许昌分行"' in refused.text and version_of(refused.text, "payee-form") == "1"
        stored = (await p.call("payments", "GET", f"/v1/payees/{unit}", role=Role.FINANCE)).json()
        assert (stored["bank_name"], stored["account_number_masked"][-4:], stored["version"]) == ("中国银行许昌分行", "9012", 1)
