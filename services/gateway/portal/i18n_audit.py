"""The audit trail's words: the services record each decision as
``<object>.<verb>`` (``account.unlock``, ``application.approve``); the
auditor's page says both halves in words (an action the table does not know
yet is "其他操作", never its code), and the object types likewise."""

from __future__ import annotations

import re

#: the objects of the audit trail (the action's first half and the object type)
OBJECTS: dict[str, tuple[str, str]] = {
    "account": ("账号", "Account"),
    "affiliation": ("关联关系", "Affiliation"),
    "appeal": ("复议", "Appeal"),
    "application": ("申请", "Application"),
    "assignment": ("评审任务", "Assignment"),
    "audit": ("审计日志", "Audit log"),
    "audit_log": ("审计日志", "Audit log"),
    "award": ("奖补", "Award"),
    "award_plan": ("奖励计划", "Award plan"),
    "blacklist": ("诚信黑名单", "Blacklist"),
    "booking": ("机时预约", "Booking"),
    "calendar_feed": ("日历订阅", "Calendar feed"),
    "catalogue": ("仪器目录", "Catalogue"),
    "clawback": ("追回资金", "Clawback"),
    "complaint": ("投诉", "Complaint"),
    "complaint_policy": ("投诉处理规则", "Complaint policy"),
    "cycle": ("评价周期", "Evaluation cycle"),
    "evaluation_application": ("绩效评价申请", "Evaluation application"),
    "evaluation_document": ("评价材料", "Evaluation document"),
    "expert": ("专家", "Expert"),
    "fraud": ("违规行为", "Fraud"),
    "fraud_finding": ("违规认定", "Fraud finding"),
    "import_job": ("台账导入", "Ledger import"),
    "instrument": ("仪器", "Instrument"),
    "notice": ("公示", "Notice"),
    "objection": ("异议", "Objection"),
    "order": ("服务订单", "Order"),
    "payee": ("收款账户", "Payee account"),
    "payee_account": ("收款账户", "Payee account"),
    "payment": ("付款", "Payment"),
    "payment_order": ("付款单", "Payment order"),
    "payout": ("应付款项", "Payout"),
    "price": ("收费标准", "Price"),
    "price_item": ("收费项目", "Price item"),
    "programme": ("创新券年度计划", "Voucher programme"),
    "provincial_award": ("省级奖补", "Provincial award"),
    "rectification": ("整改", "Rectification"),
    "redemption": ("创新券兑现", "Redemption"),
    "redemption.document": ("兑现材料", "Redemption document"),
    "redemption.window": ("兑现申请期", "Claim window"),
    "redemption_claim": ("兑现申请", "Redemption claim"),
    "redemption_document": ("兑现材料", "Redemption document"),
    "redemption_window": ("兑现申请期", "Claim window"),
    "search_synonym": ("检索同义词", "Search synonym"),
    "session": ("登录会话", "Session"),
    "settlement": ("结算", "Settlement"),
    "unit": ("管理单位", "Unit"),
    "usage": ("机时使用", "Usage"),
    "usage_recorder": ("机时记录终端", "Usage recorder"),
    "usage_session": ("机时使用记录", "Usage session"),
    "user": ("用户", "User"),
    "voucher": ("创新券", "Voucher"),
}

#: the verbs (the action's second half)
VERBS: dict[str, tuple[str, str]] = {
    "activate": ("开通", "activated"),
    "add": ("新增", "added"),
    "announce": ("公示", "announced"),
    "apply": ("申请入驻", "applied"),
    "approve": ("通过", "approved"),
    "assign": ("分配", "assigned"),
    "block": ("暂停付款", "blocked"),
    "budget": ("设定预算", "budget set"),
    "cancel": ("取消", "cancelled"),
    "change": ("变更", "changed"),
    "check_in": ("签到上机", "checked in"),
    "check_out": ("下机", "checked out"),
    "claim": ("申请兑现", "claimed"),
    "classes_change": ("变更类别", "classes changed"),
    "close": ("关闭", "closed"),
    "complete": ("完成", "completed"),
    "confirm": ("确认", "confirmed"),
    "contract": ("签订合同", "contracted"),
    "correct": ("更正", "corrected"),
    "create": ("创建", "created"),
    "decide": ("决定", "decided"),
    "decline": ("拒绝", "declined"),
    "deliver": ("交付结果", "results delivered"),
    "disable": ("停用", "disabled"),
    "disqualify": ("取消资格", "disqualified"),
    "document_upload": ("上传文件", "document uploaded"),
    "downtime": ("登记停机", "downtime recorded"),
    "due": ("列入待付", "due"),
    "enable": ("启用", "enabled"),
    "expire": ("过期", "expired"),
    "file": ("提出", "filed"),
    "finalize": ("定稿", "finalised"),
    "find": ("认定", "found"),
    "forward": ("转报", "forwarded"),
    "grade": ("评定等级", "graded"),
    "import": ("导入", "imported"),
    "issue": ("发放", "issued"),
    "list": ("上线", "listed"),
    "lock": ("锁定", "locked"),
    "login": ("登录", "signed in"),
    "login_failed": ("登录失败", "sign-in failed"),
    "logout": ("退出登录", "signed out"),
    "no_show": ("登记爽约", "no-show"),
    "open": ("开放", "opened"),
    "paid": ("已付款", "paid"),
    "password_change": ("修改密码", "password changed"),
    "password_change_failed": ("修改密码失败", "password change failed"),
    "password_reset": ("重置密码", "password reset"),
    "password_reset_failed": ("重置密码失败", "password reset failed"),
    "password_reset_requested": ("申请重置密码", "password reset requested"),
    "payment": ("付款", "paid"),
    "photo_delete": ("删除照片", "photo deleted"),
    "photo_upload": ("上传照片", "photo uploaded"),
    "policy": ("设定规则", "policy set"),
    "propose": ("提出", "proposed"),
    "prune": ("按保留期清理", "pruned"),
    "publish": ("发布", "published"),
    "quote": ("报价", "quoted"),
    "qualification_grant": ("授予操作资格", "qualification granted"),
    "qualification_revoke": ("撤销操作资格", "qualification revoked"),
    "raise": ("提出", "raised"),
    "rate": ("评价", "rated"),
    "receive": ("收款", "received"),
    "recheck": ("复查", "rechecked"),
    "record": ("登记", "recorded"),
    "recorder_create": ("创建记录终端", "recorder created"),
    "recorder_revoke": ("撤销记录终端", "recorder revoked"),
    "refuse": ("拒绝", "refused"),
    "register": ("登记", "registered"),
    "reinstate": ("恢复", "reinstated"),
    "reject": ("驳回", "rejected"),
    "remove": ("移除", "removed"),
    "reopen": ("重新开放", "reopened"),
    "repay": ("退回", "repaid"),
    "report": ("报告", "reported"),
    "request": ("申请", "requested"),
    "require": ("要求", "required"),
    "resolve": ("处理", "resolved"),
    "resubmit": ("重新提交", "resubmitted"),
    "retire": ("下线", "retired"),
    "return": ("退回", "returned"),
    "review": ("审核", "reviewed"),
    "revoke": ("撤销", "revoked"),
    "rotate": ("更换", "rotated"),
    "schedule": ("设定开放时间", "schedule set"),
    "score": ("评分", "scored"),
    "service_info": ("发布服务信息", "service info published"),
    "set": ("设定", "set"),
    "settle": ("结算", "settled"),
    "settlement": ("结算", "settled"),
    "sign": ("签署", "signed"),
    "signup": ("注册", "signed up"),
    "start": ("开始服务", "started"),
    "submit": ("提交", "submitted"),
    "suspend": ("暂停", "suspended"),
    "synonym_create": ("新增同义词", "synonym added"),
    "synonym_delete": ("删除同义词", "synonym deleted"),
    "unlock": ("解锁", "unlocked"),
    "upload": ("上传", "uploaded"),
    "use": ("使用", "used"),
    "used": ("已使用", "used"),
    "verify": ("审核通过", "verified"),
    "voucher_acceptance_grant": ("准予接收创新券", "voucher acceptance granted"),
    "voucher_acceptance_revoke": ("撤销接收创新券资格", "voucher acceptance revoked"),
}

#: the services' audit trails, in the chooser's order, by the key of their words
SERVICES: tuple[tuple[str, str], ...] = (("registry", "svc_registry"), ("vouchers", "svc_vouchers"), ("evaluation", "svc_evaluation"), ("payments", "svc_payments"))


#: every action the services record, for the action filter (``GET /v1/audit/?action=``)
KNOWN_ACTIONS: tuple[str, ...] = (
    "account.lock", "complaint.file", "instrument.change", "order.quote", "order.settle", "order.settlement",
    "account.activate", "account.create", "account.disable", "account.enable", "account.password_change", "account.password_change_failed",
    "account.password_reset", "account.password_reset_failed", "account.password_reset_requested", "account.signup", "account.unlock",
    "affiliation.record", "affiliation.remove", "appeal.decide", "appeal.file", "application.approve", "application.reject", "application.submit",
    "assignment.create", "assignment.score", "audit.prune", "award.propose", "award_plan.approve", "blacklist.add", "blacklist.remove",
    "booking.cancel", "booking.confirm", "booking.create", "booking.decline", "booking.no_show", "booking.used", "calendar_feed.create",
    "calendar_feed.revoke", "calendar_feed.rotate", "catalogue.synonym_create", "catalogue.synonym_delete", "clawback.record", "clawback.repay",
    "complaint.decide", "complaint.policy", "cycle.open", "evaluation_application.forward", "evaluation_application.grade",
    "evaluation_application.resubmit", "evaluation_application.return", "evaluation_application.submit", "evaluation_document.upload",
    "expert.announce", "expert.register", "fraud.find", "instrument.downtime", "instrument.import", "instrument.list",
    "instrument.photo_delete", "instrument.photo_upload", "instrument.qualification_grant", "instrument.qualification_revoke", "instrument.register", "instrument.retire", "instrument.schedule",
    "notice.finalize", "notice.publish", "objection.raise", "objection.resolve", "order.cancel", "order.contract", "order.deliver",
    "order.document_upload", "order.payment", "order.rate", "order.request", "order.sign", "order.start", "payee.set", "payment.receive",
    "payment_order.create", "payout.block", "payout.cancel", "payout.due", "payout.paid", "price.add", "price.change", "programme.budget",
    "programme.close", "programme.open", "programme.reopen", "provincial_award.record", "rectification.recheck", "rectification.report",
    "rectification.require", "redemption.assign", "redemption.claim", "redemption.document.upload", "redemption.review", "redemption.settle",
    "redemption.window.set", "session.login", "session.login_failed", "session.logout", "settlement.complete", "unit.apply", "unit.approve",
    "unit.disqualify", "unit.reinstate", "unit.reject", "unit.service_info", "unit.suspend", "unit.voucher_acceptance_grant",
    "unit.voucher_acceptance_revoke", "usage.check_in", "usage.check_out", "usage.correct", "usage.record", "usage.recorder_create",
    "usage.recorder_revoke", "user.classes_change", "user.register", "user.reject", "user.verify", "voucher.expire", "voucher.issue",
    "voucher.refuse", "voucher.revoke", "voucher.use",
)
#: the object types the services record, for the object-type filter
OBJECT_TYPES: tuple[str, ...] = (
    "account", "affiliation", "application", "assignment", "audit_log", "award", "award_plan", "blacklist", "booking", "calendar_feed", "clawback",
    "complaint", "complaint_policy", "cycle", "evaluation_application", "evaluation_document", "expert", "fraud_finding", "import_job", "instrument",
    "notice", "objection", "order", "payee_account", "payment_order", "payout", "price_item", "programme", "redemption_claim", "redemption_document",
    "redemption_window", "search_synonym", "session", "settlement", "unit", "usage_recorder", "usage_session", "user", "voucher",
)

#: the reasons the services write themselves (a person's reason is shown as typed), in words;
#: ``{0}`` is the pattern's group
REASONS: tuple[tuple[str, tuple[str, str]], ...] = (
    (r"wrong password \((\d+) in a row\)", ("密码错误（连续第 {0} 次）", "wrong password ({0} in a row)")),
    (r"(\d+) wrong passwords in a row", ("连续 {0} 次密码错误，账号锁定", "{0} wrong passwords in a row: locked")),
    (r"wrong password \(account disabled\)", ("密码错误（账号已停用）", "wrong password (account disabled)")),
    (r"unknown username", ("用户名不存在", "unknown username")),
    (r"account locked", ("账号已锁定", "account locked")),
    (r"account disabled", ("账号已停用", "account disabled")),
    (r"no token signing key", ("本服务没有令牌签名密钥", "no token signing key")),
    (r"wrong current password", ("当前密码错误", "wrong current password")),
    (r"no account that may sign in has this e-mail", ("没有可登录的账号使用该电子邮箱", "no account that may sign in has this e-mail")),
    (r"invalid, used or expired token", ("重置链接无效、已使用或已过期", "invalid, used or expired link")),
    (r"unqualified in (\d+)", ("{0} 年度评价不合格", "unqualified in {0}")),
    (r"window closed with no open objection", ("公示期结束，无未处理的异议", "window closed with no open objection")),
    (r"opened with the evaluation cycle \(R20\(1\)\)", ("随年度评价周期开放（细则第二十条第一款）", "opened with the evaluation cycle (R20(1))")),
    (r"reservation released", ("预留额度已释放", "reservation released")),
    (r"auto_approve", ("符合条件，系统自动核准", "met every condition: approved automatically")),
    (r"expires_at passed", ("已过有效期", "expired")),
    (r"retention: rows before (\S+)", ("按保留期清理 {0} 之前的记录", "retention: entries before {0}")),
    (r"fraud finding against the unit", ("单位被认定存在违规行为", "fraud finding against the unit")),
    (r"fraud finding (\S+)", ("违规认定 {0}", "fraud finding {0}")),
)


def reason_words(reason: object, lang: str) -> str:
    """A reason the services wrote, in words; a person's reason as typed."""
    text = str(reason or "")
    for pattern, pair in REASONS:
        m = re.fullmatch(pattern, text)
        if m:
            return pair[1 if lang == "en" else 0].format(*m.groups())
    return text


def _pick(pair: tuple[str, str] | None, lang: str) -> str | None:
    return None if pair is None else pair[1 if lang == "en" else 0]


def object_words(kind: object, lang: str) -> str:
    return _pick(OBJECTS.get(str(kind or "")), lang) or ("other" if lang == "en" else "其他对象")


def action_words(action: object, lang: str) -> str:
    """``account.unlock`` → "账号：解锁"; an action the tables do not know is "其他操作"."""
    obj, _, verb = str(action or "").rpartition(".")
    thing, did = _pick(OBJECTS.get(obj), lang), _pick(VERBS.get(verb), lang)
    if thing is None or did is None:
        return "Other action" if lang == "en" else "其他操作"
    return f"{thing}: {did}" if lang == "en" else f"{thing}：{did}"
