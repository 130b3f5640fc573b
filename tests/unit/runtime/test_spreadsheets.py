"""Formula injection: every cell of an export that starts like a formula is
text, in .xlsx (read back with openpyxl) and in CSV (OWASP's quote prefix)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from services.runtime import spreadsheets

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


def test_every_formula_like_text_is_a_text_cell_and_numbers_stay_numbers() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([*HOSTILE, -5, 12.5, "许昌某大学", "a=b"])
    other = wb.create_sheet("second")
    other["C7"] = "=1+1"

    back = load_workbook(io.BytesIO(spreadsheets.xlsx_bytes(wb)))
    row = list(back.active[1])
    for cell, text in zip(row, HOSTILE, strict=False):
        assert cell.data_type == "s", (text, cell.data_type)
        # shown as written, not evaluated, not altered (XML reads a carriage return back as a line feed)
        assert cell.value == text.replace("\r", "\n")
        assert cell.quotePrefix  # Excel keeps it text when someone edits the cell
    # a genuine negative number is a number; ordinary text is untouched
    assert [(c.value, c.data_type) for c in row[6:]] == [(-5, "n"), (12.5, "n"), ("许昌某大学", "s"), ("a=b", "s")]
    assert not row[8].quotePrefix
    assert back["second"]["C7"].data_type == "s" and back["second"]["C7"].value == "=1+1"


@pytest.mark.parametrize("text", HOSTILE)
def test_a_csv_cell_that_starts_like_a_formula_gets_a_quote(text: str) -> None:
    data = spreadsheets.csv_bytes([["名称", "金额"], [text, -5]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["名称", "金额"], ["'" + text, "-5"]]


def test_ordinary_csv_cells_are_unchanged() -> None:
    rows = list(csv.reader(io.StringIO(spreadsheets.csv_bytes([["2024-09-20", "199999.99", "a=b", None, 3]]).decode("utf-8-sig"), newline="")))
    assert rows == [["2024-09-20", "199999.99", "a=b", "", "3"]]
