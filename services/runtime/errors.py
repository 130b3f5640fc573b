"""Errors with a stable machine-readable code and a Chinese and English message.

The HTTP layer renders them as RFC 9457 problem details; domain code raises
them without knowing about HTTP (the status is a hint the HTTP layer reads).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule was broken. ``code`` is stable: clients and tests match on it."""

    status: int = 422

    def __init__(self, code: str, message_zh: str, message_en: str, *, status: int | None = None, **details: Any):
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        if status is not None:
            self.status = status
        self.details = details


class NotFound(DomainError):
    status = 404

    def __init__(self, what: str, what_zh: str, ident: str):
        # the words say what is missing; which one is in details.id (a reader is never shown an id)
        super().__init__(f"{what}.not_found", f"{what_zh}不存在", f"the {what.replace('_', ' ')} does not exist", id=ident)


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403

    def __init__(self, message_zh: str = "无权访问该对象", message_en: str = "you may not access this object"):
        super().__init__("auth.forbidden", message_zh, message_en)
