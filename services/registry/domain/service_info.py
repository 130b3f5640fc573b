"""A unit's published service information (R18 "通过平台发布服务信息，明确服务内容、
收费标准和联系方式"): service content, contact person, phone and address.

Pure: normalises and validates what a unit publishes, and says what is
still missing. The fees are the instruments' price items (M11(4)), not here.

* Phone (联系电话): a mainland mobile number (11 digits, ``1[3-9]`` then 9
  digits, an optional ``+86``/``86`` prefix) or a landline (area code ``0``
  + 2–3 digits, then a 7–8 digit number, an optional extension of 1–6
  digits: ``0374-1234567``, ``0374-1234567-123``). Spaces and hyphens are
  separators; full-width characters are read as ASCII.
* Lengths are bounded (``MAX_LENGTHS``); text is stripped, blank counts as
  not given.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from services.runtime.errors import DomainError

#: the fields R18 asks a unit to publish, in the order they are reported
UNIT_FIELDS = ("service_content", "contact_person", "contact_phone", "address")

MAX_LENGTHS = {"service_content": 2000, "contact_person": 50, "contact_phone": 40, "address": 200}
_MIN_LENGTHS = {"contact_person": 2, "address": 4}

_LABELS = {
    "service_content": ("服务内容", "service content"),
    "contact_person": ("联系人", "contact person"),
    "contact_phone": ("联系电话", "contact phone"),
    "address": ("地址", "address"),
}

_MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")


def _field_error(field: str, zh: str, en: str, code: str = "registry.service_info_invalid") -> DomainError:
    return DomainError(code, zh, en, field=field)


def normalise_phone(raw: str, *, field: str = "contact_phone") -> str:
    """The phone in a canonical form (``13812345678``, ``0374-1234567``,
    ``0374-1234567-123``); 422 ``registry.phone_invalid`` naming ``field``.

    Spaces and hyphens separate the parts of a landline; written without
    separators, area codes beginning 01 or 02 have 3 digits, the others 4."""
    text = unicodedata.normalize("NFKC", raw).strip()
    parts = [p for p in re.split(r"[\s\-]+", re.sub(r"[()（）]", " ", text)) if p]
    digits = "".join(parts)
    if _MOBILE.fullmatch(digits):
        return digits[-11:]
    if parts and all(p.isdigit() for p in parts):
        if len(parts) == 1 and digits.startswith("0"):
            area_len = 3 if digits[1] in "12" else 4
            parts = [digits[:area_len], digits[area_len:]]
        if 2 <= len(parts) <= 3 and re.fullmatch(r"0\d{2,3}", parts[0]) and re.fullmatch(r"\d{7,8}", parts[1]):
            if len(parts) == 2 or re.fullmatch(r"\d{1,6}", parts[2]):
                return "-".join(parts)
    raise _field_error(
        field,
        "联系电话格式不正确：应为 11 位手机号码或“区号-号码”形式的固定电话（如 0374-1234567）",
        "the contact phone must be an 11-digit mainland mobile number or a landline as area code-number (e.g. 0374-1234567)",
        "registry.phone_invalid",
    )


def clean(values: dict[str, Any]) -> dict[str, str | None]:
    """Validate the service-information fields present in ``values`` (others are
    ignored): stripped, bounded, phone normalised; blank becomes None. 422
    naming the field (``details.field``) on the first problem."""
    out: dict[str, str | None] = {}
    for field in UNIT_FIELDS:
        if field not in values:
            continue
        raw = values[field]
        if raw is None or not str(raw).strip():
            out[field] = None
            continue
        text = str(raw).strip()
        zh, en = _LABELS[field]
        if len(text) > MAX_LENGTHS[field]:
            raise _field_error(field, f"{zh}不能超过 {MAX_LENGTHS[field]} 个字符", f"the {en} must be at most {MAX_LENGTHS[field]} characters")
        if len(text) < _MIN_LENGTHS.get(field, 1):
            raise _field_error(field, f"{zh}至少 {_MIN_LENGTHS[field]} 个字符", f"the {en} must be at least {_MIN_LENGTHS[field]} characters")
        out[field] = normalise_phone(text, field=field) if field == "contact_phone" else text
    return out


def missing(row: Any) -> list[str]:
    """The R18 fields a unit has not published yet (in ``UNIT_FIELDS`` order)."""
    return [f for f in UNIT_FIELDS if not (row.get(f) or "").strip()]


def missing_message(fields: list[str]) -> tuple[str, str]:
    zh = "、".join(_LABELS[f][0] for f in fields)
    en = ", ".join(_LABELS[f][1] for f in fields)
    return zh, en
