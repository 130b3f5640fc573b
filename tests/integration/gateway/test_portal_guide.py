"""The guide (办事指南, issue 17) through the gateway, without signing in: every page
answers 200; the numbers it states are this programme year's as the services' public
policy endpoints report them, and follow when a year's parameter changes (the voucher
programme the bureau opens, the complaint deadline it sets, the claim window the center
sets, the evaluation's per-year override in its policy file); every ``#第X条`` a page links
to is an anchor of the policy text page it points to. The policy clock stands at Monday
2026-09-28 09:00 in Xuchang. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from services.evaluation.policy import __file__ as evaluation_policy_dir
from services.gateway.portal.guide_topics import DOCUMENT_NAMES, TOPICS
from services.runtime import clock
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.portal import fact, gateway

SERVICES = ["registry", "vouchers", "evaluation"]
T0 = datetime.fromisoformat("2026-09-28T09:00:00+08:00")
YEAR = 2026
#: this year's evaluation parameters changed in the test's copy of the policy file
OVERRIDE = "years:\n  2026: {awards_fen: {excellent: 6000000, good: 3500000}, notice_window_workdays: 7, rectification_days: 60}\n"


@pytest.fixture(autouse=True)
def policy_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: T0)


def evaluation_policy(tmp_path: Path) -> Path:
    text = (Path(evaluation_policy_dir).parent / "indicators-2023.yaml").read_text(encoding="utf-8")
    assert "\nyears: {}" in text
    path = tmp_path / "indicators.yaml"
    path.write_text(text.replace("\nyears: {}", "\n" + OVERRIDE), encoding="utf-8")
    return path


def guide_pages() -> list[str]:
    return ["/guide", *(f"/guide/{t.slug}" for t in TOPICS), "/guide/policy", *(f"/guide/policy/{n}" for n in DOCUMENT_NAMES if n)]


async def assert_every_article_link_lands(c: httpx.AsyncClient) -> int:
    """Every ``/guide/policy/N#第X条`` on every guide page is an id on page N; the count of links checked."""
    anchors: dict[str, set[str]] = {}
    checked = 0
    for path in guide_pages():
        html = (await c.get(path)).text
        for target, anchor in re.findall(r'href="(/guide/policy(?:/\d)?)#(第[^"]+条)"', html):
            if target not in anchors:
                anchors[target] = set(re.findall(r'<section class="article" id="(第[^"]+条)"', (await c.get(target)).text))
            assert anchor in anchors[target], (path, target, anchor)
            checked += 1
    return checked


async def test_the_guide_is_public_and_states_this_years_numbers_as_the_services_do(make_settings, tmp_path: Path) -> None:
    settings = await make_settings(SERVICES, evaluation_policy_file=evaluation_policy(tmp_path))
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        for path in guide_pages():
            for lang in ("en", "zh"):  # the last one stays (the language cookie): Chinese
                r = await c.get(path, params={"lang": lang})
                assert r.status_code == 200, (path, lang)
        assert (await c.get("/guide/no-such-topic")).status_code == 404
        # English is a marked summary; the Chinese page is the reference
        en = (await c.get("/guide/vouchers", params={"lang": "en"})).text
        assert 'id="en-summary"' in en and 'href="?lang=zh"' in en
        assert 'id="en-summary"' not in (await c.get("/guide/vouchers", params={"lang": "zh"})).text
        assert await assert_every_article_link_lands(c) > 40

        # vouchers: before the bureau opens the year, no number, the articles instead
        page = (await c.get("/guide/vouchers", params={"lang": "zh"})).text
        assert "尚未开放" in fact(page, "not-open") and 'id="rate"' not in page
        opened = await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json={"year": YEAR, "budget_fen": 80_000_000, "rate_bp": 2500, "cap_fen": 4_000_000, "appeal_window_days": 20})
        assert opened.status_code == 201, opened.text
        reported = (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")).json()
        assert (reported["rate_bp"], reported["cap_fen"], reported["appeal_window_days"]) == (2500, 4_000_000, 20)
        page = (await c.get("/guide/vouchers")).text
        assert fact(page, "rate") == "25%" and fact(page, "cap") == "40,000元" and fact(page, "appeal-days") == "20日"
        assert fact(page, "special-cap") == f"{reported['special_cap_fen'] // 100:,}元" and fact(page, "budget-left") == "800,000元"
        assert "检验检测费用的25%" in page and "驳回之日起20日内" in page
        classes = fact((await c.get("/guide/registration")).text, "eligible-classes")
        assert "高新技术企业" in classes and "科技型中小企业" in classes

        # complaints: the registry's file's deadline, then the bureau's own for the year
        default = (await p.call("registry", "GET", f"/v1/complaints/policies/{YEAR}")).json()
        assert fact((await c.get("/guide/complaints")).text, "handling-workdays") == f"{default['handling_workdays']}个工作日"
        changed = await p.call("registry", "PUT", f"/v1/complaints/policies/{YEAR}", role=Role.BUREAU, json={"handling_workdays": default["handling_workdays"] + 3, "reason": "测试"})
        assert changed.status_code == 200, changed.text
        page = (await c.get("/guide/complaints")).text
        assert fact(page, "handling-workdays") == f"{default['handling_workdays'] + 3}个工作日"

        # evaluation: the file's numbers for this year, as its public indicator set reports them
        params = (await p.call("evaluation", "GET", "/v1/indicator-set/", params={"year": YEAR})).json()["parameters_of_year"]
        assert (params["excellent_award_fen"], params["notice_window_workdays"], params["rectification_days"]) == (6_000_000, 7, 60)
        page = (await c.get("/guide/evaluation")).text
        assert fact(page, "award-excellent") == "60,000元" and fact(page, "award-good") == "35,000元"
        assert fact(page, "notice-workdays") == "7个工作日" and fact(page, "rectification-days") == "60日"
        assert fact(page, "excellent").startswith(f"{params['excellent_centi'] // 100}分及以上")

        # redemption: the claim window once the center sets it, and the same notice period
        page = (await c.get("/guide/redemption")).text
        assert "尚未公布" in fact(page, "window") and fact(page, "notice-workdays") == "7个工作日"
        window = await p.call("vouchers", "PUT", f"/v1/redemption/windows/{YEAR}", role=Role.CENTER, json={"opens_on": "2026-11-02", "closes_on": "2026-11-30"})
        assert window.status_code == 200, window.text
        assert fact((await c.get("/guide/redemption")).text, "window").startswith("2026-11-02 — 2026-11-30")
