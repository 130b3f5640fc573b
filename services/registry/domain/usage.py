"""The usage log's rules (issue 16): every session of use of an instrument,
with its actual start and end. Pure: no I/O.

A session is ``outside`` (the service of an outside user's order: the order
is required) or ``internal`` (the unit's own researchers: a free-text name of
the researcher or group). It is ``open`` from check-in until check-out;
its length counts in whole minutes (what an order's service hours and the
evaluation's hours are made of).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from enum import StrEnum

from services.runtime.errors import Conflict, DomainError

#: the longest session, unless the settings say otherwise (XCISS_USAGE_MAX_SESSION_H)
DEFAULT_MAX_SESSION = timedelta(hours=24)
RESEARCHER_MAX = 200
REASON_MAX = 2000
RECORDER_NAME_MAX = 100


class UsageKind(StrEnum):
    #: an outside user's order (``order_id`` required)
    outside = "outside"
    #: the unit's own researchers (``researcher`` required)
    internal = "internal"


class UsageSource(StrEnum):
    #: checked in and out (or entered) by the unit's staff
    staff = "staff"
    #: posted by an instrument-side recorder with its own credential
    recorder = "recorder"


#: the order statuses in which service happens (an outside session needs one)
SERVICE_STATUSES = frozenset({"in_service"})


def minutes_between(started_at: datetime, ended_at: datetime) -> int:
    """The session's length in whole minutes (seconds are dropped)."""
    return int((ended_at - started_at).total_seconds() // 60)


def hours_of(minutes: int) -> int:
    """Whole service hours of a number of minutes, rounded half up (what an
    order's integer ``service_hours`` shows; the minutes are kept beside)."""
    return math.floor(minutes / 60 + 0.5)


def check_kind(kind: UsageKind | str, order_id: str | None, researcher: str | None) -> tuple[str | None, str | None]:
    """(order_id, researcher) as stored: an outside session names its order, an internal one its researcher."""
    kind = UsageKind(kind)
    name = (researcher or "").strip() or None
    if kind is UsageKind.outside:
        if not order_id:
            raise DomainError("usage.order_required", "对外服务的机时记录须注明订单", "an outside session names its order (order_id)", field="order_id")
        return order_id, name
    if order_id:
        raise DomainError("usage.order_not_internal", "内部使用的机时记录不能关联订单", "an internal session has no order", field="order_id")
    if name is None:
        raise DomainError("usage.researcher_required", "内部使用须注明使用人或课题组", "an internal session names its researcher or group", field="researcher")
    if len(name) > RESEARCHER_MAX:
        raise DomainError("usage.researcher_too_long", f"使用人或课题组名称不能超过 {RESEARCHER_MAX} 个字", f"the researcher's name is at most {RESEARCHER_MAX} characters", field="researcher")
    return None, name


def check_start(started_at: datetime, now: datetime) -> None:
    if started_at > now:
        raise DomainError("usage.in_future", "使用时间不能晚于当前时间", "a session cannot start or end in the future", field="started_at")


def check_span(started_at: datetime, ended_at: datetime, now: datetime, max_session: timedelta) -> int:
    """A finished session's rules; its minutes."""
    check_start(started_at, now)
    if ended_at <= started_at:
        raise DomainError("usage.end_before_start", "结束时间须晚于开始时间", "a session ends after it starts", field="ended_at")
    if ended_at > now:
        raise DomainError("usage.in_future", "使用时间不能晚于当前时间", "a session cannot start or end in the future", field="ended_at")
    if ended_at - started_at > max_session:
        hours = max_session.total_seconds() / 3600
        raise DomainError(
            "usage.too_long",
            f"单次使用不能超过 {hours:g} 小时",
            f"a session is at most {hours:g} hours long",
            field="ended_at",
            max_hours=hours,
        )
    return minutes_between(started_at, ended_at)


def overlap(instrument_id: str, other_id: str) -> DomainError:
    return DomainError(
        "usage.overlap",
        "该仪器在这段时间已有使用记录（时间重叠）",
        "the instrument already has a session in this time (sessions may not overlap)",
        instrument_id=instrument_id,
        session_id=other_id,
    )


def not_open(session_id: str) -> Conflict:
    return Conflict("usage.not_open", "该使用记录未处于使用中，不能结束", "the session is not open; only an open session can be checked out", session_id=session_id)


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise DomainError("usage.reason_required", "修改使用记录须说明理由", "a correction of a session needs a reason", field="reason")
    if len(text) > REASON_MAX:
        raise DomainError("usage.reason_too_long", f"理由不能超过 {REASON_MAX} 个字", f"the reason is at most {REASON_MAX} characters", field="reason")
    return text


def check_recorder_name(name: str | None) -> str:
    text = (name or "").strip()
    if not text or len(text) > RECORDER_NAME_MAX:
        raise DomainError(
            "usage.recorder_name_invalid",
            f"记录器名称须为 1–{RECORDER_NAME_MAX} 个字",
            f"a recorder's name is 1 to {RECORDER_NAME_MAX} characters",
            field="name",
        )
    return text


def not_closed(session_id: str) -> Conflict:
    return Conflict("usage.not_closed", "使用中的记录不能修改，请先结束", "an open session cannot be corrected; check it out first", session_id=session_id)


def service_time(stated_hours: int | None, usage_minutes: int | None, open_sessions: int) -> tuple[int, int]:
    """An order's (service hours, service minutes) at delivery: from its usage
    sessions when it has any (a stated number must agree with them), else the
    stated hours (an order without usage records may still state them)."""
    if open_sessions:
        raise Conflict(
            "order.usage_open",
            "该订单仍有未结束的仪器使用记录，请先结束再交付结果",
            "the order still has an open session of use; check it out before delivering the results",
            open_sessions=open_sessions,
        )
    if usage_minutes is not None:
        hours = hours_of(usage_minutes)
        if stated_hours is not None and stated_hours != hours:
            raise DomainError(
                "order.service_hours_mismatch",
                f"服务机时以仪器使用记录为准（{usage_minutes} 分钟，约 {hours} 小时），与填写的 {stated_hours} 小时不符",
                f"the service hours come from the usage records ({usage_minutes} minutes, {hours} hours), not {stated_hours}",
                field="service_hours",
                service_hours=hours,
                service_minutes=usage_minutes,
            )
        return hours, usage_minutes
    if stated_hours is None:
        raise DomainError(
            "order.service_hours_required",
            "该订单没有仪器使用记录，请填写服务机时",
            "the order has no usage records: state its service hours",
            field="service_hours",
        )
    if isinstance(stated_hours, bool) or not isinstance(stated_hours, int) or stated_hours < 0:
        raise DomainError("order.invalid_service_hours", "服务机时须为非负整数", "service hours are an integer ≥ 0", service_hours=stated_hours)
    return stated_hours, stated_hours * 60
