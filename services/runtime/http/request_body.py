"""Checks of a JSON request body before Litestar decodes it for the handler.

- **Depth**: JSON nested deeper than :data:`MAX_DEPTH` is refused with 400
  ``request.too_deep``. msgspec gives up at Python's recursion limit with a
  ``RecursionError`` (a 500 before this check), and code walking a decoded
  body recursively would fail well before that.
- **Integers, strictly**: Litestar converts a body to the handler's Struct
  leniently (``strict=False``), so ``"5"``, ``2.0`` and ``"1e2"`` became the
  integers 5, 2 and 100 (and ``"true"`` a boolean). The body is decoded strictly first; when only the
  lenient decoding accepts it, it is refused (400 ``request.invalid``) with
  msgspec's message at the field it concerns. A body both refuse is left to
  Litestar's own validation, which says why in its usual words.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType

from services.runtime.errors import DomainError

#: more than any request of the platform needs, far below the recursion limit
MAX_DEPTH = 64

_WITH_BODY = ("POST", "PUT", "PATCH", "DELETE")
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
_AT = re.compile(r" - at `\$\.?(?P<key>[^`]*)`$")


class TooDeep(DomainError):
    status = 400

    def __init__(self) -> None:
        super().__init__(
            "request.too_deep",
            f"请求数据嵌套过深（最多 {MAX_DEPTH} 层）",
            f"the request body is nested too deeply (at most {MAX_DEPTH} levels)",
            max_depth=MAX_DEPTH,
        )


def depth(node: Any) -> int:
    """How deeply arrays and objects nest in a decoded JSON value, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_depth(body: bytes) -> None:
    """400 ``request.too_deep`` for a JSON body nested beyond :data:`MAX_DEPTH`;
    a body that is not JSON at all is left to the handler's own decoding."""
    try:
        decoded = msgspec.json.decode(body)
    except RecursionError:
        raise TooDeep() from None
    except msgspec.DecodeError:
        return
    if depth(decoded) > MAX_DEPTH:
        raise TooDeep()


def _json_data_type(request: Request) -> Any | None:
    """The type the handler's ``data`` is decoded to, when it comes as JSON."""
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    media = getattr(field.kwarg_definition, "media_type", RequestEncodingType.JSON)
    if media != RequestEncodingType.JSON or field.annotation in (bytes, str):
        return None
    return field.annotation


def _field_error(exc: msgspec.ValidationError) -> tuple[str, str]:
    text = str(exc)
    at = _AT.search(text)
    return (at.group("key"), text[: at.start()]) if at else ("", text)


def check_strict(body: bytes, data_type: Any) -> None:
    """400 ``request.invalid`` when the body is the handler's type only when
    decoded leniently (a number as a string, a float for an integer)."""
    try:
        msgspec.json.decode(body, type=data_type, strict=True)
        return
    except msgspec.ValidationError as exc:
        strict_error = exc
    except (msgspec.DecodeError, TypeError):  # not JSON, or a type msgspec cannot decode alone
        return
    try:
        msgspec.json.decode(body, type=data_type, strict=False)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return  # refused either way: Litestar's validation answers
    key, message = _field_error(strict_error)
    raise DomainError(
        "request.invalid",
        f"请求数据类型不符：{key or '请求体'}（数字和真假值须按 JSON 类型书写，不能写成字符串；整数不能带小数）",
        f"{key or 'the body'}: {message} (numbers and booleans are not converted from strings, nor integers from decimals)",
        status=400,
        errors=[{"key": key, "message": message, "source": "body"}],
    )


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


async def _json_body(request: Request) -> bytes | None:
    """The body, when it is (or will be decoded as) JSON: sent as JSON, or for a
    handler whose ``data`` is JSON whatever the content type says. An upload a
    handler streams itself (a document, a ledger) is not read here."""
    if request.method not in _WITH_BODY or request.content_type[0] in _FORMS:
        return None
    if not _is_json(request.content_type[0]) and _json_data_type(request) is None:
        return None
    return await request.body() or None


async def body_nesting(request: Request) -> None:
    """Before anything decodes the body: its depth."""
    if (body := await _json_body(request)) is not None:
        check_depth(body)


async def strict_integers(request: Request) -> None:
    """The body decoded strictly to the handler's type."""
    if (body := await _json_body(request)) is not None and (data_type := _json_data_type(request)) is not None:
        check_strict(body, data_type)
