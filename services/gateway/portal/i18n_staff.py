"""The portal's strings of the center's and the bureau's own pages (issue 17): a notice's
objections, the expert pool and assignments, the redemption window and claims, the
programme budget, city-wide compliance, provincial awards and fraud findings."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    # a notice's lines and objections
    "line_listed": ("公示中", "listed"),
    "line_held": ("异议处理中", "held (objection open)"),
    "line_withdrawn": ("已撤出公示", "withdrawn"),
    "objection_raise": ("对公示内容提出异议", "Object to a line of this notice"),
    "objection_hint": ("异议须实名提出，并留下联系电话或身份证号码（仅工作人员可见，显示时部分隐藏）；受理至 {closes_on}（含当日）。", "Objections are made under your real name with a phone or identity number (seen by staff only, shown masked); accepted until {closes_on}."),
    "objection_raised": ("异议已提交，市科技创新公共服务中心将核实处理。", "Your objection has been received; the center will look into it."),
    "objection_line": ("异议对象", "Line objected to"),
    "objection_choose_line": ("请选择公示条目", "Choose a line"),
    "objection_name": ("真实姓名", "Your real name"),
    "objection_phone": ("联系电话", "Phone"),
    "objection_id_number": ("身份证号码（未留电话时必填）", "Identity number (if no phone)"),
    "objection_text": ("异议内容", "Objection"),
    "objection_submit": ("提交异议", "Submit the objection"),
    "objections": ("异议及处理", "Objections"),
    "objection_by": ("提出人", "Raised by"),
    "objection_contact_phone": ("电话", "phone"),
    "objection_contact_id_number": ("身份证", "ID"),
    "objection_raised_at": ("提出时间", "Raised"),
    "objection_resolution": ("处理结果", "Resolution"),
    "objection_open": ("待处理", "open"),
    "objection_resolved": ("已处理", "resolved"),
    "objection_outcome": ("处理结论", "Outcome"),
    "objection_reason": ("处理理由", "Reason"),
    "objection_resolve": ("处理异议", "Resolve"),
    "objection_line_gone": ("（条目已不在公示中）", "(line no longer listed)"),
    "outcome_upheld_line": ("维持公示内容", "line upheld"),
    "outcome_corrected": ("更正公示内容", "line corrected"),
    "outcome_withdrawn": ("撤出公示", "line withdrawn"),
    # experts
    "expert_pool": ("评审专家库", "Expert pool"),
    "expert_assignments": ("指派评审专家", "Assign experts"),
    "expert_register": ("登记专家", "Register an expert"),
    "expert_register_submit": ("登记", "Register"),
    "expert_name": ("专家姓名", "Name"),
    "expert_role": ("专家类别", "Expert role"),
    "expert_choose_role": ("请选择类别", "Choose a role"),
    "expert_unit": ("所在单位", "Own unit"),
    "expert_no_unit": ("不属于平台上的管理单位", "Not of a unit on the platform"),
    "expert_ties": ("申报关联的单位（须回避）", "Declared ties (recusal)"),
    "expert_ties_hint": ("按住 Ctrl（或 ⌘）可多选", "Hold Ctrl (or ⌘) to choose several"),
    "expert_unit_unknown": ("（未在平台登记）", "(not on the platform)"),
    "expert_registered_at": ("登记时间", "Registered"),
    "expert_assigned": ("已指派专家", "Assigned experts"),
    "expert_choose": ("选择专家", "Expert"),
    "expert_assign": ("指派", "Assign"),
}
