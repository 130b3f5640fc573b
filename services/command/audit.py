"""``xciss audit verify`` and ``xciss audit prune``: the audit chain
(``services/runtime/db/audit_chain.py``) checked and pruned by the operator."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from services.runtime.db.audit_chain import AuditError, prune, verify
from services.runtime.db.unit_of_work import Actor
from services.runtime.service import create_database, load_spec


def parse_before(text: str) -> datetime:
    """``YYYY-MM-DD`` (00:00 UTC that day) or an ISO 8601 time with a zone."""
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from exc
    if at.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone (add Z or +08:00)")
    return at


async def verify_services(settings: Any, services: Sequence[str], *, out: Callable[[str], None]) -> int:
    """``xciss audit verify``: one line per service; 1 if any chain is broken."""
    status = 0
    for name in services:
        db = create_database(load_spec(name), settings)
        try:
            async with db.read() as s:
                result = await verify(s, db.metadata)
        finally:
            await db.dispose()
        out(result.summary(name))
        if not result.ok:
            status = 1
    return status


async def prune_service(settings: Any, service: str, before: datetime, *, out: Callable[[str], None], err: Callable[[str], None], now: datetime | None = None) -> int:
    """``xciss audit prune``: the prune itself is the next row of the chain."""
    now = now or datetime.now(UTC)
    db = create_database(load_spec(service), settings)
    try:
        async with db.unit_of_work(Actor(subject=f"cli:{getpass.getuser()}", role="operator")) as uow:
            done = await prune(uow.session, db.metadata, before, now=now)
            if done.rows:
                await uow.audit(
                    "audit.prune",
                    "audit_log",
                    service,
                    reason=f"retention: rows before {before.isoformat()}",
                    after={"rows": done.rows, "through_seq": done.through_seq, "anchor_hash": done.anchor_hash, "before": before.isoformat()},
                )
    except AuditError as exc:
        err(f"xciss: {service}: {exc.message_en}")
        return 1
    finally:
        await db.dispose()
    if done.rows:
        out(f"{service}: pruned {done.rows} audit rows through seq {done.through_seq}; anchor {done.anchor_hash}")
    else:
        out(f"{service}: no audit rows before {before.isoformat()}; nothing pruned")
    return 0
