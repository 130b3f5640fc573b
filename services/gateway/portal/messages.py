"""The portal's one catalogue of what a user reads when something is refused.

A service's problem (RFC 9457 with a stable ``code``, ``message_zh`` and
``message_en``) is shown by its message in the page's language; what the
services word only for developers (validation errors of ``request.invalid``,
the bare failure codes an application keeps in ``failures``, an HTTP status
with no body) is looked up here, by code. Nothing else reaches the page: no
code, no Python repr, no English on a Chinese page. The words are in the gettext
catalogues (msgctxt refusal_failure, refusal_time, refusal_status, indicator_set,
decision_reason, and plain keys ``field_…``, ``failure_unknown``, ``error_page_…``);
this module says which applies."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from services.gateway.portal.i18n import translate, words
from services.runtime.clock import POLICY_ZONE

#: the checks of a voucher application (R20–R24), by the code the vouchers service keeps
#: in an application's ``failures``; the service's own words, so a stored list reads as
#: its refusal did (msgctxt "refusal_failure")
FAILURES = words("refusal_failure")

#: refusals of instrument time (issue 16) in the portal's words; ``{…}`` from the refusal's
#: details (msgctxt "refusal_time")
TIME = words("refusal_time")

#: a refusal without words of its own, by HTTP status (msgctxt "refusal_status"); a failure
#: code the catalogue does not know yet is ``failure_unknown``, never the code
STATUS = words("refusal_status")

#: a field's validation error (``request.invalid``): the words the services use, in order, and
#: the key of the portal's words for them (``field_invalid`` when none fits)
FIELD: tuple[tuple[str, str], ...] = (
    ("integer number of fen", "field_amount_yuan"),
    ("at most 64 bits", "field_out_of_range"),
    ("required", "field_required"),
    ("missing", "field_required"),
    ("expected `int`", "field_whole_number"),
    ("integer", "field_whole_number"),
    ("float", "field_number"),
    ("number", "field_number"),
    ("length", "field_length"),
)

#: the evaluation's indicator sets, by the version the service names them with (msgctxt "indicator_set")
INDICATOR_SETS = words("indicator_set")


def page_text(key: str, lang: str) -> str:
    """The portal's own 404 and 500 pages: what happened, in a sentence (``not_found``, ``failed``)."""
    return translate(f"error_page_{key}", lang)


def status_text(status: int, lang: str) -> str:
    """A refusal without words of its own, by its status (a 5xx unknown: 500's; else 400's)."""
    said = STATUS.get(str(status), lang)
    return said if said is not None else str(STATUS.get("500" if status >= 500 else "400", lang))


def own_words(words: Any, lang: str) -> str | None:
    """The service's own words in ``lang``: a Chinese page never shows the English ones."""
    if isinstance(words, dict):
        text = words.get("message_en" if lang == "en" else "message_zh")
        return str(text) if isinstance(text, str) and text.strip() else None
    return None


def failure_words(code: str, lang: str, city: str = "") -> str | None:
    """The catalogue's words for a failed check; R4's name the city (``{city}``: its name
    in the city file, or "本市" / "the city" where the page does not pass it)."""
    said = FAILURES.get(code, lang)
    return said.replace("{city}", city or translate("this_city", lang)) if said else None


def failure_text(failure: Any, lang: str, city: str = "") -> str:
    """One failed check: a dict from a refusal (its own message) or a stored code."""
    own = own_words(failure, lang)
    if own:
        return own
    code = failure.get("code") if isinstance(failure, dict) else failure
    return failure_words(str(code), lang, city) or translate("failure_unknown", lang)


def failures_text(failures: Any, lang: str, city: str = "") -> str:
    """An application's failed checks, each in words, joined for a table cell."""
    if not failures:
        return ""
    items = failures if isinstance(failures, (list, tuple)) else [failures]
    texts: list[str] = []
    for f in items:
        text = failure_text(f, lang, city)
        if text not in texts:
            texts.append(text)
    return ("; " if lang == "en" else "；").join(texts)


def time_words(code: str, details: Any, lang: str) -> str | None:
    """A refusal of instrument time in the catalogue's words (its limits from ``details``)."""
    said = TIME.get(code, lang)
    if said is None:
        return None
    try:
        return said.format(**(details if isinstance(details, dict) else {}))
    except (KeyError, IndexError, ValueError):
        return None


def problem_text(problem: dict[str, Any], status: int, lang: str) -> str:
    """The message of a refusal: the service's words, the catalogue's for its code, or
    the status's; every further failed check (``details.failures``) after the first."""
    code = str(problem.get("code") or "")
    if code == "request.invalid":  # its words name fields by their API keys: the fields say what is wrong
        return status_text(400, lang)
    details = problem.get("details")
    text = time_words(code, details, lang) or without_id(own_words(problem, lang), details) or failure_words(code, lang)
    text = text or status_text(status, lang)
    failures = details.get("failures") if isinstance(details, dict) else None
    if isinstance(failures, list):
        others = [f for f in failures if (f.get("code") if isinstance(f, dict) else f) != code]
        more = [t for t in (failure_text(f, lang) for f in others) if t != text]
        if more:
            text += ("; also: " if lang == "en" else "；另外：") + ("; " if lang == "en" else "；").join(dict.fromkeys(more))
    return utc_moments_as_local(text, lang)


def without_id(text: str | None, details: Any) -> str | None:
    """A service's words without a record's id they name (``details.id``): the services' own
    not-found no longer puts it in its words (runtime/errors.NotFound); this keeps any other
    sentence that still does from showing a reader an id."""
    ident = details.get("id") if isinstance(details, dict) else None
    if not text or not isinstance(ident, str) or not ident or ident not in text:
        return text
    return re.sub(rf"\s*[：:]?\s*{re.escape(ident)}", "", text).strip() or None


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
        return translate("field_amount_yuan", lang)
    for fragment, key in FIELD:
        if fragment in words:
            return translate(key, lang)
    return translate("field_invalid", lang)


#: decision reasons the services set themselves (a person's reason is shown as typed; msgctxt "decision_reason")
REASONS = words("decision_reason")


def decision_text(reason: Any, failures: Any, lang: str, city: str = "") -> str:
    """An application's decision in words: the reason given, or its failed checks
    (``city``: the city's name in ``lang``, for R4's words)."""
    if reason:
        return REASONS.get(str(reason), lang) or str(reason)
    return failures_text(failures, lang, city)


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
            found[key] = translate("field_required", lang)
        elif "outside" in what:
            top = maxima.get(key)
            if top is None:
                top = int(what.rpartition("..")[2] or 0) if what.rpartition("..")[2].isdigit() else 0
            points = f"{int(top) / 100:.2f}"
            found[key] = f"score must be between 0 and {points}" if lang == "en" else f"分值须在 0 至 {points} 分之间"
    return found


def indicator_set(version: Any, lang: str) -> str:
    return INDICATOR_SETS.get(str(version or ""), lang) or ("—" if not version else str(version))


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
