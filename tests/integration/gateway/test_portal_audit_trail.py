"""The auditor's /audit page through the gateway and the real vouchers service:
an entry's before and after name every field in words, in Chinese and in
English (msgctxt "audit_field"), money in yuan with its unit said, never a
field's code (``budget_fen``, ``rate_bp``, ``appeal_window_days`` were shown
as such until every key the services audit had words). SQLite and PostgreSQL."""

from __future__ import annotations

import html as markup
import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.portal import as_party, gateway, text_of
from tests.support.vouchers import YEAR, call, open_programme

SERVICES = ["vouchers"]
ROW = re.compile(r'<tr( class="changed")?><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>', re.DOTALL)


def changes(page: str) -> list[list[tuple[str, str, str, bool]]]:
    """Each entry's changes table, newest entry first: (field, before, after, changed) a row."""
    tables = re.findall(r'<table class="changes">(.*?)</table>', page, re.DOTALL)
    return [[(markup.unescape(text_of(f)), markup.unescape(text_of(b)), markup.unescape(text_of(a)), bool(c)) for c, f, b, a in ROW.findall(t)] for t in tables]


async def test_the_auditor_reads_a_programmes_budget_change_in_words(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as c:
        await open_programme(p, budget_fen=100_000_000, rate_bp=2500, cap_fen=4_000_000, special_cap_fen=8_000_000, appeal_window_days=20, eligible_classes=["high_tech"])
        await call(p, "PATCH", f"/v1/programmes/{YEAR}/budget", Role.BUREAU, json={"budget_fen": 120_000_000, "reason": "追加预算"}, status=200)
        as_party(c, p, Role.AUDITOR)

        page = (await c.get("/audit?service=vouchers&action=programme.budget")).text
        [entry] = changes(page)
        rows = {field: (before, after, changed) for field, before, after, changed in entry}
        assert rows["预算（元）"] == ("¥1,000,000.00", "¥1,200,000.00", True), entry
        assert rows["补贴比例（单位：万分之一）"] == ("2500", "2500", False), entry
        assert rows["年度额度（元）"][1] == "¥40,000.00" and rows["特别类别年度额度（元）"][1] == "¥80,000.00", entry
        assert rows["复议期限（天）"][1] == "20" and rows["系统自动核准"][1] == "否" and rows["开放申领"][1] == "是", entry
        assert {"已占用（元）", "剩余（元）", "支持对象", "年度", "版本"} <= set(rows), entry
        assert entry[0][0] in ("预算（元）", "剩余（元）", "版本") and entry[0][3], entry  # the changed fields come first
        assert not [f for f, *_ in entry if re.search(r"[A-Za-z_]", f)], entry  # no field by its code

        english = (await c.get("/audit?service=vouchers&action=programme.budget&lang=en")).text
        [entry_en] = changes(english)
        fields_en = {f for f, *_ in entry_en}
        assert {"budget (CNY)", "voucher rate (basis points)", "yearly cap (CNY)", "appeal window (days)", "eligible user classes", "open for applications"} <= fields_en, fields_en
        assert not [f for f in fields_en if "_" in f or re.search(r"[\u4e00-\u9fff]", f)], fields_en
