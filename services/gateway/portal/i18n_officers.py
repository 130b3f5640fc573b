"""The portal's strings of the three officers' pages (三员分立, 等保 2.0): the
accounts of the system and security administrators, the audit administrator's
trail and its chain's verification; the officers' role names; and the words
for the account refusals the registry words for developers."""

from __future__ import annotations

#: the roles the business tables do not name: the officers, partners, the platform itself
ROLE_WORDS: dict[str, tuple[str, str]] = {
    "sysadmin": ("系统管理员", "System administrator"),
    "secadmin": ("安全管理员", "Security administrator"),
    "auditor": ("审计管理员", "Audit administrator"),
    "partner": ("合作机构", "Partner"),
    "service": ("平台内部服务", "Platform service"),
    "operator": ("运维人员（命令行）", "Operator (command line)"),
    "anonymous": ("未登录访客", "Anonymous"),
}

STRINGS: dict[str, tuple[str, str]] = {
    # navigation and pages
    "accounts": ("账号管理", "Accounts"),
    "account_states": ("账号状态管理", "Account states"),
    "audit_trail": ("审计日志", "Audit trail"),
    # the account list
    "role": ("角色", "Role"),
    "display_name": ("姓名 / 显示名称", "Display name"),
    "org": ("所属机构", "Organisation"),
    "org_hint": ("用户、管理单位、主管部门、专家、合作机构的账号须填写；管理单位可从列表中选择", "required for user, unit, department, expert and partner accounts; pick a unit from the list"),
    "account_status": ("账号状态", "State"),
    "account_active": ("正常", "active"),
    "account_locked": ("已锁定", "locked"),
    "account_disabled": ("已停用", "disabled"),
    "locked_until": ("锁定至", "Locked until"),
    "failed_attempts": ("连续密码错误次数", "Wrong passwords in a row"),
    "last_login": ("最近登录", "Last sign-in"),
    "created_by": ("创建人", "Created by"),
    "filter": ("筛选", "Filter"),
    # creating an account (sysadmin)
    "new_account": ("创建业务账号", "Create a business account"),
    "new_account_intro": (
        "系统管理员只能创建业务角色的账号；三员（系统管理员、安全管理员、审计管理员）账号由运维人员在服务器上创建。",
        "The system administrator creates business accounts only; the three officers' accounts are created by the operator on a server.",
    ),
    "initial_password": ("初始密码", "Initial password"),
    "password_policy": (
        "至少 10 个字符，包含大写字母、小写字母、数字、其他符号中的至少三类，且不得包含用户名",
        "at least 10 characters, three of upper-case, lower-case, digits and symbols, not containing the username",
    ),
    "create_account": ("创建账号", "Create the account"),
    "choose": ("请选择", "Choose"),
    # the security administrator's decisions
    "unlock": ("解锁", "Unlock"),
    "disable": ("停用", "Disable"),
    "enable": ("启用", "Enable"),
    "disable_reason": ("停用理由（必填）", "Reason for disabling (required)"),
    "note_optional_officer": ("备注（选填）", "Note (optional)"),
    "confirm_unlock": ("确认解锁该账号", "I confirm unlocking this account"),
    "confirm_enable": ("确认启用该账号", "I confirm enabling this account"),
    "confirm_needed": ("请勾选确认后再提交", "tick the confirmation first"),
    "own_account": ("本人账号", "your own account"),
    # the audit trail
    "service": ("服务", "Service"),
    "svc_registry": ("登记服务（账号、单位、仪器、订单）", "Registry (accounts, units, instruments, orders)"),
    "svc_vouchers": ("创新券服务", "Vouchers"),
    "svc_evaluation": ("绩效评价服务", "Evaluation"),
    "svc_payments": ("兑付服务", "Payments"),
    "chain_check": ("审计链校验", "Audit chain verification"),
    "chain_ok": ("正常", "intact"),
    "chain_ok_detail": ("已校验 {n} 条记录，未发现篡改", "{n} entries checked, no tampering found"),
    "chain_pruned": ("（第 {seq} 条及以前的记录已按保留期清理）", "(entries through {seq} were pruned under the retention period)"),
    "chain_broken": ("发现篡改", "tampered"),
    "chain_broken_detail": ("第 {seq} 条记录{kind}；此前 {n} 条记录校验通过", "entry {seq} {kind}; the {n} entries before it verify"),
    "chain_unknown": ("暂时无法校验", "cannot be verified now"),
    "break_edited": ("内容与其哈希值不符（被修改）", "was edited: its content does not match its hash"),
    "break_deleted": ("缺失（被删除）", "is missing: deleted"),
    "break_inserted": ("是链外插入的记录", "was inserted outside the chain"),
    "break_reordered": ("与前一条记录的链接断开（被移动、插入或重算哈希）", "does not link to the entry before it: moved, inserted or re-hashed"),
    "break_head": ("与链头记录不符", "does not match the chain's head"),
    "actor": ("操作人", "Actor"),
    "actor_role": ("操作人角色", "Actor's role"),
    "action": ("操作", "Action"),
    "object_type": ("对象类型", "Object type"),
    "object_id": ("对象编号", "Object id"),
    "since": ("起始日期", "From"),
    "until": ("截止日期（含）", "To (inclusive)"),
    "at": ("时间", "Time"),
    "seq": ("序号", "Seq"),
    "before": ("操作前", "Before"),
    "after": ("操作后", "After"),
    "field": ("字段", "Field"),
    "changes": ("变更内容", "Changes"),
    "no_changes": ("无记录内容", "nothing recorded"),
    "newest_first": ("按时间倒序（最新在前）", "newest first"),
    "bad_date": ("请按“年-月-日”填写日期", "enter the date as YYYY-MM-DD"),
}

#: the account refusals in the portal's words, by the registry's code (its own words
#: name API fields and role codes)
REFUSALS: dict[str, tuple[str, str]] = {
    "account.org_required": ("该角色的账号须填写所属机构", "an account of this role needs its organisation"),
    "unit.not_found": ("没有这个管理单位，请从列表中选择", "there is no such unit: pick one from the list"),
    "user.not_found": ("没有这个用户（企业或团队），请填写其编号", "there is no such user: enter its id"),
    "username_invalid": ("用户名须为 3–64 个字符：小写字母、数字、点、下划线、连字符", "a username has 3–64 characters: a–z, 0–9, '.', '_', '-'"),
    "password_weak": ("初始密码不符合密码策略：须{rules}", "the password does not meet the policy: {rules}"),
    "too_short": ("至少 10 个字符", "at least 10 characters"),
    "too_long": ("不超过 128 个字符", "at most 128 characters"),
    "too_few_classes": ("包含大写字母、小写字母、数字、其他符号中的至少三类", "three of upper-case, lower-case, digits and symbols"),
    "contains_username": ("不得包含用户名", "not contain the username"),
}
