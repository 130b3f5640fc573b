"""The per-unit report: every unit's measures of the year with its registry
attributes (name, kind, status, county, department), filtered by those
attributes, and its workbook (单位报表, with the top units by revenue charted)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.county_report import county_name
from services.evaluation.db.models import unit_view
from services.evaluation.domain.measures import Measures
from services.evaluation.measures import measure_fields, unit_measures
from services.evaluation.report_labels import LABELS
from services.evaluation.schemas import EvaluatedUnit, evaluated_unit
from services.evaluation.report_workbooks import bar_chart, cell_value, formats, header, save, title_sheet
from services.evaluation.reports import UnitFilter, UnitRow, totals
from services.runtime.city import City
from services.runtime.db.service_db import ServiceDatabase


async def _units(s: AsyncSession, flt: UnitFilter, unit_ids: Sequence[str] | None = None) -> dict[str, EvaluatedUnit]:
    q = select(unit_view)
    c = unit_view.c
    if unit_ids is not None:
        q = q.where(c.unit_id.in_(list(unit_ids)))
    if flt.county_code:
        q = q.where(c.county_code == flt.county_code)
    if flt.department:
        q = q.where(c.department == flt.department)
    if flt.status:
        q = q.where(c.status == flt.status)
    if flt.kind:
        q = q.where(c.kind == flt.kind)
    return {r["unit_id"]: evaluated_unit(r) for r in (await s.execute(q)).mappings()}


def _row(unit_id: str, info: EvaluatedUnit | None, m: Measures) -> UnitRow:
    """The unit's report row; a unit whose registry event has not come yet has only its id."""
    if info is None:
        return UnitRow(unit_id=unit_id, name="", kind=None, status=None, county_code=None, department=None, parent_unit_id=None, measures=m)
    return UnitRow(unit_id=unit_id, name=info.name, kind=info.kind, status=info.status, county_code=info.county_code, department=info.department,
                   parent_unit_id=info.parent_unit_id, measures=m)


async def unit_info(db: ServiceDatabase, unit_id: str) -> EvaluatedUnit | None:
    """The unit as the registry reported it, or None when evaluation has not heard of it."""
    async with db.read() as s:
        return (await _units(s, UnitFilter(), [unit_id])).get(unit_id)


async def one_unit(db: ServiceDatabase, year: int, unit_id: str) -> UnitRow:
    async with db.read() as s:
        info = (await _units(s, UnitFilter(), [unit_id])).get(unit_id)
        m = (await unit_measures(s, year, [unit_id]))[unit_id]
    return _row(unit_id, info, m)


async def unit_rows(db: ServiceDatabase, year: int, flt: UnitFilter = UnitFilter()) -> list[UnitRow]:
    """Every unit's row (filtered by the unit's attributes), by name then id.

    Without a filter this includes a unit that has facts but whose registry
    event evaluation has not received yet (name empty)."""
    async with db.read() as s:
        if flt.empty:
            infos = await _units(s, flt)
            ms = await unit_measures(s, year)
        else:
            infos = await _units(s, flt)
            ms = await unit_measures(s, year, list(infos))
    rows = [_row(u, infos.get(u), m) for u, m in ms.items()]
    rows.sort(key=lambda r: (r.name, r.unit_id))
    return rows


def units_xlsx(year: int, rows: Sequence[UnitRow], city: City, top: int = 20) -> bytes:
    """Sheet 单位报表: one row per unit and a 合计 row; sheet 图表: the ``top``
    units by service revenue, as a bar chart (their revenue and orders served)."""
    from openpyxl import Workbook  # loaded for a workbook only (report_workbooks.py)
    from openpyxl.chart import Reference
    from openpyxl.styles import Font

    fields = measure_fields()
    wb = Workbook()
    ws = title_sheet(wb, "单位报表")
    header(ws, ["单位名称", "单位编号", "区县", "主管部门", "状态", *(LABELS.get(f, f) for f in fields)])
    for r in rows:
        ws.append([r.name, r.unit_id, county_name(r.county_code, city), r.department or "", r.status or "", *(cell_value(f, getattr(r.measures, f)) for f in fields)])
    total = totals([r.measures for r in rows])
    ws.append([f"合计（{len(rows)} 家单位）", "", "", "", "", *(cell_value(f, total[f]) for f in fields)])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    formats(ws, 6, fields, ws.max_row)

    best = sorted(rows, key=lambda r: (-r.measures.revenue_fen, -r.measures.orders_served, r.name))[:top]
    cs = wb.create_sheet("图表")
    header(cs, ["单位名称", LABELS["revenue_fen"], LABELS["orders_served"]])
    for r in best:
        cs.append([r.name or r.unit_id, cell_value("revenue_fen", r.measures.revenue_fen), r.measures.orders_served])
    formats(cs, 2, ("revenue_fen", "orders_served"), cs.max_row)
    cs.column_dimensions["A"].width = 30
    if best:
        n = len(best)
        cats = Reference(cs, min_col=1, min_row=2, max_row=n + 1)
        bar_chart(f"{year}年服务收入前{n}名单位", "元", cs, cats, Reference(cs, min_col=2, min_row=1, max_row=n + 1), "E2", horizontal=True, n=n)
        bar_chart(f"{year}年完成服务订单（收入前{n}名单位）", "单", cs, cats, Reference(cs, min_col=3, min_row=1, max_row=n + 1), "E30", horizontal=True, n=n)
    return save(wb)
