"""The report workbooks' common make-up: a bold, frozen Chinese header row,
number formats (money in yuan, hours in hours), bar charts, and the bytes
(:func:`services.runtime.spreadsheets.xlsx_bytes`: text that looks like a
formula stays text)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from services.evaluation.report_labels import HOURS, YUAN
from services.runtime import spreadsheets

if TYPE_CHECKING:  # openpyxl is imported where a workbook is made: a service process that makes none saves ~13 MiB
    from openpyxl import Workbook
    from openpyxl.chart import Reference
    from openpyxl.worksheet.worksheet import Worksheet

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell_value(f: str, v: int) -> int | Decimal:
    if f in YUAN or f in HOURS:
        return Decimal(v) / 100
    return v


def header(ws: Worksheet, headers: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    ws.append(list(headers))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 32


def formats(ws: Worksheet, first_measure_col: int, fields: Sequence[str], last_row: int) -> None:
    from openpyxl.utils import get_column_letter

    for n, f in enumerate(fields):
        col = first_measure_col + n
        fmt = "#,##0.00" if (f in YUAN or f in HOURS) else "#,##0"
        for (cell,) in ws.iter_rows(min_row=2, max_row=last_row, min_col=col, max_col=col):
            cell.number_format = fmt
        ws.column_dimensions[get_column_letter(col)].width = 14
    for col in range(1, first_measure_col):
        ws.column_dimensions[get_column_letter(col)].width = 18


def bar_chart(title: str, y_title: str, ws: Worksheet, cats: Reference, data: Reference, anchor: str, *, horizontal: bool = False, n: int = 10) -> None:
    from openpyxl.chart import BarChart

    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = title
    chart.y_axis.title = y_title
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    chart.height = max(7.5, 0.6 * n) if horizontal else 8
    chart.width = 18
    chart.legend = None
    ws.add_chart(chart, anchor)


def save(wb: Workbook) -> bytes:
    return spreadsheets.xlsx_bytes(wb)  # a unit named "=…" is text, not a formula


def title_sheet(wb: Workbook, title: str) -> Worksheet:
    ws = wb.active
    assert ws is not None
    ws.title = title
    return ws


def filename(kind: str, year: int) -> str:
    return f"evaluation-{kind}-{year}.xlsx"
