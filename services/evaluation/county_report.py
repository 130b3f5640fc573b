"""The per-county report: the units' measures summed by the unit's county
(its ``county_code`` from the registry), and its workbook (区县报表).
``outside_users_served`` is therefore the sum of the units' distinct outside
users — a user served by two units counts twice."""

from __future__ import annotations

from collections.abc import Sequence


from services.evaluation.measures import measure_fields
from services.evaluation.report_labels import LABELS
from services.evaluation.report_workbooks import bar_chart, cell_value, formats, header, save, title_sheet
from services.evaluation.reports import GroupRow, UnitRow
from services.runtime.city import City

NO_COUNTY = "未填写区县"


def county_name(code: str | None, city: City) -> str:
    """The name of one of the city's counties (the city file, ``XCISS_CITY_FILE``);
    another code is shown as it is."""
    if not code:
        return NO_COUNTY
    return city.division_name(code) or code


def county_rows(rows: Sequence[UnitRow], city: City) -> list[GroupRow]:
    """Units' measures summed by the unit's county, by county code."""
    groups: dict[str, GroupRow] = {}
    for r in rows:
        key = r.county_code or ""
        g = groups.get(key)
        if g is None:
            g = groups[key] = GroupRow(key=key, label=county_name(key, city), values=dict.fromkeys(measure_fields(), 0))
        g.units += 1
        for f in g.values:
            g.values[f] += getattr(r.measures, f)
    return [groups[k] for k in sorted(groups, key=lambda k: (k == "", k))]


def counties_xlsx(year: int, groups: Sequence[GroupRow]) -> bytes:
    """Sheet 区县报表 with a 合计 row, and bar charts of orders served, service
    revenue and instruments listed per county beside it."""
    from openpyxl import Workbook  # loaded for a workbook only (report_workbooks.py)
    from openpyxl.chart import Reference
    from openpyxl.styles import Font

    fields = measure_fields()
    wb = Workbook()
    ws = title_sheet(wb, "区县报表")
    header(ws, ["区县", "区划代码", "单位（家）", *(LABELS.get(f, f) for f in fields)])
    for g in groups:
        ws.append([g.label, g.key, g.units, *(cell_value(f, g.values[f]) for f in fields)])
    n = len(groups)
    ws.append(["合计", "", sum(g.units for g in groups), *(cell_value(f, sum(g.values[f] for g in groups)) for f in fields)])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    formats(ws, 4, fields, ws.max_row)
    if n:
        cats = Reference(ws, min_col=1, min_row=2, max_row=n + 1)

        def col(f: str) -> Reference:
            c = 4 + fields.index(f)
            return Reference(ws, min_col=c, min_row=1, max_row=n + 1)

        anchor_row = ws.max_row + 3
        bar_chart(f"{year}年各区县完成服务订单", "单", ws, cats, col("orders_served"), f"A{anchor_row}")
        bar_chart(f"{year}年各区县服务收入", "元", ws, cats, col("revenue_fen"), f"H{anchor_row}")
        bar_chart(f"{year}年各区县入网仪器", "台", ws, cats, col("instruments_listed"), f"A{anchor_row + 18}")
    return save(wb)
