"""The portal's strings of a unit's own pages: its payee account, its voucher
redemption claims and its price list."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    # unit: payee account
    "payee": ("收款账户", "Payee account"),
    "bank_name": ("开户银行", "Bank"),
    "account_name": ("账户名称", "Account name"),
    "account_number": ("银行账号", "Account number"),
    "updated_at": ("更新时间", "Updated"),
    "payee_missing": ("尚未设置收款账户：奖补和兑现资金无法支付", "No payee account yet: awards and redemptions cannot be paid"),
    "save_payee": ("保存收款账户", "Save the payee account"),
    "my_payouts": ("本单位应收款项", "Our payouts"),
    # unit: redemption claims
    "redemption_claims": ("创新券兑现申请", "Redemption claims"),
    "claim_window": ("兑现申请期", "Claim window"),
    "window_not_set": ("本年度兑现申请期尚未公布", "This year's claim window is not set yet"),
    "new_claim": ("申请兑现", "Claim a voucher"),
    "voucher": ("创新券", "Voucher"),
    "invoice_number": ("发票号码（数电票20位）", "Invoice number (20 digits, digital invoice)"),
    "invoice_code": ("发票代码（增值税发票，选填）", "Invoice code (VAT invoice, optional)"),
    "receipt_file": ("银行回单（PDF/JPG/PNG）", "Bank receipt (PDF/JPG/PNG)"),
    "results_file": ("服务结果（PDF/JPG/PNG）", "Service results (PDF/JPG/PNG)"),
    "no_claimable": ("暂无可兑现的已使用创新券", "No used voucher to claim"),
    "claimed_at": ("申请时间", "Claimed"),
    "approved_amount": ("核定金额", "Approved"),
    # unit: prices
    "unit_prices": ("收费标准管理", "Prices"),
    "add_price": ("新增收费项目", "Add a price item"),
    "item_name": ("收费项目", "Item"),
    "price_yuan": ("价格（元）", "Price (CNY)"),
    "active": ("有效", "active"),
    "inactive": ("已停用", "inactive"),
}
