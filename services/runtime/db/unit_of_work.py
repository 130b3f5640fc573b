"""The unit of work: one transaction holding a service's state changes, the
events they cause (outbox rows, published later by ``bus/relay.py``) and the
audit rows of its decisions (chained at commit by ``db/audit_chain.py``).

Never publish from a request handler: ``UnitOfWork.emit`` adds an outbox row
in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import MetaData, insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Event, encode
from services.runtime import telemetry
from services.runtime.db import audit_chain


@dataclass(frozen=True)
class Actor:
    """Who made a decision: kept with every audit row."""

    subject: str
    role: str
    org: str | None = None


SYSTEM = Actor(subject="system", role="system")


@dataclass
class UnitOfWork:
    """One transaction: state changes, the events they cause, the audit rows."""

    session: AsyncSession
    metadata: MetaData
    actor: Actor = SYSTEM
    correlation_id: str | None = None
    causation_id: str | None = None
    emitted: list[Event] = field(default_factory=list)
    #: audit rows of this transaction, chained and written at commit
    audit_rows: list[dict[str, Any]] = field(default_factory=list)

    async def emit(self, event: Event) -> Event:
        changes: dict[str, Any] = {}
        if event.correlation_id is None and self.correlation_id:
            changes["correlation_id"] = self.correlation_id
        if event.causation_id is None and self.causation_id:
            changes["causation_id"] = self.causation_id
        if changes:
            event = msgspec.structs.replace(event, **changes)
        outbox = self.metadata.tables["outbox"]
        await self.session.execute(
            insert(outbox).values(
                event_id=event.event_id,
                subject=type(event).subject,
                payload=encode(event),
                headers=telemetry.current_carrier(),
                created_at=datetime.now(UTC),
                attempts=0,
            )
        )
        self.emitted.append(event)
        return event

    async def audit(
        self,
        action: str,
        object_type: str,
        object_id: str,
        *,
        reason: str | None = None,
        before: Any = None,
        after: Any = None,
    ) -> None:
        """Record a decision; it joins the hash chain when the unit of work commits."""
        self.audit_rows.append(
            {
                "at": datetime.now(UTC),
                "actor": self.actor.subject,
                "actor_role": self.actor.role,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "reason": reason,
                "before": msgspec.to_builtins(before) if before is not None else None,
                "after": msgspec.to_builtins(after) if after is not None else None,
                "correlation_id": self.correlation_id,
            }
        )

    async def flush_audit(self) -> None:
        """Chain and write the audit rows (called just before COMMIT, so the
        chain head is locked only briefly)."""
        rows, self.audit_rows = self.audit_rows, []
        await audit_chain.append(self.session, self.metadata, rows)
