"""``Idempotency-Key``: a creating POST that is safe to retry.

A client that sends ``Idempotency-Key: <key>`` (1–200 printable ASCII
characters) on an operation that supports it gets, for a retry with the same
key and the same request, the answer the first request got — same status,
same body, and the header ``Idempotent-Replayed: true`` — instead of a second
effect (a second order, a second document) or a duplicate error.

- The key row (principal, operation, key, the request's fingerprint, the
  response's status and body, created_at) is written by the use case **in the
  same transaction as the effect** (:func:`remember` inside its unit of work):
  after a crash there is either both or neither.
- Keys are scoped per principal (the token's role, organisation and subject)
  and operation: another caller's equal key is another key.
- The fingerprint is the HMAC-SHA256 (keyed with the PII key) of the request
  as the operation decodes it (its JSON body, canonical, and the path and
  query parameters that matter; an upload's file by its sha256), so a
  re-encoded retry (another multipart boundary) still matches. The same key
  with another fingerprint is 409 ``request.idempotency_key_reused``; a
  malformed key is 400 ``request.idempotency_key_invalid``.
- Concurrent duplicates: the table's primary key lets one commit; the others
  fail (a unique violation, or the operation's own duplicate error) and then
  answer the stored response.
- Only successful answers are stored: a refusal changed nothing, so its retry
  is simply tried again.
- Keys are kept ``XCISS_IDEMPOTENCY_RETENTION_H`` hours (24); an older key is
  no longer replayed and may be used again. The worker's periodic task
  :func:`~services.runtime.bus.idempotency_prune.prune_task` deletes expired rows hourly.
- Without the header an operation behaves as it always did.

The table is added to a service's metadata by :func:`services.runtime.db.schema.add_idempotency_table`,
not by ``new_metadata``: only a service with such operations has it (today the
registry; payments keeps its own key in the payment row, vouchers and
evaluation create one object per order or cycle), so the other services need
no migration for an empty table. A service that adopts it adds the table to
its models, a migration, and ``prune_task`` to its worker's periodic tasks.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter
from sqlalchemy import Table, and_, delete, insert, select
from sqlalchemy.exc import IntegrityError

from services.runtime.http.auth import ANONYMOUS, Principal
from services.runtime.bus.idempotency_prune import retention_of
from services.runtime.db.schema import IDEMPOTENCY_MAX_KEY_LENGTH as MAX_KEY_LENGTH
from services.runtime.db.schema import IDEMPOTENCY_TABLE as TABLE
from services.runtime.errors import Conflict, DomainError
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

log = logging.getLogger("xciss.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

T = TypeVar("T")


def invalid_key() -> DomainError:
    return DomainError(
        "request.idempotency_key_invalid",
        f"Idempotency-Key 须为 1–{MAX_KEY_LENGTH} 个可打印的 ASCII 字符",
        f"the Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
        status=400,
    )


def key_reused() -> Conflict:
    return Conflict(
        "request.idempotency_key_reused",
        "该幂等键已用于另一个不同的请求",
        "the Idempotency-Key was already used for a different request",
    )


def valid_key(raw: str) -> bool:
    return 1 <= len(raw) <= MAX_KEY_LENGTH and all(" " <= ch <= "~" for ch in raw)


def fingerprint(secret: str, *parts: Any) -> str:
    """HMAC-SHA256 of the request's meaningful parts, decoded and canonical (so a
    re-encoded retry matches); keyed, because a request may hold a personal
    identifier (a team leader's identity number) that a plain hash would not hide."""
    canonical = msgspec.json.encode(msgspec.to_builtins(list(parts)), order="sorted")
    return hmac.new(secret.encode(), canonical, hashlib.sha256).hexdigest()


def principal_key(p: Principal) -> str:
    return f"{p.role}:{p.org or ''}:{p.subject}"


@dataclass(frozen=True)
class Idempotency:
    """A request's key, handed to the use case, which calls :func:`remember`."""

    principal: str
    subject: str
    operation: str
    key: str
    fingerprint: str
    status: int
    retention: timedelta
    #: the use case's result → the response body (what the handler returns)
    render: Callable[[Any], Any]


async def remember(uow: UnitOfWork, idem: Idempotency | None, result: Any) -> None:
    """Store the response of this request with the key, in the unit of work's
    transaction (no-op without a key). A concurrent duplicate that committed
    first makes this insert fail: the handler then replays its response."""
    if idem is None:
        return
    t = uow.metadata.tables[TABLE]
    now = datetime.now(UTC)
    # an expired row of the same key gives way (the periodic prune may not have run yet)
    await uow.session.execute(delete(t).where(_same(t, idem), t.c.created_at < now - idem.retention))
    await uow.session.execute(
        insert(t).values(
            principal=idem.principal,
            operation=idem.operation,
            key=idem.key,
            subject=idem.subject[:200],
            fingerprint=idem.fingerprint,
            status=idem.status,
            body=msgspec.to_builtins(idem.render(result)),
            created_at=now,
        )
    )


def _same(t: Table, idem: Idempotency) -> Any:
    return and_(t.c.principal == idem.principal, t.c.operation == idem.operation, t.c.key == idem.key)


async def _stored(db: ServiceDatabase, idem: Idempotency) -> Response | None:
    """The stored answer to this key (409 if it was for another request), or None."""
    t = db.metadata.tables[TABLE]
    async with db.read() as s:
        row = (await s.execute(select(t.c.fingerprint, t.c.status, t.c.body, t.c.created_at).where(_same(t, idem)))).first()
    if row is None or row.created_at < datetime.now(UTC) - idem.retention:
        return None
    if row.fingerprint != idem.fingerprint:
        raise key_reused()
    return Response(content=row.body, status_code=row.status, headers={REPLAYED_HEADER: "true"})


#: the handler parameter that documents the header in OpenAPI (validated by :func:`idempotent`)
IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        description=(
            "makes the request safe to retry: the same key and request again answer the first answer "
            "(Idempotent-Replayed: true); another request with the key is 409 request.idempotency_key_reused; "
            f"1–{MAX_KEY_LENGTH} printable ASCII characters, else 400 request.idempotency_key_invalid; kept 24 h"
        ),
    ),
]


async def idempotent(
    request: Request,
    db: ServiceDatabase,
    settings: Settings,
    key: str | None,
    *,
    operation: str,
    status: int,
    request_parts: tuple[Any, ...],
    render: Callable[[T], Any],
    call: Callable[[Idempotency | None], Awaitable[T]],
) -> Any:
    """Run a creating operation under the request's ``Idempotency-Key``, if any:
    replay a stored answer, or run ``call(idem)`` (whose use case stores its
    answer with :func:`remember`) and return ``render(result)``."""
    if key is None:
        return render(await call(None))
    if not valid_key(key):
        raise invalid_key()
    p: Principal = request.scope.get("user") or ANONYMOUS
    idem = Idempotency(
        principal=principal_key(p),
        subject=p.subject,
        operation=operation,
        key=key,
        fingerprint=fingerprint(settings.pii_key(), operation, *request_parts),
        status=status,
        retention=retention_of(settings),
        render=render,
    )
    stored = await _stored(db, idem)
    if stored is not None:
        return stored
    try:
        result = await call(idem)
    except (IntegrityError, Conflict):
        # a concurrent request with this key may have committed first
        stored = await _stored(db, idem)
        if stored is not None:
            log.info("%s %s: a concurrent request with the same key committed first; replaying its answer", db.service, operation)
            return stored
        raise
    return render(result)
