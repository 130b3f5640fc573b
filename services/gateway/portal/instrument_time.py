"""Instrument time as the portal shows it: the week (Monday to Sunday, Beijing time)
of an instrument's availability, grouped by day, and the form fields of a booking,
a schedule and a usage session turned into the API's times (ISO 8601 with the
``+08:00`` offset). The registry answers UTC; this module only arranges it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from services.gateway.portal.client import ApiError, refused_at
from services.gateway.portal.i18n import words
from services.runtime.clock import POLICY_ZONE

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_WORDS = words("weekday")
#: each day's name as (Chinese, English), from the catalogues (msgctxt "weekday")
WEEKDAY_NAMES = {d: _WEEKDAY_WORDS.pair(d) for d in WEEKDAYS}


def monday_of(asked: str | None, today: date) -> date:
    """The Monday of the week ``?week=YYYY-MM-DD`` names (this week when absent or not a date)."""
    try:
        day = date.fromisoformat(asked) if asked else today
    except ValueError:
        day = today
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date) -> tuple[str, str]:
    """The week as the availability query's ``from`` and ``to`` (Beijing midnight to midnight)."""
    start = datetime.combine(monday, time(0), POLICY_ZONE)
    return start.isoformat(), (start + timedelta(days=7)).isoformat()


def _local(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(POLICY_ZONE)


def _by_day(intervals: list[dict[str, Any]], days: dict[date, dict[str, Any]], key: str) -> None:
    """Each interval into the days it covers (cut at Beijing midnight), as local ``HH:MM``."""
    for item in intervals:
        start, end = _local(item["starts_at"]), _local(item["ends_at"])
        while start < end:
            midnight = datetime.combine(start.date() + timedelta(days=1), time(0), POLICY_ZONE)
            piece_end = min(end, midnight)
            day = days.get(start.date())
            if day is not None:
                day[key].append(
                    {"start": start.strftime("%H:%M"), "end": "24:00" if piece_end == midnight else piece_end.strftime("%H:%M"), "kind": item.get("kind"), "starts_at": start.isoformat()}
                )
            start = piece_end


def week_days(monday: date, availability: dict[str, Any] | None, lang: str) -> list[dict[str, Any]]:
    """Seven days, each with its free and busy pieces in Beijing time, earliest first."""
    days = {monday + timedelta(days=i): {"date": (monday + timedelta(days=i)).isoformat(), "name": WEEKDAY_NAMES[WEEKDAYS[i]][1 if lang == "en" else 0], "free": [], "busy": []} for i in range(7)}
    if availability:
        _by_day(list(availability.get("free") or []), days, "free")
        _by_day(list(availability.get("busy") or []), days, "busy")
    for day in days.values():
        day["free"].sort(key=lambda p: p["start"])
        day["busy"].sort(key=lambda p: p["start"])
    return list(days.values())


def on_grid(pieces: list[dict[str, Any]], slot: int, minimum: int) -> list[dict[str, Any]]:
    """Free pieces as one can book them: the start rounded up to the slot grid (today's piece
    begins now), a piece shorter than the shortest booking dropped."""
    kept = []
    for piece in pieces:
        h, m = (int(x) for x in piece["start"].split(":"))
        start = -(-(h * 60 + m) // slot) * slot if slot > 0 else h * 60 + m
        eh, em = (int(x) for x in piece["end"].split(":"))
        if start + minimum <= eh * 60 + em:
            kept.append(piece | {"start": f"{start // 60:02d}:{start % 60:02d}"})
    return kept


def first_slot(piece: dict[str, Any], minutes: int) -> str:
    """The end (``HH:MM``) of the shortest booking at the start of a free piece."""
    start = datetime.strptime(piece["start"], "%H:%M")
    end = start + timedelta(minutes=minutes)
    limit = "24:00" if piece["end"] == "24:00" else piece["end"]
    text = "24:00" if end.date() > start.date() else end.strftime("%H:%M")
    return min(text, limit)


def _refused(field: str, key: str) -> ApiError:
    return refused_at("portal.time_invalid", key, field)


def on_day(day: str, hm: str, field: str) -> str:
    """A day (``YYYY-MM-DD``) and a Beijing time (``HH:MM``, ``24:00`` the next midnight) as ISO 8601."""
    try:
        d = date.fromisoformat(day.strip())
    except ValueError:
        raise _refused("day", "choose_a_day") from None
    hm = hm.strip()
    try:
        if hm == "24:00":
            return datetime.combine(d + timedelta(days=1), time(0), POLICY_ZONE).isoformat()
        return datetime.combine(d, time.fromisoformat(hm), POLICY_ZONE).isoformat()
    except ValueError:
        raise _refused(field, "time_format") from None


def local_moment(text: str, field: str) -> str | None:
    """A ``datetime-local`` field (Beijing time) as ISO 8601; None when left empty (now)."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _refused(field, "date_time_format") from None
    return moment.replace(tzinfo=POLICY_ZONE).isoformat() if moment.tzinfo is None else moment.isoformat()


def hours_of(text: str, day: str) -> list[list[str]]:
    """``08:30-12:00, 14:00-17:30`` → ``[["08:30","12:00"],["14:00","17:30"]]`` (empty: closed)."""
    spans = []
    for part in text.replace("，", ",").replace("；", ",").replace(";", ",").split(","):
        part = part.strip().replace("–", "-").replace("—", "-").replace("～", "-").replace("~", "-")
        if not part:
            continue
        start, sep, end = part.partition("-")
        if not sep or not start.strip() or not end.strip():
            raise _refused(f"hours_{day}", "hours_format")
        spans.append([start.strip(), end.strip()])
    return spans


def hours_text(spans: list[list[str]] | None) -> str:
    return ", ".join(f"{a}-{b}" for a, b in spans or [])


def whole(text: Any, default: int) -> int | str:
    """A form's number (the API refuses anything else at its field)."""
    text = str(text or "").strip()
    if not text:
        return default
    return int(text) if text.isdigit() else text


def schedule_body(form: dict[str, Any]) -> dict[str, Any]:
    """The schedule form as ``PUT …/schedule`` takes it."""
    weekly = {d: spans for d in WEEKDAYS if (spans := hours_of(str(form.get(f"hours_{d}") or ""), d))}
    return {
        "weekly_hours": weekly,
        "closed_on_holidays": form.get("closed_on_holidays") == "on",
        "open_on_makeup_days": form.get("open_on_makeup_days") == "on",
        "slot_minutes": whole(form.get("slot_minutes"), 30),
        "min_minutes": whole(form.get("min_minutes"), 30),
        "max_minutes": whole(form.get("max_minutes"), 480),
        "book_ahead_days": whole(form.get("book_ahead_days"), 28),
        "book_before_minutes": whole(form.get("book_before_minutes"), 60),
        "cancel_before_hours": whole(form.get("cancel_before_hours"), 24),
        "operated_by": form.get("operated_by") or "staff",
        "approval": form.get("approval") or "required",
    }


def schedule_form(schedule: dict[str, Any] | None) -> dict[str, str]:
    """A stored schedule as the form's text (defaults for an instrument without one)."""
    s = schedule or {"weekly_hours": {d: [["08:30", "12:00"], ["14:00", "17:30"]] for d in WEEKDAYS[:5]}, "closed_on_holidays": True, "open_on_makeup_days": True}
    out = {f"hours_{d}": hours_text((s.get("weekly_hours") or {}).get(d)) for d in WEEKDAYS}
    defaults = {"slot_minutes": 30, "min_minutes": 30, "max_minutes": 480, "book_ahead_days": 28, "book_before_minutes": 60, "cancel_before_hours": 24, "operated_by": "staff", "approval": "required"}
    out |= {k: str(s.get(k, v)) for k, v in defaults.items()}
    out |= {k: "on" if s.get(k, True) else "" for k in ("closed_on_holidays", "open_on_makeup_days")}
    return out
