"""Another city is a file, not code (issue 18): with a Zhengzhou city file
(XCISS_CITY_FILE, services/runtime/city.py) the catalogue search takes Zhengzhou's
districts as counties and refuses Xuchang's, in words naming Zhengzhou; the county
report and the portal name a unit's county by the file. Through the real services,
the registry's read model, evaluation's view of the units and the gateway's portal,
on both databases."""

from __future__ import annotations

from pathlib import Path

from services.runtime.city import load_city
from services.runtime.roles import Role
from tests.support.evaluation_cycle import YEAR, call, units_known
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.portal import gateway
from tests.support.year import City

SERVICES = ["registry", "evaluation"]
ZHENGZHOU = """name: {zh: 郑州市, en: Zhengzhou}
division_prefix: "4101"
divisions:
  "410102": 中原区
  "410103": 二七区
  "410105": 金水区
"""
SEARCH = "/v1/catalogue/instruments"


async def test_a_zhengzhou_city_file_changes_the_counties_search_reports_and_portal_take(make_settings, tmp_path: Path) -> None:
    path = tmp_path / "zhengzhou.yaml"
    path.write_text(ZHENGZHOU, encoding="utf-8")
    settings = await make_settings(SERVICES, city_file=path, city=load_city(path))
    async with running(Platform(settings, SERVICES)) as p, gateway(p) as c:
        # the search: a Xuchang district is no county here, in the file's words
        r = await p.call("registry", "GET", SEARCH, params={"county_code": "411002"})
        assert r.status_code == 400 and r.json()["code"] == "search.unknown_county", r.text
        problem = r.json()
        assert problem["message_zh"] == "“411002”不是郑州市的县（市、区）代码" and "Zhengzhou" in problem["message_en"], problem
        assert problem["details"]["allowed"] == ["410102", "410103", "410105"]
        # ... a Zhengzhou district is, and finds its unit's instrument
        city = City(p, YEAR)
        unit = await city.unit("郑州大学测试中心", "410102", "中原区科技局")
        iid, _ = await city.instrument(unit, "扫描电子显微镜", "分析仪器")

        async def found() -> bool:
            r = await p.call("registry", "GET", SEARCH, params={"county_code": "410102"})
            assert r.status_code == 200, r.text
            return [i["instrument_id"] for i in r.json()["items"]] == [iid]

        await eventually(found)
        r = await p.call("registry", "GET", SEARCH, params={"county_code": "410103"})
        assert r.status_code == 200 and r.json()["items"] == []

        # the county report names the county by the file
        await units_known(p, 1)
        counties = await call(p, "GET", f"/v1/reports/{YEAR}/counties", Role.BUREAU, status=200)
        assert [(row["county_code"], row["county_name"]) for row in counties["items"]] == [("410102", "中原区")]
        own = await call(p, "GET", f"/v1/reports/{YEAR}/units/{unit}", Role.CENTER, status=200)
        assert own["unit"]["county_name"] == "中原区"

        # the portal: the catalogue offers Zhengzhou's districts, the instrument and the reports name its county
        catalogue = (await c.get("/instruments")).text
        assert '<option value="410102"' in catalogue and "金水区" in catalogue and "魏都区" not in catalogue
        assert "中原区" in (await c.get(f"/instruments/{iid}")).text
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        await call(p, "POST", "/v1/cycles/", Role.BUREAU, json={"year": YEAR, "award_budget_fen": 10_000_000}, status=201)
        reports = (await c.get(f"/reports/{YEAR}")).text
        counties_table = reports.split('id="counties"', 1)[1].split("</table>", 1)[0]
        assert "中原区" in counties_table and "410102" not in counties_table
