"""Identifiers of units and users: credit codes and resident identity numbers.

* Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters;
  characters 3–8 are the administrative division code of the registration
  authority. R4 (attachment 2): users are enterprises registered in the city
  (在许昌市登记注册), i.e. that division code lies under the city's prefix (4110 for
  Xuchang; the city file, ``XCISS_CITY_FILE``, services/runtime/city.py).
* A start-up team (创新创业团队, R4) has no credit code and registers through its
  leader's 18-digit resident identity number (居民身份证号码, GB 11643-1999).

Check digits are validated with ``python-stdnum`` (``stdnum.cn.uscc``,
``stdnum.cn.ric``), never by hand.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric, uscc

from services.runtime.errors import DomainError

__all__ = [
    "IdentifierProblem",
    "InvalidCreditCode",
    "InvalidIdentityNumber",
    "division_code",
    "registered_in",
    "validate_credit_code",
    "validate_resident_id",
]

class IdentifierProblem(StrEnum):
    """Why an identifier was rejected (stable values, usable by clients)."""

    length = "length"  # not 18 characters
    format = "format"  # characters not allowed at their position
    checksum = "checksum"  # check character does not match
    component = "component"  # e.g. impossible birth date or unknown birth place


_REASON_ZH = {
    IdentifierProblem.length: "长度应为 18 位",
    IdentifierProblem.format: "含有不允许的字符",
    IdentifierProblem.checksum: "校验码错误",
    IdentifierProblem.component: "出生日期或地址码无效",
}
_REASON_EN = {
    IdentifierProblem.length: "it must be 18 characters long",
    IdentifierProblem.format: "it contains characters not allowed at their position",
    IdentifierProblem.checksum: "the check character is wrong",
    IdentifierProblem.component: "the birth date or address code is invalid",
}


def _problem(exc: stdnum_exceptions.ValidationError) -> IdentifierProblem:
    # InvalidLength is a subclass of InvalidFormat: test it first.
    if isinstance(exc, stdnum_exceptions.InvalidLength):
        return IdentifierProblem.length
    if isinstance(exc, stdnum_exceptions.InvalidChecksum):
        return IdentifierProblem.checksum
    if isinstance(exc, stdnum_exceptions.InvalidComponent):
        return IdentifierProblem.component
    return IdentifierProblem.format


class InvalidCreditCode(DomainError, ValueError):
    """A unified social credit code failed validation.

    ``code`` is the machine error code; the rejected input is ``value``
    (credit codes are public registration data, so it may be echoed back).
    Like every field error, ``details.field`` names the request field that
    carried the code (``credit_code`` unless told, e.g. ``incubator_credit_code``)
    and ``details.reason`` says why.
    """

    code = "registry.credit_code_invalid"

    def __init__(self, credit_code: str, reason: IdentifierProblem | str, *, field: str = "credit_code") -> None:
        self.value = credit_code
        self.reason = IdentifierProblem(reason)
        self.field = field
        shown = credit_code if len(credit_code) <= 32 else credit_code[:32] + "…"
        self.message_zh = f"统一社会信用代码“{shown}”无效：{_REASON_ZH[self.reason]}。"
        self.message_en = f"Invalid unified social credit code {shown!r}: {_REASON_EN[self.reason]}."
        DomainError.__init__(self, self.code, self.message_zh, self.message_en, field=field, reason=str(self.reason))


class InvalidIdentityNumber(DomainError, ValueError):
    """A resident identity number failed validation.

    The number is personal data: it is deliberately not kept on the exception
    nor put in its messages, so logging the error does not leak it.
    """

    code = "registry.identity_number_invalid"

    def __init__(self, reason: IdentifierProblem | str, *, field: str = "leader_id_number") -> None:
        self.reason = IdentifierProblem(reason)
        self.field = field
        self.message_zh = f"居民身份证号码无效：{_REASON_ZH[self.reason]}。"
        self.message_en = f"Invalid resident identity number: {_REASON_EN[self.reason]}."
        DomainError.__init__(self, self.code, self.message_zh, self.message_en, field=field, reason=str(self.reason))


def _normalise(s: str) -> str:
    """Full-width → ASCII (NFKC), drop all whitespace, upper-case."""
    if not isinstance(s, str):
        raise TypeError(f"expected str, got {type(s).__name__}")
    return "".join(unicodedata.normalize("NFKC", s).split()).upper()


def validate_credit_code(s: str, *, field: str = "credit_code") -> str:
    """Normalise and validate a unified social credit code; return the canonical form.

    Spaces (also full-width ones) and hyphens are removed, full-width
    characters are mapped to ASCII and letters upper-cased; then length, the
    allowed characters and the check character are validated by
    ``stdnum.cn.uscc``. Raises :class:`InvalidCreditCode` naming ``field``.
    """
    normalised = _normalise(s)
    try:
        return uscc.validate(normalised)
    except stdnum_exceptions.ValidationError as exc:
        raise InvalidCreditCode(normalised, _problem(exc), field=field) from None


def division_code(credit_code: str) -> str:
    """The registration authority's administrative division code (characters 3–8).

    The code is validated first (:class:`InvalidCreditCode` if invalid).
    """
    return validate_credit_code(credit_code)[2:8]


def registered_in(credit_code: str, prefix: str) -> bool:
    """Whether the entity is registered in the city whose division codes start with ``prefix``.

    R4: users are enterprises registered in the city. The prefix is the city
    file's (4110 for Xuchang; 2 digits = province, 4 = city, 6 = county).
    """
    valid_prefix = isinstance(prefix, str) and prefix.isascii() and prefix.isdigit() and 1 <= len(prefix) <= 6
    if not valid_prefix:
        raise ValueError(f"prefix must be 1 to 6 ASCII digits, got {prefix!r}")
    return division_code(credit_code).startswith(prefix)


def validate_resident_id(s: str, *, field: str = "leader_id_number") -> str:
    """Normalise and validate an 18-digit PRC resident identity number (R4, start-up team leader).

    Checks length, digits, the check character (``X`` allowed, case-insensitive),
    the birth date and the address code via ``stdnum.cn.ric``. Raises
    :class:`InvalidIdentityNumber`.
    """
    normalised = _normalise(s)
    try:
        return ric.validate(normalised)
    except stdnum_exceptions.ValidationError as exc:
        raise InvalidIdentityNumber(_problem(exc), field=field) from None
