"""The portal's unit pickers at a city's size (issue 17): with 120 units registered, the
120th — beyond the first page of 100 the pickers used to read — is found by part of its name
or by its unified social credit code, chosen and saved in the bureau's fraud finding, the
bureau's provincial award and the center's expert pool (its own unit and a tie), and shown by
name; several matches are offered to choose from, an unknown name is refused at the field in
Chinese, a refused save keeps the unit's name in the field; the catalogue filters by a unit
found the same way; the datalist's JSON answers a short list. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html as markup
import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, verified_user
from tests.support.portal import as_party, error_at, gateway, post, text_of

SERVICES = ["registry", "evaluation"]
FINDING = {"party_type": "unit", "sanctions": ["criticism"], "years": "2026", "reason": "伪造检测合同骗取创新券"}


def field_value(html: str, name: str) -> str:
    found = re.search(rf'<input id="[^"]+" name="{name}" type="search" value="([^"]*)"', html)
    assert found, f"no picker {name}"
    return markup.unescape(found.group(1))


def offered(html: str, name: str) -> list[str]:
    """The units offered to choose from, as radio buttons named ``name``: their labels."""
    return [text_of(x).strip() for x in re.findall(rf'<label class="choice"><input type="radio" name="{name}" value="[^"]+"[^>]*>(.*?)</label>', html)]


async def test_the_hundred_and_twentieth_unit_is_found_chosen_and_shown_by_name(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        ids = [await approved_unit(p, name=f"许昌第{i}检测中心") for i in range(1, 121)]
        last = ids[-1]
        code = (await p.call("registry", "GET", f"/v1/units/{last}", role=Role.CENTER)).json()["credit_code"]
        assert len((await p.call("registry", "GET", "/v1/units/", role=Role.BUREAU, params={"page_size": 100})).json()["items"]) == 100

        # the bureau's fraud finding: the field is named in Chinese; 查找 offers the matches, saving nothing
        as_party(c, p, Role.BUREAU)
        page = (await c.get("/supervision/fraud")).text
        assert '<label for="unit_id-q">管理单位（主体为单位时）</label>' in page and "许昌第1检测中心" not in page  # no list of every unit
        r = await post(c, "/supervision/fraud", "/supervision/fraud", {**FINDING, "unit_id_q": "第12", "find": "查找单位"})
        assert r.status_code == 200 and offered(r.text, "unit_id") == [f"许昌第12检测中心 {(await p.call('registry', 'GET', f'/v1/units/{ids[11]}', role=Role.CENTER)).json()['credit_code']}", f"许昌第120检测中心 {code}"]
        assert "符合“第12”的单位" in r.text and (await p.call("registry", "GET", "/v1/fraud-findings/", role=Role.BUREAU)).json()["items"] == []
        # saving with two matches and none chosen: refused at the field, the matches offered
        r = await post(c, "/supervision/fraud", "/supervision/fraud", {**FINDING, "unit_id_q": "第12"})
        assert r.status_code == 400 and error_at(r.text, "unit_id") == "有 2 个单位符合“第12”，请从列表中选择一个"
        assert len(offered(r.text, "unit_id")) == 2
        # an unknown name: refused at the field in Chinese (English on ?lang=en)
        r = await post(c, "/supervision/fraud", "/supervision/fraud", {**FINDING, "unit_id_q": "郑州某研究院"})
        assert r.status_code == 400 and error_at(r.text, "unit_id") == "找不到名称或统一社会信用代码含“郑州某研究院”的单位"
        assert field_value(r.text, "unit_id_q") == "郑州某研究院"
        r = await post(c, "/supervision/fraud?lang=en", "/supervision/fraud?lang=en", {**FINDING, "unit_id_q": "郑州某研究院"})
        assert error_at(r.text, "unit_id") == "no unit's name or unified social credit code contains “郑州某研究院”"
        assert '<label for="unit_id-q">Unit (if the party is a unit)</label>' in r.text
        as_party(c, p, Role.BUREAU)
        await c.get("/supervision/fraud?lang=zh")
        # the 120th chosen among the matches, a refusal elsewhere: its name stays in the field, chosen
        r = await post(c, "/supervision/fraud", "/supervision/fraud", {**FINDING, "unit_id_q": "第12", "unit_id": last, "reason": ""})
        assert r.status_code == 400 and "理由" in r.text and field_value(r.text, "unit_id_q") == "许昌第120检测中心"
        assert f'<input type="hidden" name="unit_id" value="{last}">' in r.text
        r = await post(c, "/supervision/fraud", "/supervision/fraud", {**FINDING, "unit_id_q": "许昌第120检测中心", "unit_id": last})
        assert r.status_code == 303, r.text
        listed = (await p.call("registry", "GET", "/v1/fraud-findings/", role=Role.BUREAU)).json()["items"]
        assert [(f["party_id"], f["party_type"]) for f in listed] == [(last, "unit")]
        row = re.search(r'<table class="list"[^>]* id="fraud-findings">.*?</table>', (await c.get("/supervision/fraud")).text, re.DOTALL)
        assert row and "许昌第120检测中心" in text_of(row.group(0)) and last not in row.group(0)

        # the provincial award: the unit found by its credit code (lower case typed)
        r = await post(c, "/supervision/provincial-awards", "/supervision/provincial-awards", {"unit_id_q": code.lower(), "year": "2026", "reference": "豫科〔2026〕12号", "confirm": "1"})
        assert r.status_code == 303, r.text
        page = (await c.get("/supervision/provincial-awards?year=2026")).text
        assert "许昌第120检测中心" in text_of(re.search(r'id="provincial-awards">.*?</table>', page, re.DOTALL).group(0))  # type: ignore[union-attr]

        # the center's expert pool: its own unit by credit code, a tie by part of a name
        as_party(c, p, Role.CENTER)
        r = await post(c, "/experts", "/experts", {"name": "王工", "role": "technical", "unit_id_q": code, "tie_q": "第119", "find": "查找单位"})
        assert r.status_code == 200 and field_value(r.text, "unit_id_q") == "许昌第120检测中心"
        assert re.search(rf'<input type="checkbox" name="ties" value="{ids[118]}" checked>许昌第119检测中心', r.text), "the tie found stays ticked"
        r = await post(c, "/experts", "/experts", {"name": "", "role": "technical", "unit_id_q": code, "ties": [ids[118]]})
        assert r.status_code == 400 and field_value(r.text, "unit_id_q") == "许昌第120检测中心"  # kept after a refused save
        r = await post(c, "/experts", "/experts", {"name": "王工", "role": "technical", "unit_id_q": "许昌第120检测中心", "unit_id": last, "ties": [ids[118]], "tie_q": "第117"})
        assert r.status_code == 303, r.text
        experts = (await p.call("evaluation", "GET", "/v1/experts/", role=Role.CENTER)).json()["items"]
        assert [(e["unit_id"], e["ties"]) for e in experts] == [(last, sorted([ids[116], ids[118]]))]
        table = text_of(re.search(r'id="experts">.*?</table>', (await c.get("/experts")).text, re.DOTALL).group(0))  # type: ignore[union-attr]
        assert "许昌第120检测中心" in table and "许昌第119检测中心" in table and "许昌第117检测中心" in table
        r = await post(c, "/experts", "/experts", {"name": "李工", "role": "finance", "tie_q": "第999"})
        assert r.status_code == 400 and error_at(r.text, "tie") == "找不到名称或统一社会信用代码含“第999”的单位"

        # the catalogue: filtered by a unit typed; an unknown one is said at the field
        page = (await c.get("/instruments", params={"unit_id_q": "第120检测"})).text
        assert field_value(page, "unit_id_q") == "许昌第120检测中心" and f'name="unit_id" value="{last}"' in page
        page = (await c.get("/instruments", params={"unit_id_q": "郑州"})).text
        assert error_at(page, "unit_id") == "找不到名称或统一社会信用代码含“郑州”的单位"


async def test_the_party_of_a_fraud_finding_against_a_user_is_found_by_name_or_code(make_settings) -> None:
    """The bureau's fraud finding against a user: the user is found by part of its name or its credit
    code (``listUsers?q=``), not picked from a list of the first 100 users; two matches are offered,
    an unknown name is refused at the field in Chinese, the one found is saved and shown by name."""
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        ids = [await verified_user(p, name) for name in ("许昌甲科技有限公司", "许昌乙科技有限公司", "长葛丙机械有限公司")]
        code = (await p.call("registry", "GET", f"/v1/users/{ids[2]}", role=Role.CENTER)).json()["credit_code"]
        found = (await p.call("registry", "GET", "/v1/users/", role=Role.BUREAU, params={"q": "科技"})).json()
        assert [u["user_id"] for u in found["items"]] == ids[:2] and found["total"] == 2
        assert [u["user_id"] for u in (await p.call("registry", "GET", "/v1/users/", role=Role.CENTER, params={"q": code[-6:].lower()})).json()["items"]] == [ids[2]]

        as_party(c, p, Role.BUREAU)
        finding = {**FINDING, "party_type": "user"}
        r = await post(c, "/supervision/fraud", "/supervision/fraud", {**finding, "user_id_q": "科技"})
        assert r.status_code == 400 and error_at(r.text, "user_id") == "有 2 个用户符合“科技”，请从列表中选择一个"
        assert [o.split()[0] for o in offered(r.text, "user_id")] == ["许昌甲科技有限公司", "许昌乙科技有限公司"]
        r = await post(c, "/supervision/fraud", "/supervision/fraud", {**finding, "user_id_q": "郑州某公司"})
        assert r.status_code == 400 and error_at(r.text, "user_id") == "找不到名称或统一社会信用代码含“郑州某公司”的用户"
        r = await post(c, "/supervision/fraud", "/supervision/fraud", {**finding, "user_id_q": code})
        assert r.status_code == 303, r.text
        listed = (await p.call("registry", "GET", "/v1/fraud-findings/", role=Role.BUREAU)).json()["items"]
        assert [(f["party_id"], f["party_type"]) for f in listed] == [(ids[2], "user")]
        table = re.search(r'<table class="list"[^>]* id="fraud-findings">.*?</table>', (await c.get("/supervision/fraud")).text, re.DOTALL)
        assert table and "长葛丙机械有限公司" in text_of(table.group(0))
