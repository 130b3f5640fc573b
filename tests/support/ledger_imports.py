"""A unit's instrument ledger (台账) as an Excel sheet, for the import tests: a row of it,
the workbook of rows, and its upload to the registry (as a file, or raw)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from services.registry import ledger
from services.runtime.roles import Role
from tests.support.platform import Platform

HEADER = list(ledger.COLUMNS)
XLSX = ledger.XLSX_MEDIA_TYPE


def row(asset: str, **kw: Any) -> list[Any]:
    values = {
        "资产编号": asset,
        "仪器名称": "液相色谱质谱联用仪",
        "类别": "分析仪器",
        "型号": "LCMS-8060",
        "生产厂家": "岛津",
        "原值（元）": "200000.00",
        "资金来源": "全部财政",
        "验收日期": "2024-09-20",
        "是否免税进口": "否",
        "是否涉密": "否",
        "存放地点": "实验楼A301",
        "主要技术指标": "质量范围 2-2000 m/z",
        "主要功能": "定性定量分析",
        "样品要求": "液体样品不少于 2 mL",
        **kw,
    }
    return [values[c] for c in HEADER]


def xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def upload(p: Platform, unit: str, content: bytes, *, name: str = "台账.xlsx", role: Role = Role.UNIT, org: str | None = None, raw: bool = False) -> Any:
    path = f"/v1/units/{unit}/imports"
    org = org if org is not None else (unit if role is Role.UNIT else None)
    if raw:
        media = XLSX if name.endswith(".xlsx") else "text/csv"
        return await p.call("registry", "POST", f"{path}?filename={name}", role=role, org=org, content=content, headers={"Content-Type": media})
    return await p.call("registry", "POST", path, role=role, org=org, files={"file": (name, content, XLSX)})
