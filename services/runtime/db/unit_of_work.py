"""The unit of work: one transaction holding a service's state changes, the
events they cause (outbox rows, published later by ``bus/relay.py``) and the
audit rows of its decisions (chained at commit by ``db/audit_chain.py``).

Never publish from a request handler: ``UnitOfWork.emit`` adds an outbox row
in the same transaction as the change.

In bulk mode (``ServiceDatabase.unit_of_work(bulk=True)``) one transaction
does the work of many requests (vouchers' batched decisions): each request's
share is ``on_behalf_of`` its own actor, correlation id and trace context,
and the outbox rows of all of them are inserted in one statement at commit.
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


#: the width of every ``*_by`` column that holds an actor's label
LABEL_WIDTH = 200


@dataclass(frozen=True)
class Actor:
    """Who made a decision: kept with every audit row."""

    subject: str
    role: str
    org: str | None = None

    @property
    def label(self) -> str:
        """Who, as a record's ``*_by`` column keeps it: ``role:subject``, cut to
        the columns' width."""
        return f"{self.role}:{self.subject}"[:LABEL_WIDTH]


SYSTEM = Actor(subject="system", role="system")


def outbox_row(event: Event, carrier: dict[str, str]) -> dict[str, Any]:
    """The outbox row of one event, as the relay reads it (``bus/relay.py``):
    published with ``Nats-Msg-Id = event_id`` and the trace context ``carrier``."""
    return {
        "event_id": event.event_id,
        "subject": type(event).subject,
        "payload": encode(event),
        "headers": carrier,
        "created_at": datetime.now(UTC),
        "attempts": 0,
    }


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
    #: bulk mode: the outbox rows, inserted in one statement at commit;
    #: None (the default): each ``emit`` inserts its row at once
    outbox_rows: list[dict[str, Any]] | None = None
    #: the trace context stored with the events; None: the current one at each ``emit``
    carrier: dict[str, str] | None = None

    def on_behalf_of(self, actor: Actor, correlation_id: str | None, *, carrier: dict[str, str] | None = None) -> UnitOfWork:
        """Another request's share of this transaction: its actor, correlation
        id and trace context go on its audit rows and events; the session,
        and the rows written at commit, are this unit of work's."""
        return UnitOfWork(
            self.session,
            self.metadata,
            actor=actor,
            correlation_id=correlation_id,
            emitted=self.emitted,
            audit_rows=self.audit_rows,
            outbox_rows=self.outbox_rows,
            carrier=carrier,
        )

    async def emit(self, event: Event) -> Event:
        changes: dict[str, Any] = {}
        if event.correlation_id is None and self.correlation_id:
            changes["correlation_id"] = self.correlation_id
        if event.causation_id is None and self.causation_id:
            changes["causation_id"] = self.causation_id
        if changes:
            event = msgspec.structs.replace(event, **changes)
        row = outbox_row(event, self.carrier if self.carrier is not None else telemetry.current_carrier())
        if self.outbox_rows is None:
            await self.session.execute(insert(self.metadata.tables["outbox"]).values(**row))
        else:
            self.outbox_rows.append(row)
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

    async def flush(self) -> None:
        """Write what waits for COMMIT, just before it: the outbox rows of bulk
        mode, then the audit rows, chained (last, so the chain head is locked
        only briefly)."""
        if self.outbox_rows:
            await self.session.execute(insert(self.metadata.tables["outbox"]), list(self.outbox_rows))
            self.outbox_rows.clear()
        rows = list(self.audit_rows)
        self.audit_rows.clear()
        await audit_chain.append(self.session, self.metadata, rows)
