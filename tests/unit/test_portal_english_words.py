"""Issue 17, words written into templates: pages that said some things in Chinese whatever
the language (an instrument's state, an import's counts, the ledger's heading, the home
page's search hint and "from" price, an order's suggested contract terms and the amount's
unit) say them from the catalogues: Chinese by default, English with ``?lang=en``. The
services are mocked; each page is rendered in both languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from services.gateway.app import create_app
from services.runtime import clock
from services.runtime.http.auth import issue_token
from services.runtime.settings import Settings

SERVICES = ("registry", "vouchers", "evaluation", "payments")
INSTRUMENTS = [
    {"instrument_id": "i1", "name": "X射线衍射仪", "category": "分析仪器", "status": "maintenance", "original_value_fen": 100, "funding": "fiscal_full", "classified": False},
    {"instrument_id": "i2", "name": "气相色谱仪", "category": "分析仪器", "status": "retired", "original_value_fen": 100, "funding": "fiscal_full", "classified": False},
    {"instrument_id": "i3", "name": "扫描电子显微镜", "category": "分析仪器", "status": "in_service", "original_value_fen": 100, "funding": "fiscal_full", "classified": False},
]
ORDER = {"unit_id": "unit-1", "user_id": "u1", "items": [], "documents": [], "amount_fen": 100_000, "list_amount_fen": 100_000, "created_at": "2026-11-27T12:15:00Z", "version": 3}
ANSWERS: dict[str, Any] = {
    "/v1/catalogue/instruments": {"items": [{"instrument_id": "i1", "name": "X射线衍射仪", "unit_name": "许昌学院", "category": "分析仪器", "county_code": "411002", "min_price_fen": 30_000}], "total": 1},
    "/v1/instruments/": {"items": INSTRUMENTS, "total": 3},
    "/v1/imports/j1": {"job_id": "j1", "status": "completed", "filename": "台账.xlsx", "processed_rows": 3, "total_rows": 3, "created_count": 2, "unchanged_count": 1, "errors": []},
    f"/v1/reports/budget-execution/{clock.local_year()}": {"voucher": {"committed_fen": 100}},
    "/v1/orders/o1": ORDER | {"order_id": "o1", "case_no": "DD-2026-000001", "status": "quoted", "contract": {"provincial_subsidy": False, "testing_fee_fen": None}},
    "/v1/orders/o2": ORDER | {"order_id": "o2", "case_no": "DD-2026-000002", "status": "results_delivered", "contract": {"provincial_subsidy": False}, "settlement_id": "s1"},
    "/v1/settlements/s1": {"settlement_id": "s1", "fee_fen": 100_000, "voucher_fen": 30_000, "payable_fen": 70_000, "paid_fen": 0},
}


@pytest.fixture
def client(tmp_path: Path) -> Any:
    settings = Settings(data_dir=tmp_path, demo=False)

    def upstream(request: httpx.Request) -> httpx.Response:
        found = ANSWERS.get(request.url.path)
        return httpx.Response(200, json=found) if found is not None else httpx.Response(404, json={"code": "request.not_found", "message_zh": "请求的地址或对象不存在"})

    app = create_app(settings, transport=httpx.MockTransport(upstream), upstreams={s: f"http://{s}.svc" for s in SERVICES})
    with TestClient(app) as c:

        def page(path: str, lang: str, role: str | None = None, org: str | None = None) -> str:
            c.cookies.clear()
            if role:
                c.cookies.set("xciss_session", issue_token(settings, subject=f"demo-{role}", role=role, org=org, ttl_s=600))
            r = c.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert r.status_code == 200, r.text
            return str(r.text)

        yield page


#: (page, role, org) → what it says in Chinese, what it says in English instead
PAGES = [
    (("/", None, None), ["扫描电镜、质谱、材料试验…", "¥300.00 起"], ['placeholder="Electron microscope, mass spectrometry, materials testing…"', "from ¥300.00"]),
    (("/unit/instruments", "unit", "unit-1"), ["维护中", "已退役", "在用"], ["Under maintenance", "Retired", "In service"]),
    (("/queue", "department", "魏都区科技局"), ["维护中", "已退役", "在用"], ["Under maintenance", "Retired", "In service"]),
    (("/unit/imports/j1", "unit", "unit-1"), ["新增 2", "未变 1"], ["2 new", "1 unchanged"]),
    (("/dashboard", "bureau", None), ["预算执行（账簿）"], ["Budget execution (ledger)"]),
    (("/orders/o1", "user", "u1"), ["检测数据及成果归用户所有", "管理单位对样品、数据和结果保密", "因用户操作不当造成仪器损坏的，按维修费用赔偿"],
     ["The test data and results belong to the user", "The unit keeps the samples, data and results confidential", "compensated at the cost of repair"]),
    (("/orders/o2", "user", "u1"), ["金额（元）"], ["Amount (CNY)"]),
]


@pytest.mark.parametrize(("where", "chinese", "english"), PAGES, ids=[p[0][0] for p in PAGES])
def test_a_page_says_its_own_words_in_the_pages_language(client: Any, where: tuple[str, str | None, str | None], chinese: list[str], english: list[str]) -> None:
    zh, en = client(*where[:1], "zh", *where[1:]), client(*where[:1], "en", *where[1:])
    for words in chinese:
        assert words in zh, words
        assert words not in en, f"{words!r} on the English page"
    for words in english:
        assert words in en, words
