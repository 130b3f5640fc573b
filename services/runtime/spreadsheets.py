"""Spreadsheet files that leave the platform (payment orders, reports,
templates), written so that no cell is a live formula.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is a formula to Excel, LibreOffice and WPS when the text arrives
through a formula cell or a CSV field: a unit's bank name
``=HYPERLINK("http://evil","x")`` became a live link in finance's payment
order (issue 14). Every export goes through this module:

* ``xlsx_bytes(workbook)`` saves a workbook after turning every such text
  into a text cell (``data_type`` ``s``, shared/inline string) with Excel's
  quote prefix set, so the cell shows exactly what was typed, is never
  evaluated and stays text when someone edits it. The value itself is not
  changed: finance's import of the payment order gets the real bank name.
* ``csv_bytes(rows)`` writes UTF-8 CSV with a BOM and prefixes such a field
  with a single quote, as OWASP recommends for CSV ("CSV Injection").

Numbers (including negative ones), dates and booleans are left alone: only
text is ever read as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

#: the first characters that make a spreadsheet program read text as a formula
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


if TYPE_CHECKING:
    from openpyxl import Workbook


def formula_like(value: Any) -> bool:
    """Text that a spreadsheet program would take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralise(wb: Workbook) -> int:
    """Make every formula-like text cell of every sheet a quoted text cell, in
    place; the number of cells changed."""
    changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if formula_like(cell.value):
                    cell.data_type = "s"  # openpyxl stored "=…" as a formula ("f")
                    cell.quotePrefix = True
                    changed += 1
    return changed


def xlsx_bytes(wb: Workbook) -> bytes:
    """The workbook as .xlsx, with no formula-like text left live."""
    neutralise(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_field(value: Any) -> Any:
    """A CSV field: formula-like text gets a leading ``'``; the rest as it is."""
    return "'" + value if formula_like(value) else value


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 CSV with a BOM (Excel then opens it as UTF-8) and CRLF line ends."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        w.writerow([csv_field(v) for v in row])
    return out.getvalue().encode("utf-8-sig")
