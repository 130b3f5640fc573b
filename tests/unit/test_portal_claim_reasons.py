"""The unit's redemption page: a claim's review reasons, read from its items' own
decisions, name each rejected voucher by its order's case number, else by the
invoice number the unit typed; the voucher's id never reaches the page."""

from __future__ import annotations

from services.gateway.portal.unit import reasons_named

VID = "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6"
OTHER = "0192f3a4-0000-7d8e-9fa0-b1c2d3e4f5a6"
KEPT = "0192f3a4-1111-7d8e-9fa0-b1c2d3e4f5a6"


def item(vid: str, approved: bool | None, reason: str | None = None, invoice: str = "No.00012345") -> dict[str, object]:
    return {"voucher_id": vid, "approved": approved, "reason": reason, "invoice_number": invoice}


def test_a_reason_names_the_voucher_by_its_order_else_its_invoice_and_never_by_its_id() -> None:
    orders = {VID: "服务记录 DD-2026-000042"}
    shown = reasons_named([item(VID, False, "发票与服务合同不符"), item(OTHER, False, "检测报告缺页", "No.00067890")], orders, "发票号码")
    assert shown == ["服务记录 DD-2026-000042：发票与服务合同不符", "发票号码 No.00067890：检测报告缺页"]
    assert not any(VID in r or OTHER in r for r in shown)


def test_approved_and_undecided_vouchers_have_no_reason_shown() -> None:
    assert reasons_named([item(KEPT, True), item(OTHER, None), item(VID, False, "逾期申报")], {}, "发票号码") == ["发票号码 No.00012345：逾期申报"]
