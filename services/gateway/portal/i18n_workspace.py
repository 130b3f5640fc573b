"""The portal's strings of the workspace (工作台) each role lands on after signing in."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "workspace": ("工作台", "Workspace"),
    "workspace_intro": ("以下是等待您处理的事项，点击进入办理。", "What waits for you; open one to deal with it."),
    "workspace_nothing": ("目前没有等待您处理的事项。", "Nothing waits for you now."),
    "workspace_unavailable": ("暂时无法统计", "cannot be counted now"),
    "workspace_to_sign": ("已报价，待上传合同并签订", "Quoted: upload the contract and sign"),
    "workspace_contracted": ("已签订合同（可申请创新券、预约机时）", "Contracted (apply for a voucher, book time)"),
    "workspace_to_settle": ("已交付结果，待结算付款", "Results delivered: settle and pay"),
    "workspace_to_rate": ("已结算，待评价服务", "Settled: rate the service"),
    "workspace_unread": ("未读消息", "Unread messages"),
    "workspace_to_quote": ("新的服务申请，待报价", "New requests to quote"),
    "workspace_to_start": ("已签订合同，待开始服务", "Contracted: start the service"),
    "workspace_to_deliver": ("服务中，待交付结果", "In service: deliver the results"),
    "workspace_applications_to_review": ("待审核的创新券申请", "Voucher applications to review"),
    "workspace_users_to_verify": ("待审核的用户注册", "User registrations to verify"),
    "workspace_claims_to_review": ("待审核的兑付申请", "Redemption claims to review"),
    "workspace_orders_requested": ("全市待报价的服务申请", "Requests awaiting a quote, city-wide"),
    "workspace_appeals_to_decide": ("待复核的申诉", "Appeals to decide"),
    "workspace_units_to_approve": ("待审批的管理单位", "Units to approve"),
    "workspace_payouts_due": ("待支付的奖励和兑付", "Awards and redemptions to pay"),
    "workspace_assignments": ("分配给我的评审任务", "Reviews assigned to me"),
    "workspace_county_orders": ("本辖区服务订单", "Orders in my county"),
}
