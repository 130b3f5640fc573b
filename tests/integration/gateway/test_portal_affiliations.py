"""Ties between users and units on /affiliations (R26, issue 17): a user declares its tie to a
unit found by part of its name; the bureau sees it with both names and records another between
a user found by credit code and a unit; a missing kind is refused at its field; the center
removes a tie with a reason (refused without one); the unit reads its ties without a form.
SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, verified_user
from tests.support.portal import csrf_of, error_at, gateway, text_of

SERVICES = ["registry"]


def rows(html: str) -> list[str]:
    table = re.search(r'<table class="list"[^>]* id="affiliations">.*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert table, "no table"
    return [text_of(r).strip() for r in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.DOTALL) if "colspan" not in r]


async def test_ties_are_declared_recorded_and_removed_on_the_page(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        college = await approved_unit(p, name="许昌学院化学化工学院")
        other = await approved_unit(p, name="许昌市农业科学研究所")
        user = await verified_user(p, "许昌校办企业有限公司")
        second = await verified_user(p, "许昌合作研发有限公司")
        code = (await p.call("registry", "GET", f"/v1/users/{second}", role=Role.CENTER)).json()["credit_code"]

        c.cookies.set("xciss_session", p.token(Role.USER, user))
        page = (await c.get("/affiliations")).text
        assert 'id="affiliation-form"' in page and 'name="user_id_q"' not in page  # a user declares its own ties only
        r = await c.post("/affiliations", data={"_csrf_token": csrf_of(page), "unit_id_q": "化学化工"})
        assert r.status_code == 400 and error_at(r.text, "kind") == "此项必填", r.text
        r = await c.post("/affiliations", data={"_csrf_token": csrf_of(page), "unit_id_q": "化学化工", "kind": "subordination", "note": "学院全资设立"})
        assert r.status_code == 303, r.text
        mine = rows((await c.get("/affiliations")).text)
        assert len(mine) == 1 and "许昌学院化学化工学院" in mine[0] and "隶属关系" in mine[0] and "用户申报" in mine[0]

        c.cookies.set("xciss_session", p.token(Role.BUREAU))
        page = (await c.get("/affiliations")).text
        r = await c.post("/affiliations", data={"_csrf_token": csrf_of(page), "user_id_q": code, "unit_id_q": "农业科学", "kind": "co_construction"})
        assert r.status_code == 303, r.text
        listed = rows((await c.get("/affiliations")).text)
        assert len(listed) == 2 and any("许昌合作研发有限公司" in r and "许昌市农业科学研究所" in r and "共建关系" in r and "审核登记" in r for r in listed), listed

        c.cookies.set("xciss_session", p.token(Role.CENTER))
        page = (await c.get("/affiliations")).text
        tie = next(a["affiliation_id"] for a in (await p.call("registry", "GET", "/v1/affiliations/", role=Role.CENTER)).json()["items"] if a["user_id"] == second)
        r = await c.post(f"/affiliations/{tie}/remove", data={"_csrf_token": csrf_of(page), "removal_reason": ""})
        assert r.status_code == 400 and error_at(r.text, "removal_reason") == "移除关联关系须填写理由"
        r = await c.post(f"/affiliations/{tie}/remove", data={"_csrf_token": csrf_of(page), "removal_reason": "共建协议已于 2025 年终止"})
        assert r.status_code == 303, r.text
        assert len(rows((await c.get("/affiliations")).text)) == 1

        c.cookies.set("xciss_session", p.token(Role.UNIT, college))
        page = (await c.get("/affiliations")).text
        assert 'id="affiliation-form"' not in page and len(rows(page)) == 1
        c.cookies.set("xciss_session", p.token(Role.UNIT, other))
        assert rows((await c.get("/affiliations")).text) == []
        c.cookies.set("xciss_session", p.token(Role.USER, user))
        r = await c.post(f"/affiliations/{tie}/remove", data={"_csrf_token": csrf_of(page), "removal_reason": "x"})
        assert r.status_code == 403
