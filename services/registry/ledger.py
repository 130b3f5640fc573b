"""A unit's instrument ledger (仪器设备台账) as a file: the import template,
reading .xlsx and .csv (safely, streamed: ledger_files.py), and turning each row into a ``NewInstrument`` or a
list of cell errors. Pure: no database.

Money is yuan with at most two decimals, parsed by services/runtime/money.py
(``Decimal``; a float cell is read through its shortest text form, never computed
with) and stored as integer fen. Dates are YYYY-MM-DD text or Excel date cells. Row numbers are as
a spreadsheet shows them: the header is row 1, the first instrument row 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.registry.domain.catalogue import DEFAULT_CATEGORIES
from services.registry.domain.listing import Funding
from services.registry.instruments import NewInstrument
from services.registry.ledger_files import LedgerFileError, csv_rows, file_kind, xlsx_rows
from services.runtime import spreadsheets
from services.runtime.money import MoneyError, parse_yuan

ASSET = "资产编号"
NAME = "仪器名称"
CATEGORY = "类别"
MODEL = "型号"
MANUFACTURER = "生产厂家"
VALUE = "原值（元）"
FUNDING = "资金来源"
ACCEPTED = "验收日期"
DUTY_EXEMPT = "是否免税进口"
CLASSIFIED = "是否涉密"
LOCATION = "存放地点"
SPECIFICATIONS = "主要技术指标"
FUNCTIONS = "主要功能"
SAMPLES = "样品要求"

COLUMNS: tuple[str, ...] = (ASSET, NAME, CATEGORY, MODEL, MANUFACTURER, VALUE, FUNDING, ACCEPTED, DUTY_EXEMPT, CLASSIFIED, LOCATION, SPECIFICATIONS, FUNCTIONS, SAMPLES)
REQUIRED_COLUMNS: tuple[str, ...] = (ASSET, NAME, CATEGORY, VALUE, FUNDING, ACCEPTED)

FUNDING_ZH: dict[str, Funding] = {"全部财政": Funding.fiscal_full, "部分财政": Funding.fiscal_part, "非财政": Funding.non_fiscal}
YES_NO: dict[str, bool] = {"是": True, "否": False}

#: the text limits of the instrument record
_MAX_LEN = {ASSET: 64, NAME: 200, CATEGORY: 40, MODEL: 200, MANUFACTURER: 200, LOCATION: 200, SPECIFICATIONS: 10_000, FUNCTIONS: 10_000, SAMPLES: 2000}
#: 10^15 fen is the API's ceiling too
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class CellError:
    row: int | None
    column: str | None
    code: str
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class LedgerRow:
    row: int
    instrument: NewInstrument


# ---------------------------------------------------------------- template


def _instructions() -> list[tuple[str, str, str]]:
    return [
        (ASSET, "必填", "本单位资产编号，单位内唯一，最长64个字符；重复导入时按资产编号识别同一台仪器"),
        (NAME, "必填", "最长200个字符"),
        (CATEGORY, "必填", "以下之一：" + "、".join(DEFAULT_CATEGORIES)),
        (MODEL, "选填", "最长200个字符"),
        (MANUFACTURER, "选填", "最长200个字符"),
        (VALUE, "必填", "单位：元，最多两位小数，例如 199999.99；不要带千分位逗号或“元”字"),
        (FUNDING, "必填", "以下之一：" + "、".join(FUNDING_ZH)),
        (ACCEPTED, "必填", "安装使用验收日期，格式 YYYY-MM-DD（如 2024-09-20），也可使用 Excel 日期单元格"),
        (DUTY_EXEMPT, "选填", "是 / 否，空白视为“否”（管理办法第六条）"),
        (CLASSIFIED, "选填", "是 / 否，空白视为“否”（管理办法第五条）"),
        (LOCATION, "选填", "最长200个字符"),
        (SPECIFICATIONS, "选填", "最长10000个字符"),
        (FUNCTIONS, "选填", "最长10000个字符"),
        (SAMPLES, "选填", "送检样品的形态、数量、前处理等要求，最长2000个字符"),
    ]


_EXAMPLE = ("ZC-2024-0001", "液相色谱质谱联用仪", "分析仪器", "LCMS-8060", "岛津", "2000000.00", "全部财政", "2024-09-20", "否", "否", "实验楼A301", "", "", "")


def template_xlsx() -> bytes:
    """The import template: the header row and one example row on sheet 仪器台账,
    the allowed values on sheet 填写说明."""
    # imported where used: openpyxl is ~20 MiB and 175 modules in every API process otherwise (issue 19)
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "仪器台账"
    ws.append(list(COLUMNS))
    ws.append(list(_EXAMPLE))
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
        if cell.value in REQUIRED_COLUMNS:
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
    for col in "ABCDEFGHIJKLMN":
        ws.column_dimensions[col].width = 18
    # asset numbers, money and dates are text: Excel keeps leading zeros and never rounds them
    for cell in (ws["A2"], ws["F2"], ws["H2"]):
        cell.number_format = "@"
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "说明"])
    for cell in notes[1]:
        cell.font = bold
    for line in _instructions():
        notes.append(list(line))
    notes.append([])
    notes.append(["类别", "", ""])
    for c in DEFAULT_CATEGORIES:
        notes.append(["", "", c])
    notes.append(["资金来源", "", ""])
    for f in FUNDING_ZH:
        notes.append(["", "", f])
    notes.append(["是/否", "", "是、否"])
    notes.append([])
    notes.append(["说明", "", "第1行为表头，从第2行起每行一台仪器；示例行请删除或改为本单位数据。文件中任一行有错误时整个文件都不导入，并列出全部错误。"])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 90
    return spreadsheets.xlsx_bytes(wb)


def template_csv() -> bytes:
    """The template as UTF-8 CSV with a BOM (Excel then opens it as UTF-8)."""
    return spreadsheets.csv_bytes([COLUMNS, _EXAMPLE])


# ---------------------------------------------------------------- reading


def _normalise_header(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("(", "（").replace(")", "）")
    return re.sub(r"\s+", "", text)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


#: instrument rows in one file unless the deployment sets XCISS_IMPORT_MAX_ROWS
DEFAULT_MAX_ROWS = 20_000


def too_many_rows(max_rows: int) -> LedgerFileError:
    return LedgerFileError(
        "import.too_many_rows",
        f"一个文件最多{max_rows}行仪器数据，请拆分后分批导入",
        f"at most {max_rows} instrument rows per file; split it",
        max_rows=max_rows,
    )


def read_ledger(data: bytes, max_rows: int = DEFAULT_MAX_ROWS) -> tuple[list[CellError], list[LedgerRow]]:
    """Every cell error and every valid row of the file; raises LedgerFileError
    when the file as a whole cannot be read. Entirely blank rows are skipped.

    Rows are read one at a time and reading stops at the first instrument row
    beyond ``max_rows`` (``import.too_many_rows``), or once ``2 × max_rows + 100``
    rows, blank ones included, have been read: the rest of the file is never
    parsed."""
    kind = file_kind(data)
    if kind == "xls":
        raise LedgerFileError("import.unsupported_format", "不支持 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV", "the old .xls format is not supported; save as .xlsx or CSV")
    rows = xlsx_rows(data) if kind == "xlsx" else csv_rows(data)
    scan_limit = 2 * max_rows + 100
    header: dict[str, int] | None = None
    errors: list[CellError] = []
    valid: list[LedgerRow] = []
    counted = 0
    try:
        for number, values in enumerate(rows, start=1):
            if number > scan_limit:
                raise too_many_rows(max_rows)
            if all(_blank(v) for v in values):
                continue
            if header is None:
                header = _header(values)
                continue
            counted += 1
            if counted > max_rows:
                raise too_many_rows(max_rows)
            cells = {col: (values[i] if i < len(values) else None) for col, i in header.items()}
            row_errors, inst = parse_row(number, cells)
            errors.extend(row_errors)
            if inst is not None:
                valid.append(LedgerRow(number, inst))
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # the workbook's archive, at once rather than when collected
    if header is None:
        raise LedgerFileError("import.empty", "文件中没有表头和数据", "the file has no header and no rows")
    return errors, valid


def _header(values: tuple[Any, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, v in enumerate(values):
        name = _normalise_header(v)
        if name in COLUMNS and name not in found:
            found[name] = i
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        raise LedgerFileError(
            "import.missing_columns",
            "表头缺少必需的列：" + "、".join(missing) + "（请使用导入模板）",
            f"the header lacks required columns: {', '.join(missing)} (use the template)",
            missing=missing,
        )
    return found


# ---------------------------------------------------------------- cells


class _Cell(Exception):
    def __init__(self, code: str, message_zh: str, message_en: str):
        super().__init__(code)
        self.code, self.message_zh, self.message_en = code, message_zh, message_en


def _text(value: Any, column: str, *, required: bool) -> str | None:
    if _blank(value):
        if required:
            raise _Cell("import.required", f"“{column}”不能为空", f"{column} is required")
        return None
    if isinstance(value, bool):
        raise _Cell("import.invalid_text", f"“{column}”应为文字", f"{column} must be text")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an asset number typed as a number
    if isinstance(value, datetime | date):
        raise _Cell("import.invalid_text", f"“{column}”应为文字，不是日期", f"{column} must be text, not a date")
    text = str(value).strip()
    limit = _MAX_LEN[column]
    if len(text) > limit:
        raise _Cell("import.too_long", f"“{column}”最多{limit}个字符", f"{column} is longer than {limit} characters")
    return text


#: how the import words each refusal of the original value (services/runtime/money.py says which)
_MONEY_REFUSALS = {
    "negative": ("import.invalid_money", "原值不能为负数", "the original value cannot be negative"),
    "precision": ("import.money_precision", "原值最多两位小数（精确到分）", "the original value has more than two decimals"),
    "too_large": ("import.invalid_money", "原值过大", "the original value is too large"),
}


def yuan_to_fen(value: Any) -> int:
    """``"199999.99"`` → 19999999. Text or a numeric cell; at most two decimals;
    not negative (:func:`services.runtime.money.parse_yuan`, which reads a float
    cell through its shortest repr, never multiplied as a float)."""
    try:
        return parse_yuan(value)
    except MoneyError as exc:
        if exc.reason in _MONEY_REFUSALS:
            raise _Cell(*_MONEY_REFUSALS[exc.reason]) from exc
        if value is not None and not isinstance(value, bool):
            text = str(value).strip()
            raise _Cell("import.invalid_money", f"原值“{text}”不是有效金额，应为元，最多两位小数，如 199999.99", f"{text!r} is not an amount in yuan with up to two decimals") from exc
        raise _Cell("import.invalid_money", "原值应为金额（元），如 199999.99", "the original value must be an amount in yuan, e.g. 199999.99") from exc


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = "" if value is None else str(value).strip()
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise _Cell("import.invalid_date", f"验收日期“{text}”无效，格式应为 YYYY-MM-DD", f"acceptance date {text!r} is not a valid YYYY-MM-DD date")


def _choice(value: Any, column: str, allowed: dict[str, Any], default: Any = None) -> Any:
    if _blank(value):
        if default is None:
            raise _Cell("import.required", f"“{column}”不能为空", f"{column} is required")
        return default
    text = str(value).strip()
    if text not in allowed:
        options = "、".join(allowed)
        raise _Cell("import.invalid_choice", f"“{column}”应为：{options}（填写的是“{text}”）", f"{column} must be one of {list(allowed)}, not {text!r}")
    return allowed[text]


def parse_row(number: int, cells: dict[str, Any]) -> tuple[list[CellError], NewInstrument | None]:
    """Every problem of one row (one per cell at most), or its instrument."""
    errors: list[CellError] = []
    out: dict[str, Any] = {}

    def take(column: str, key: str, parse: Any) -> None:
        try:
            out[key] = parse(cells.get(column))
        except _Cell as e:
            errors.append(CellError(number, column, e.code, e.message_zh, e.message_en))

    take(ASSET, "asset_number", lambda v: _text(v, ASSET, required=True))
    take(NAME, "name", lambda v: _text(v, NAME, required=True))
    take(CATEGORY, "category", lambda v: _category(_text(v, CATEGORY, required=True)))
    take(MODEL, "model", lambda v: _text(v, MODEL, required=False))
    take(MANUFACTURER, "manufacturer", lambda v: _text(v, MANUFACTURER, required=False))
    take(VALUE, "original_value_fen", lambda v: _required(v, VALUE, yuan_to_fen))
    take(FUNDING, "funding", lambda v: _choice(v, FUNDING, FUNDING_ZH))
    take(ACCEPTED, "acceptance_date", lambda v: _required(v, ACCEPTED, _date))
    take(DUTY_EXEMPT, "duty_exempt", lambda v: _choice(v, DUTY_EXEMPT, YES_NO, False))
    take(CLASSIFIED, "classified", lambda v: _choice(v, CLASSIFIED, YES_NO, False))
    take(LOCATION, "location", lambda v: _text(v, LOCATION, required=False))
    take(SPECIFICATIONS, "specifications", lambda v: _text(v, SPECIFICATIONS, required=False))
    take(FUNCTIONS, "functions", lambda v: _text(v, FUNCTIONS, required=False))
    take(SAMPLES, "sample_requirements", lambda v: _text(v, SAMPLES, required=False))
    if errors:
        return errors, None
    return [], NewInstrument(**out)


def _required(value: Any, column: str, parse: Any) -> Any:
    if _blank(value):
        raise _Cell("import.required", f"“{column}”不能为空", f"{column} is required")
    return parse(value)


def _category(text: str | None) -> str:
    assert text is not None
    if text not in DEFAULT_CATEGORIES:
        raise _Cell("instrument.unknown_category", f"仪器类别“{text}”不在目录中（见模板“填写说明”）", f"category {text!r} is not in the catalogue")
    return text


#: the file column of each stored field, to report a difference or a domain error
FIELD_COLUMN: dict[str, str] = {
    "name": NAME,
    "category": CATEGORY,
    "model": MODEL,
    "manufacturer": MANUFACTURER,
    "original_value_fen": VALUE,
    "funding": FUNDING,
    "acceptance_date": ACCEPTED,
    "duty_exempt": DUTY_EXEMPT,
    "classified": CLASSIFIED,
    "location": LOCATION,
    "specifications": SPECIFICATIONS,
    "functions": FUNCTIONS,
    "sample_requirements": SAMPLES,
    "asset_number": ASSET,
}
