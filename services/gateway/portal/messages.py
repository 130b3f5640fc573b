"""The portal's one catalogue of what a user reads when something is refused.

A service's problem (RFC 9457 with a stable ``code``, ``message_zh`` and
``message_en``) is shown by its message in the page's language; what the
services word only for developers (validation errors of ``request.invalid``,
the bare failure codes an application keeps in ``failures``, an HTTP status
with no body) is looked up here, by code. Nothing else reaches the page: no
code, no Python repr, no English on a Chinese page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from services.runtime.clock import POLICY_ZONE

#: the checks of a voucher application (R20–R24), by the code the vouchers service keeps
#: in an application's ``failures``; the service's own words, so a stored list reads as
#: its refusal did
FAILURES: dict[str, tuple[str, str]] = {
    "voucher.user_not_verified": ("用户尚未通过平台审核", "the user has not been verified by the center"),
    "voucher.user_not_in_city": ("用户不是在许昌市登记注册的企业或团队", "the user is not registered in the city"),
    "voucher.user_class_not_eligible": ("用户不属于规上工业企业、高新技术企业、科技型中小企业或创新创业团队", "the user is not of an eligible class"),
    "voucher.user_blacklisted": ("用户在诚信黑名单中", "the user is on the credit blacklist"),
    "voucher.user_unsound_finances": ("用户财务管理制度不健全", "the user's financial management is not sound"),
    "voucher.affiliated": ("用户与服务单位存在隶属、共建或产权关联关系", "the user is affiliated with the unit"),
    "voucher.unit_not_acceptor": ("服务单位未获准接收科技创新券", "the unit is not approved to accept vouchers"),
    "voucher.unit_blacklisted": ("服务单位在诚信黑名单中", "the unit is on the credit blacklist"),
    "voucher.statutory_testing": ("强制性检测、法定检测不在支持范围内", "statutory or mandatory testing is outside the policy"),
    "voucher.testing_fee_not_listed": ("合同未列明检验检测费用", "the contract does not list the testing fee"),
    "voucher.contract_already_used": ("该合同已申请过科技创新券", "this contract has already had a voucher"),
    "voucher.provincial_subsidy": ("该服务已享受省级补贴", "this service already had a provincial subsidy"),
    "voucher.programme_not_open": ("本年度创新券尚未开放或已关闭", "the year's voucher programme is not open"),
    "voucher.budget_exhausted": ("本年度创新券预算已用完，停止申用", "the year's voucher budget is committed: applications have stopped"),
    "voucher.cap_exhausted": ("用户本年度创新券额度已用完", "the user's yearly cap is used up"),
    "voucher.amount_zero": ("可抵扣金额为零", "the voucher amount would be zero"),
}

#: refusals of instrument time (issue 16) in the portal's words; ``{…}`` from the refusal's details
TIME: dict[str, tuple[str, str]] = {
    "booking.in_past": ("所选时段已经过去，请选择之后的空闲时段", "that time has passed: choose a later free period"),
    "booking.too_late": ("预约须至少提前 {limit_minutes} 分钟，请选择更晚的时段", "book at least {limit_minutes} minutes ahead: choose a later period"),
    "booking.too_far_ahead": ("最多只能预约 {limit_days} 天之内的时段", "only the next {limit_days} days can be booked"),
    "booking.too_short": ("预约时长不能少于 {limit_minutes} 分钟，请推后结束时间", "a booking lasts at least {limit_minutes} minutes: end it later"),
    "booking.too_long": ("预约时长不能超过 {limit_minutes} 分钟，请提前结束时间", "a booking lasts at most {limit_minutes} minutes: end it earlier"),
    "booking.off_grid": ("开始和结束时间须按 {limit_minutes} 分钟的时段对齐（如 09:00、09:30）", "start and end on the {limit_minutes}-minute grid (e.g. 09:00, 09:30)"),
    "booking.outside_hours": ("所选时间不在仪器开放时间内（法定节假日不开放），请对照上方空闲时段选择", "that time is outside the opening hours (closed on official holidays)"),
    "booking.over_downtime": ("所选时间仪器停机维护，请选择其他时段", "the instrument is down for maintenance then: choose another period"),
    "booking.overlap": ("所选时间已被他人预约，请选择其他空闲时段", "someone else has booked that time: choose another free period"),
    "booking.not_qualified": ("该仪器由用户自行操作，须经服务单位培训且资格在有效期内才能预约", "this instrument is self-operated: only people the unit has trained may book it"),
    "booking.empty_range": ("结束时间须晚于开始时间", "the end must be after the start"),
    "booking.naive_time": ("请按“时:分”填写时间", "enter the time as HH:MM"),
    "booking.time_out_of_range": ("日期超出可预约范围", "that date cannot be booked"),
    "booking.order_wrong_instrument": ("所选订单不包含这台仪器的服务，请选择该仪器的订单", "the order is not for this instrument"),
    "booking.order_closed": ("所选订单已交付结果、已结算或已取消，不能再预约", "the order is closed to bookings"),
    "booking.no_schedule": ("该仪器尚未公布开放时间，暂不接受预约", "the instrument takes no bookings yet"),
    "booking.cancel_too_late": ("开始前 {limit_hours} 小时内不能再取消预约，请联系服务单位", "too close to the start to cancel ({limit_hours} hours): contact the unit"),
    "booking.already_started": ("预约时间已开始，不能再确认", "the booking has started: it can no longer be confirmed"),
    "booking.not_started": ("预约尚未开始，不能登记爽约", "a no-show can be recorded only after the start"),
    "booking.illegal_transition": ("该预约的状态已变化，请刷新页面", "the booking has changed: reload the page"),
    "booking.concurrent_change": ("该预约刚被他人修改，请刷新页面后重试", "the booking was just changed: reload and retry"),
}

#: a failure code the catalogue does not know yet: said in words, never as the code
UNKNOWN_FAILURE = ("未满足申用条件", "a condition of the policy is not met")

#: a refusal without words of its own, by HTTP status
STATUS: dict[int, tuple[str, str]] = {
    400: ("请求无效，请检查填写的内容", "the request is not valid: check what was entered"),
    401: ("请先登录", "please sign in"),
    403: ("无权进行此操作", "you may not do this"),
    404: ("页面或记录不存在", "the page or record does not exist"),
    409: ("操作与当前状态冲突，请刷新后重试", "this conflicts with the record's current state: reload and retry"),
    412: ("记录已被他人修改，请刷新后重试", "the record was changed by someone else: reload and retry"),
    413: ("文件过大", "the file is too large"),
    415: ("文件类型不受支持", "this file type is not supported"),
    422: ("不符合政策规定的条件", "a condition of the policy is not met"),
    423: ("账号已锁定", "the account is locked"),
    429: ("请求过于频繁，请稍后再试", "too many requests: try again later"),
    500: ("系统内部错误，请稍后重试；问题持续请联系平台运营方", "an internal error: try again later"),
    502: ("服务暂时不可用，请稍后重试", "a service is not reachable: try again later"),
    503: ("服务暂时不可用，请稍后重试", "a service is not reachable: try again later"),
}

#: the portal's own 404 and 500 pages: what happened, in a sentence
PAGES: dict[str, tuple[str, str]] = {
    "not_found": ("您访问的页面或记录不存在，可能地址有误或已被移除。", "The page or record you asked for does not exist: the address may be wrong or it was removed."),
    "failed": ("系统暂时出现故障，请稍后重试；问题持续请联系许昌市科技创新公共服务中心。", "The platform failed to answer: try again later; if it persists, contact the center."),
}

#: a field's validation error (``request.invalid``), by words the services use
FIELD: list[tuple[str, tuple[str, str]]] = [
    ("integer number of fen", ("请填写金额（元，最多两位小数）", "enter an amount in yuan, at most two decimals")),
    ("at most 64 bits", ("数字超出范围", "the number is out of range")),
    ("required", ("此项必填", "required")),
    ("missing", ("此项必填", "required")),
    ("expected `int`", ("请填写整数", "enter a whole number")),
    ("integer", ("请填写整数", "enter a whole number")),
    ("float", ("请填写数字", "enter a number")),
    ("number", ("请填写数字", "enter a number")),
    ("length", ("长度不符合要求", "the length is not allowed")),
]
FIELD_DEFAULT = ("此项格式不正确", "this value is not valid")
REQUIRED = ("此项必填", "required")

#: the evaluation's indicator sets, by the version the service names them with
INDICATOR_SETS: dict[str, tuple[str, str]] = {
    "xuchang-2023.1": ("许昌市科研设施与仪器开放共享服务绩效评价指标（2023）", "Xuchang sharing-performance indicators (2023)"),
    "xuchang-2023.2": ("许昌市科研设施与仪器开放共享服务绩效评价指标（2023，运行使用按机时记录）", "Xuchang sharing-performance indicators (2023, use from the usage log)"),
}


def page_text(key: str, lang: str) -> str:
    return _pick(PAGES[key], lang)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def own_words(words: Any, lang: str) -> str | None:
    """The service's own words in ``lang``: a Chinese page never shows the English ones."""
    if isinstance(words, dict):
        text = words.get("message_en" if lang == "en" else "message_zh")
        return str(text) if isinstance(text, str) and text.strip() else None
    return None


def failure_text(failure: Any, lang: str) -> str:
    """One failed check: a dict from a refusal (its own message) or a stored code."""
    own = own_words(failure, lang)
    if own:
        return own
    code = failure.get("code") if isinstance(failure, dict) else failure
    return _pick(FAILURES.get(str(code), UNKNOWN_FAILURE), lang)


def failures_text(failures: Any, lang: str) -> str:
    """An application's failed checks, each in words, joined for a table cell."""
    if not failures:
        return ""
    items = failures if isinstance(failures, (list, tuple)) else [failures]
    texts: list[str] = []
    for f in items:
        text = failure_text(f, lang)
        if text not in texts:
            texts.append(text)
    return ("; " if lang == "en" else "；").join(texts)


def time_words(code: str, details: Any, lang: str) -> str | None:
    """A refusal of instrument time in the catalogue's words (its limits from ``details``)."""
    pair = TIME.get(code)
    if pair is None:
        return None
    try:
        return _pick(pair, lang).format(**(details if isinstance(details, dict) else {}))
    except (KeyError, IndexError, ValueError):
        return None


def problem_text(problem: dict[str, Any], status: int, lang: str) -> str:
    """The message of a refusal: the service's words, the catalogue's for its code, or
    the status's; every further failed check (``details.failures``) after the first."""
    code = str(problem.get("code") or "")
    if code == "request.invalid":  # its words name fields by their API keys: the fields say what is wrong
        return _pick(STATUS[400], lang)
    text = time_words(code, problem.get("details"), lang) or own_words(problem, lang) or (_pick(FAILURES[code], lang) if code in FAILURES else None)
    text = text or _pick(STATUS.get(status, STATUS[500] if status >= 500 else STATUS[400]), lang)
    details = problem.get("details")
    failures = details.get("failures") if isinstance(details, dict) else None
    if isinstance(failures, list):
        others = [f for f in failures if (f.get("code") if isinstance(f, dict) else f) != code]
        more = [t for t in (failure_text(f, lang) for f in others) if t != text]
        if more:
            text += ("; also: " if lang == "en" else "；另外：") + ("; " if lang == "en" else "；").join(dict.fromkeys(more))
    return utc_moments_as_local(text, lang)


#: an ISO moment inside a service's sentence, with the zone it names after it, if any
_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:\d{2})?\s*(?:[（(]UTC[)）])?")


def utc_moments_as_local(text: str, lang: str) -> str:
    """'锁定至 2026-11-27T12:15:00+00:00（UTC）' → '锁定至 2026-11-27 20:15（北京时间）'."""
    mark = "(Beijing time)" if lang == "en" else "（北京时间）"
    return _MOMENT.sub(lambda m: f"{local_time(m.group(1) + 'T' + m.group(2) + (m.group(3) or ''))}{mark}", text)


def field_text(message: Any, key: str, lang: str) -> str:
    """A validation error at one field, in the page's language (the services word them
    in English for developers)."""
    words = str(message or "").lower()
    if key.endswith("_fen") and "fen" not in words and ("`int`" in words or "integer" in words or "number" in words):
        return _pick(FIELD[0][1], lang)
    for fragment, pair in FIELD:
        if fragment in words:
            return _pick(pair, lang)
    return _pick(FIELD_DEFAULT, lang)


#: decision reasons the services set themselves (a person's reason is shown as typed)
REASONS: dict[str, tuple[str, str]] = {
    "auto_approve": ("符合条件，系统自动核准", "met every condition: approved automatically"),
}


def decision_text(reason: Any, failures: Any, lang: str) -> str:
    """An application's decision in words: the reason given, or its failed checks."""
    if reason:
        pair = REASONS.get(str(reason))
        return _pick(pair, lang) if pair else str(reason)
    return failures_text(failures, lang)


def sheet_errors(err: Any, maxima: dict[str, Any], lang: str) -> dict[str, str]:
    """An expert's refused score sheet at its indicators: the evaluation service lists
    ``details.problems`` as ``"<indicator>: <points> is outside 0..<max>"`` or
    ``"<indicator>: missing"``; each is said at its indicator's field, in points."""
    found: dict[str, str] = dict(err.field_errors(lang))
    details = err.problem.get("details")
    for p in (details.get("problems") if isinstance(details, dict) else None) or []:
        key, _, what = str(p).partition(":")
        key, what = key.strip(), what.strip()
        if what == "missing":
            found[key] = _pick(REQUIRED, lang)
        elif "outside" in what:
            top = maxima.get(key)
            if top is None:
                top = int(what.rpartition("..")[2] or 0) if what.rpartition("..")[2].isdigit() else 0
            points = f"{int(top) / 100:.2f}"
            found[key] = f"score must be between 0 and {points}" if lang == "en" else f"分值须在 0 至 {points} 分之间"
    return found


def indicator_set(version: Any, lang: str) -> str:
    pair = INDICATOR_SETS.get(str(version or ""))
    return _pick(pair, lang) if pair else ("—" if not version else str(version))


def local_time(value: Any) -> str:
    """A moment as Beijing time, ``YYYY-MM-DD HH:MM`` (a date stays a date); the services
    answer UTC (an unzoned value is UTC too)."""
    if value in (None, ""):
        return "—"
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value.isoformat()
    else:
        text = str(value).strip()
        if len(text) <= 10:
            return text
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text.replace("T", " ")[:16]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(POLICY_ZONE).strftime("%Y-%m-%d %H:%M")
