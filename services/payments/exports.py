"""Excel files for finance: the payment order its system imports, and the
year-end report of budget execution.

Amounts are written as text in yuan with exactly two decimals (``"1234.56"``),
never as a float: the fen are exact in the file and in whatever reads it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from services.payments.schemas import BudgetExecution, Payout
from services.runtime import spreadsheets
from services.runtime.money import yuan_plain

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: the payment order's columns, in order (row 1 of the sheet)
ORDER_COLUMNS = ("收款单位名称", "开户银行", "账户名称", "银行账号", "金额（元）", "用途", "业务参考号", "拨付编号", "付款单编号")

PURPOSE = {"award": "{year}年度大型科研仪器开放共享后补助奖励", "redemption": "{year}年度科技创新券兑付"}


def _book(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], text_columns: set[int]) -> bytes:
    # imported where used: openpyxl is ~20 MiB and 175 modules in every API process otherwise (issue 19)
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
        for i in text_columns:
            ws.cell(row=ws.max_row, column=i + 1).number_format = "@"
    for i, name in enumerate(header):
        ws.column_dimensions[chr(ord("A") + i)].width = max(14, len(name) * 2 + 4)
    return spreadsheets.xlsx_bytes(wb)  # a payee's "=HYPERLINK(…)" stays text


def payment_order_xlsx(order_case_no: str, lines: Iterable[tuple[Payout, str]]) -> bytes:
    """One row per payout and its account number (decrypted, only here): payee, bank,
    account name, account number, amount in yuan (text), purpose, reference (the payout id),
    the payout's case number and the payment order's, which people read and say (issue 17)."""
    rows = [
        (p.payee_name, p.payee_bank, p.payee_account_name, account_number, yuan_plain(p.amount_fen), PURPOSE[p.kind].format(year=p.year), p.payout_id, p.case_no, order_case_no)
        for p, account_number in lines
    ]
    return _book("付款单", ORDER_COLUMNS, rows, text_columns={3, 4, 6, 7, 8})


def report_xlsx(report: BudgetExecution) -> bytes:
    """The budget execution report: one row per figure, amounts in yuan (text) and fen."""
    rows: list[tuple[Any, ...]] = []
    for section, title in ((report.voucher, "科技创新券"), (report.award, "后补助奖励")):
        for key, value in section.items():
            rows.append((title, key, yuan_plain(value), value))
    for kind, title in (("voucher", "追回：科技创新券"), ("award", "追回：后补助奖励"), ("redemption", "追回：创新券兑付")):
        for key, value in report.clawback.get(kind, {}).items():
            rows.append((title, key, yuan_plain(value), value))
    for check in report.checks:
        rows.append(("平衡校验", check.name, "一致" if check.ok else "不一致", check.left_fen - check.right_fen))
    return _book(f"{report.year}年度预算执行", ("类别", "项目", "金额（元）", "金额（分）"), rows, text_columns={2})
