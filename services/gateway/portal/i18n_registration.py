"""The portal's strings of registration: a user's or a unit's registration
form, and the center's review of units and users."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "review_units": ("单位入驻审核", "Unit applications"),
    "review_users": ("用户注册审核", "User registrations"),
    "unit_name": ("单位名称", "Unit"),
    "department": ("主管部门", "Department"),
    "user_name": ("企业或团队名称", "Enterprise or team"),
    "unit_kind": ("单位类型", "Kind of unit"),
    "user_kind": ("用户类型", "Kind of user"),
    "classes": ("类别", "Classes"),
    "special_classes": ("特别类别（可选）", "Special classes (optional)"),
    "leader_name": ("团队负责人姓名", "Team leader's name"),
    "leader_id_number": ("团队负责人身份证号", "Team leader's identity number"),
    "leader_id_masked": ("负责人身份证号", "Leader's identity number"),
    "incubator_credit_code": ("认定孵化载体的统一社会信用代码", "The incubator's credit code"),
    "in_xuchang": ("注册地在许昌", "Registered in Xuchang"),
    "verified": ("已审核", "verified"),
    "unverified": ("待审核", "awaiting verification"),
    "verify": ("审核通过", "Verify"),
    "note_optional": ("备注（可选）", "Note (optional)"),
    "reject_reason": ("驳回理由", "Reason for rejection"),
    "show": ("显示", "Show"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "no_user_reject": ("统一社会信用代码重复的注册须核实哪一家是该企业：审核通过真实企业，驳回冒用者（须说明理由）。", "A registration whose credit code another user also gave: verify the real enterprise and reject the other, with a reason."),
    "duplicate_code": ("信用代码已由他人注册", "credit code given by another user"),
    "register": ("用户注册", "Register"),
    "register_intro": ("企业或创新创业团队在本平台注册后，由市科技创新公共服务中心审核；审核通过后方可申请创新券。", "An enterprise or a start-up team registers here; the public service center verifies it before it may apply for vouchers."),
    "register_signin_first": ("还没有账号的企业或创新创业团队，请先“注册账号”：创建登录账号并同时提交注册信息；已有账号请登录后填写本表。", "No account yet? Create one (注册账号): the login and the registration in one step. Have one? Sign in to fill in this form."),
    "register_submit": ("提交注册", "Register"),
    "registered": ("注册已提交，等待中心审核。", "Registered; awaiting the center's verification."),
    "enterprise_fields": ("企业填写", "For an enterprise"),
    "team_fields": ("创新创业团队填写", "For a start-up team"),
}
