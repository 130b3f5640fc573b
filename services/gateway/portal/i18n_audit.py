"""The audit trail's words: the services record each decision as
``<object>.<verb>`` (``account.unlock``, ``application.approve``); the
auditor's page says both halves in words (an action the catalogues do not know
yet is "其他操作", never its code), and the object types likewise. The words are
in the gettext catalogues (msgctxt "audit_object", "audit_verb", "audit_reason");
this module holds which actions and reasons there are."""

from __future__ import annotations

import re

from services.gateway.portal.i18n import words

#: the words of the audit trail's objects (the action's first half and the object type) and of
#: its verbs (the second half): the catalogues' msgctxt "audit_object" and "audit_verb"
OBJECTS = words("audit_object")
VERBS = words("audit_verb")

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

#: the reasons the services write themselves (a person's reason is shown as typed), each with the
#: key of its words (msgctxt "audit_reason", where ``{0}`` is the pattern's group)
REASONS: tuple[tuple[str, str], ...] = (
    (r"wrong password \((\d+) in a row\)", "wrong_password_in_a_row"),
    (r"(\d+) wrong passwords in a row", "wrong_passwords_in_a_row"),
    (r"wrong password \(account disabled\)", "wrong_password_account_disabled"),
    (r"unknown username", "unknown_username"),
    (r"account locked", "account_locked"),
    (r"account disabled", "account_disabled"),
    (r"no token signing key", "no_token_signing_key"),
    (r"wrong current password", "wrong_current_password"),
    (r"no account that may sign in has this e-mail", "no_account_that_may_sign_in_has_this_e_mail"),
    (r"invalid, used or expired token", "invalid_used_or_expired_token"),
    (r"unqualified in (\d+)", "unqualified_in"),
    (r"window closed with no open objection", "window_closed_with_no_open_objection"),
    (r"opened with the evaluation cycle \(R20\(1\)\)", "opened_with_the_evaluation_cycle_r201"),
    (r"reservation released", "reservation_released"),
    (r"auto_approve", "auto_approve"),
    (r"expires_at passed", "expires_at_passed"),
    (r"retention: rows before (\S+)", "retention_rows_before"),
    (r"fraud finding against the unit", "fraud_finding_against_the_unit"),
    (r"fraud finding (\S+)", "fraud_finding"),
)
REASON_WORDS = words("audit_reason")


def reason_words(reason: object, lang: str) -> str:
    """A reason the services wrote, in words; a person's reason as typed."""
    text = str(reason or "")
    for pattern, key in REASONS:
        m = re.fullmatch(pattern, text)
        if m and (said := REASON_WORDS.get(key, lang)) is not None:
            return said.format(*m.groups())
    return text


def object_words(kind: object, lang: str) -> str:
    return OBJECTS.get(str(kind or ""), lang) or ("other" if lang == "en" else "其他对象")


def action_words(action: object, lang: str) -> str:
    """``account.unlock`` → "账号：解锁"; an action the catalogues do not know is "其他操作"."""
    obj, _, verb = str(action or "").rpartition(".")
    thing, did = OBJECTS.get(obj, lang), VERBS.get(verb, lang)
    if thing is None or did is None:
        return "Other action" if lang == "en" else "其他操作"
    return f"{thing}: {did}" if lang == "en" else f"{thing}：{did}"
