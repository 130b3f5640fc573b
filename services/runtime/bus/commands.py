"""Commands between services: a caller's ``request()`` over core NATS
request/reply, and the ``Responder`` a worker binds to answer it
(``run_command``). A refusal is part of the reply; what the runtime answers
itself (no responder, a timeout, an undecodable request, a failing handler)
is a ``CommandError`` with a stable code."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import msgspec
import nats
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.runtime import telemetry
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.errors import DomainError

log = logging.getLogger("xciss.consumers")

CommandHandler = Callable[[ServiceDatabase, Any], Awaitable[msgspec.Struct]]

#: header that marks a reply as an error answered by the runtime, not the handler
ERROR_HEADER = "Xciss-Error-Code"
CORRELATION_HEADER = "Xciss-Correlation-Id"

_command_correlation: ContextVar[str | None] = ContextVar("xciss_command_correlation", default=None)


def command_correlation_id() -> str | None:
    """The correlation id of the command being answered (for audit rows)."""
    return _command_correlation.get()


@dataclass(frozen=True)
class Responder:
    """Answers one command subject over core NATS request/reply.

    ``handler(db, request)`` opens its own unit of work and returns the reply
    Struct. Responders of a service share the queue group ``<service>``, so
    each request is answered by exactly one worker. A refusal is part of the
    reply; an exception is answered by the runtime with an error reply
    (``internal.error``) so the caller never hangs."""

    subject: str
    request_type: type[msgspec.Struct]
    handler: CommandHandler


class CommandError(DomainError):
    """A command could not be answered: nobody listens, it timed out, or the
    responder failed. The caller must not act as if it had been refused."""

    status = 503


def _error_reply(code: str, message_zh: str, message_en: str) -> bytes:
    return msgspec.json.encode({"ok": False, "code": code, "message_zh": message_zh, "message_en": message_en})


async def request(
    nc: nats.NATS, subject: str, request_struct: msgspec.Struct, reply_type: type[Any], timeout: float, *, correlation_id: str | None = None
) -> Any:
    """Send a command and decode the reply into ``reply_type``.

    Raises :class:`CommandError`: ``command.no_responders`` when no service
    answers the subject, ``command.timeout`` when the answer does not come in
    time, or the responder's error code (``internal.error``, ``request.invalid``)."""
    headers = telemetry.current_carrier()
    if correlation_id:
        headers[CORRELATION_HEADER] = correlation_id
    with telemetry.tracer().start_as_current_span(f"{subject} request", kind=SpanKind.CLIENT) as span:
        span.set_attribute("messaging.system", "nats")
        span.set_attribute("messaging.destination.name", subject)
        headers.update(telemetry.current_carrier())
        try:
            msg = await nc.request(subject, msgspec.json.encode(request_struct), timeout=timeout, headers=headers or None)
        except nats.errors.NoRespondersError as exc:
            span.set_status(Status(StatusCode.ERROR, "no responders"))
            raise CommandError("command.no_responders", "服务暂不可用，请稍后重试", f"nobody answers {subject}; try again later") from exc
        except (nats.errors.TimeoutError, asyncio.TimeoutError) as exc:
            span.set_status(Status(StatusCode.ERROR, "timeout"))
            raise CommandError("command.timeout", "服务响应超时，请稍后重试", f"{subject} was not answered within {timeout}s; try again later") from exc
        code = (msg.headers or {}).get(ERROR_HEADER)
        if code:
            body = msgspec.json.decode(msg.data)
            span.set_status(Status(StatusCode.ERROR, code))
            raise CommandError(code, body.get("message_zh") or "服务处理失败", body.get("message_en") or f"{subject} failed", status=502)
        return msgspec.json.decode(msg.data, type=reply_type)



async def run_command(r: Responder, db: ServiceDatabase, service: str, msg: Any) -> tuple[bytes, dict[str, str] | None]:
    """Decode the request, run the handler and encode its reply. Never raises:
    an undecodable request or a failing handler becomes an error reply, with
    its code in the ``Xciss-Error-Code`` header."""
    headers = dict(msg.headers or {})
    parent = telemetry.context_from(headers)
    token = _command_correlation.set(headers.get(CORRELATION_HEADER))
    error: tuple[str, bytes] | None = None
    reply = b""
    with telemetry.tracer().start_as_current_span(f"{r.subject} process", context=parent, kind=SpanKind.SERVER) as span:
        span.set_attribute("messaging.system", "nats")
        span.set_attribute("messaging.destination.name", r.subject)
        span.set_attribute("messaging.consumer.group.name", service)
        try:
            req = msgspec.json.decode(msg.data, type=r.request_type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            span.set_status(Status(StatusCode.ERROR, "undecodable"))
            error = ("request.invalid", _error_reply("request.invalid", "命令数据不符合要求", f"the command is not valid: {exc}"))
        else:
            try:
                reply = msgspec.json.encode(await r.handler(db, req))
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                log.exception("%s: responder for %s failed", service, r.subject)
                error = ("internal.error", _error_reply("internal.error", "服务内部错误，请稍后重试", "the service failed to answer; try again later"))
        finally:
            _command_correlation.reset(token)
    if error is not None:
        return error[1], {ERROR_HEADER: error[0]}
    return reply, None
