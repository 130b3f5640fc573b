"""Reading a ledger file stops at the row limit: rows beyond it are never parsed."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from services.registry import ledger, ledger_files

EXAMPLE = list(ledger._EXAMPLE)


def _xlsx_with_sheet(sheet_rows: bytes, dimension: bytes = b'<dimension ref="A1:M2"/>') -> bytes:
    """A workbook whose first sheet's <sheetData> is ``sheet_rows``, written by hand."""
    wb = Workbook()
    out = io.BytesIO()
    wb.save(out)
    src = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    header = b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % c.encode() for c in ledger.COLUMNS)
    # Excel writes <dimension>; without it openpyxl scans the whole sheet once when opening it
    sheet = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + dimension + b'<sheetData><row r="1">' + header + b"</row>" + sheet_rows
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, sheet if info.filename == "xl/worksheets/sheet1.xml" else src.read(info.filename))
    return packed.getvalue()


def _row(n: int) -> bytes:
    return b'<row r="%d">' % n + b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % str(v).encode() for v in EXAMPLE) + b"</row>"


def test_the_first_row_beyond_the_limit_ends_the_reading() -> None:
    # 80 rows (about 50 KB of XML, parsed 16 KB at a time), then a syntax error:
    # the reader never gets there with a limit of 3
    data = _xlsx_with_sheet(b"".join(_row(n) for n in range(2, 82)) + b"<row><c")
    with pytest.raises(ledger.LedgerFileError) as refused:
        ledger.read_ledger(data, 3)
    assert refused.value.code == "import.too_many_rows" and refused.value.details == {"max_rows": 3}
    # with room for all five rows the reader reaches the break: unreadable, not a crash
    with pytest.raises(ledger.LedgerFileError) as broken:
        ledger.read_ledger(data, 100)
    assert broken.value.code == "import.unreadable"


def test_blank_rows_count_towards_the_reading_limit() -> None:
    # one instrument row far down the sheet: the gap is a million blank rows openpyxl would fill in
    data = _xlsx_with_sheet(_row(2) + _row(1_000_000) + b"</sheetData></worksheet>")
    with pytest.raises(ledger.LedgerFileError) as refused:
        ledger.read_ledger(data, 10)
    assert refused.value.code == "import.too_many_rows"
    # a few blank rows are fine
    errors, rows = ledger.read_ledger(_xlsx_with_sheet(_row(2) + _row(40) + b"</sheetData></worksheet>"), 10)
    assert errors == [] and [r.row for r in rows] == [2, 40]


def test_a_csv_stops_at_the_limit_too() -> None:
    lines = [",".join(ledger.COLUMNS)] + [",".join(EXAMPLE)] * 4 + ['"unterminated']
    data = "\r\n".join(lines).encode()
    with pytest.raises(ledger.LedgerFileError) as refused:
        ledger.read_ledger(data, 3)
    assert refused.value.code == "import.too_many_rows"
    errors, rows = ledger.read_ledger("\r\n".join(lines[:4]).encode(), 3)
    assert errors == [] and len(rows) == 3


def test_a_large_sheet_without_a_dimension_is_refused_before_openpyxl_scans_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_files, "MAX_SHEET_WITHOUT_DIMENSION", 10_000)
    rows = b"".join(_row(n) for n in range(2, 82)) + b"</sheetData></worksheet>"
    with pytest.raises(ledger.LedgerFileError) as refused:
        ledger.read_ledger(_xlsx_with_sheet(rows, dimension=b""), 100)
    assert refused.value.code == "import.unreadable" and "dimension" in refused.value.message_en
    # the same rows with the <dimension> Excel writes are read
    errors, parsed = ledger.read_ledger(_xlsx_with_sheet(rows), 100)
    assert errors == [] and len(parsed) == 80
    # a small sheet needs none
    errors, parsed = ledger.read_ledger(_xlsx_with_sheet(_row(2) + b"</sheetData></worksheet>", dimension=b""), 100)
    assert len(parsed) == 1
