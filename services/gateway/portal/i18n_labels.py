"""The portal's words for the values the services send (``i18n.label``):
roles, the states of orders, vouchers, applications and payouts, purposes,
billing units, kinds and classes; and the counties and instrument categories
the forms offer."""

from __future__ import annotations

ROLES: dict[str, tuple[str, str]] = {
    "user": ("用户（企业）", "User (enterprise)"),
    "unit": ("管理单位", "Unit"),
    "center": ("市科技创新公共服务中心", "Center"),
    "bureau": ("市科技局", "Bureau"),
    "department": ("主管部门", "Department"),
    "expert": ("专家", "Expert"),
    "finance": ("市财政局", "Finance"),
}

LABELS: dict[str, tuple[str, str]] = {
    # order states
    "requested": ("已申请", "requested"),
    "quoted": ("已报价", "quoted"),
    "contracted": ("已签约", "contracted"),
    "in_service": ("服务中", "in service"),
    "results_delivered": ("已交付结果", "results delivered"),
    "settled": ("已结算", "settled"),
    "rated": ("已评价", "rated"),
    "cancelled": ("已取消", "cancelled"),
    # application / voucher states
    "submitted": ("待审核", "submitted"),
    "pending": ("待上线", "pending"),
    "approved": ("已通过", "approved"),
    "rejected": ("已驳回", "rejected"),
    "appealed": ("复议中", "appealed"),
    "issued": ("已发放", "issued"),
    "used": ("已使用", "used"),
    "expired": ("已过期", "expired"),
    "revoked": ("已撤销", "revoked"),
    # import jobs
    "validating": ("校验中", "validating"),
    "imported": ("已导入", "imported"),
    "failed": ("失败", "failed"),
    # purposes
    "research": ("科学研究", "research"),
    "technology_development": ("技术开发", "technology development"),
    "statutory_testing": ("强制性/法定检测", "statutory testing"),
    # listing compliance (M11(3))
    "listed_on_time": ("按期上线", "listed on time"),
    "listed_late": ("逾期上线", "listed late"),
    "overdue": ("逾期未上线", "overdue"),
    "due_soon": ("即将到期", "due soon"),
    "not_required": ("非必须纳入", "not required"),
    # budget execution (ledger)
    "appropriated_fen": ("预算", "appropriated"),
    "committed_fen": ("已占用", "committed"),
    "used_fen": ("已抵扣", "used"),
    "released_fen": ("已释放", "released"),
    "unallocated_fen": ("未分配", "unallocated"),
    "redeemed_fen": ("已兑现", "redeemed"),
    "paid_fen": ("已支付", "paid"),
    "payable_fen": ("待支付", "payable"),
    "used_not_redeemed_fen": ("已抵扣未兑现", "used, not redeemed"),
    "awarded_fen": ("已奖励", "awarded"),
    # documents
    "contract": ("服务合同", "contract"),
    "rd_proof": ("研发证明", "R&D proof"),
    "result": ("服务结果", "results"),
    # billing
    "per_sample": ("按样品", "per sample"),
    "per_hour": ("按小时", "per hour"),
    "per_machine_hour": ("按机时", "per machine-hour"),
    "per_item": ("按项次", "per item"),
    "cost_compensation": ("成本补偿、非盈利", "cost compensation"),
    "negotiable": ("议价", "negotiable"),
    "fiscal_full": ("全额财政资金", "fiscal (whole)"),
    "fiscal_part": ("部分财政资金", "fiscal (part)"),
    "non_fiscal": ("非财政资金", "non-fiscal"),
    # notices
    "grades": ("绩效评价结果", "evaluation grades"),
    "redemption": ("创新券兑现", "voucher redemption"),
    "award_plan": ("奖励计划", "award plan"),
    "open": ("公示中", "open"),
    "final": ("已完成", "final"),
    "finalized": ("已完成", "finalized"),
    "unit_party": ("管理单位", "unit"),
    "in_service_status": ("在用", "in service"),
    # evaluation applications and experts
    "forwarded": ("已报送", "forwarded"),
    "returned": ("已退回", "returned"),
    "graded": ("已评定", "graded"),
    "reopened": ("复核中", "reopened"),
    "withdrawn": ("已撤回", "withdrawn"),
    "excellent": ("优秀", "excellent"),
    "good": ("良好", "good"),
    "unqualified": ("不合格", "unqualified"),
    "award": ("绩效奖补", "award"),
    # redemption claims
    "claimed": ("待审核", "claimed"),
    "noticed": ("公示中", "on notice"),
    # payouts
    "due": ("待支付", "due"),
    "ordered": ("已列入付款单", "ordered"),
    "paid": ("已支付", "paid"),
    "self_assessment": ("自评报告", "self-assessment report"),
    "supporting": ("佐证材料", "supporting evidence"),
    "expert_management": ("管理专家", "management"),
    "expert_technical": ("技术专家", "technical"),
    "expert_finance": ("财务专家", "finance"),
    # unit and user kinds, user classes, unit states
    "applied": ("待审核", "applied"),
    "suspended": ("已暂停", "suspended"),
    "disqualified": ("已取消资格", "disqualified"),
    "university": ("高等院校", "university"),
    "institute": ("科研院所", "institute"),
    "new_rd_institution": ("新型研发机构", "new R&D institution"),
    "enterprise": ("企业", "enterprise"),
    "college": ("职业院校", "college"),
    "other": ("其他", "other"),
    "team": ("创新创业团队", "start-up team"),
    "above_scale_industrial": ("规上工业企业", "above-scale industrial"),
    "high_tech": ("高新技术企业", "high-tech enterprise"),
    "tech_sme": ("科技型中小企业", "tech SME"),
    "startup_team": ("创新创业团队", "start-up team"),
    "innovation_leader": ("创新龙头企业", "innovation leader"),
    "gazelle": ("瞪羚企业", "gazelle"),
}

COUNTIES: dict[str, str] = {
    "411002": "魏都区",
    "411003": "建安区",
    "411024": "鄢陵县",
    "411025": "襄城县",
    "411081": "禹州市",
    "411082": "长葛市",
}

CATEGORIES = [
    "分析仪器", "物理性能测试仪器", "计量仪器", "电子测量仪器", "海洋仪器", "地球探测仪器", "大气探测仪器", "特种检测仪器",
    "激光器", "工艺试验仪器", "计算机及其配套设备", "天文仪器", "医学科研仪器", "核仪器", "其他仪器",
]
