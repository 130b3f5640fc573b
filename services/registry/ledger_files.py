"""Reading an uploaded ledger file without trusting it: which kind it is, its
rows one at a time, and a ``LedgerFileError`` with a stable code for every way
the file as a whole can be unreadable or too big.

An .xlsx is a zip of XML parts, so a small upload can be very large or
hostile inside. Before openpyxl sees it the archive is opened and its declared
unpacked size checked (a zip member never yields more than it declares:
``zipfile`` stops there and checks the CRC), and a large sheet must record
its ``<dimension>`` before its rows (openpyxl scans a sheet without one to its
end when it opens the workbook); then the first sheet is read in
openpyxl's streaming mode (``read_only=True``), one row at a time, the first
``MAX_COLUMNS`` columns only, and the caller stops at its row limit instead of
reading the rest. The XML is parsed by ``defusedxml`` (a dependency; openpyxl
uses it whenever it is installed), which refuses entity declarations, so an
entity-expansion bomb stops at its DTD. Any failure while the archive or its
XML is read — bad zip, CRC error, XML syntax, entities, a missing part, a
value openpyxl cannot convert — is ``import.unreadable``.

CSV is decoded as UTF-8 (with or without BOM), else GB18030; its size is
already bounded by the upload limit.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

#: the most bytes the parts of an .xlsx may unpack to (the upload itself is at most 5 MB;
#: a real ledger of 20 000 rows unpacks to about 15 MB)
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
#: columns read from each row; the template has 13
MAX_COLUMNS = 64
#: a sheet larger than this (unpacked) must record its <dimension> before its rows: openpyxl
#: scans a sheet without one to its end when opening it, before the first row is read
MAX_SHEET_WITHOUT_DIMENSION = 8 * 1024 * 1024
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\b")
_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData\b")


class LedgerFileError(Exception):
    """The file as a whole cannot be read (format, encoding, header, size)."""

    def __init__(self, code: str, message_zh: str, message_en: str, **details: Any):
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.details = details


def unreadable_xlsx(exc: BaseException) -> LedgerFileError:
    return LedgerFileError(
        "import.unreadable",
        "无法读取该 Excel 文件（文件损坏或格式不正确），请使用导入模板另存为 .xlsx",
        f"cannot read the workbook: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}",
    )


def file_kind(data: bytes) -> str:
    """``xlsx`` (a zip container), ``xls`` (the old binary format, refused) or ``csv``."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    return "csv"


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise LedgerFileError("import.unreadable", "无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV，或使用 .xlsx", "cannot decode the CSV as UTF-8 or GB18030") from exc


def csv_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    text = _decode(data)
    try:
        for rec in csv.reader(io.StringIO(text, newline="")):
            yield tuple(rec[:MAX_COLUMNS])
    except csv.Error as exc:
        raise LedgerFileError("import.unreadable", f"CSV 文件格式错误：{exc}", f"malformed CSV: {exc}") from exc


def _check_archive(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            unpacked = sum(i.file_size for i in infos)
            if unpacked <= MAX_UNPACKED_BYTES:
                for info in infos:
                    if info.filename.startswith("xl/worksheets/") and info.file_size > MAX_SHEET_WITHOUT_DIMENSION and not _has_dimension(z, info):
                        raise LedgerFileError(
                            "import.unreadable",
                            "该 Excel 文件的工作表缺少尺寸信息且内容很多，请在 Excel 或 WPS 中打开后重新保存为 .xlsx",
                            "a large sheet of the workbook records no <dimension>; open and save it again in Excel or WPS",
                        )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        raise unreadable_xlsx(exc) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        mb = MAX_UNPACKED_BYTES // (1024 * 1024)
        raise LedgerFileError(
            "import.unpacked_too_large",
            f"该 Excel 文件解压后超过{mb}MB，请删除多余内容或拆分后分批导入",
            f"the workbook unpacks to more than {mb} MB; remove what is not needed or split it",
            max_unpacked_bytes=MAX_UNPACKED_BYTES,
        )


def _has_dimension(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the sheet's first 64 KB (unpacked) hold ``<dimension>`` before ``<sheetData>``."""
    with z.open(info) as f:
        head = f.read(64 * 1024)
    dim, rows = _DIMENSION.search(head), _SHEET_DATA.search(head)
    return dim is not None and (rows is None or dim.start() < rows.start())


def xlsx_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    """The first sheet's rows as value tuples, streamed; the workbook is closed
    when the caller stops iterating (or closes the generator)."""
    _check_archive(data)
    # imported where used: openpyxl is ~20 MiB and 175 modules in every API process otherwise (issue 19)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure of a hostile archive is "unreadable", never a 500
        raise unreadable_xlsx(exc) from exc
    try:
        if not wb.worksheets:  # openpyxl skips a sheet whose part is missing
            raise LedgerFileError("import.unreadable", "该 Excel 文件中没有可读取的工作表（文件损坏），请使用导入模板另存为 .xlsx", "the workbook has no readable sheet")
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # some writers record wrong dimensions; read what is there
        rows = ws.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - XML syntax, entities, CRC, bad cell values: the file, not us
                raise unreadable_xlsx(exc) from exc
            yield values
    finally:
        wb.close()
