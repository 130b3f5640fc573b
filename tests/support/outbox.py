"""What a service wrote to its outbox, read back in a test: the events of one
type, in the order it wrote them (the order its relay publishes them in)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select

from contracts.envelope import Event, decode
from tests.support.platform import Platform

E = TypeVar("E", bound=Event)


async def emitted(p: Platform, service: str, event_type: type[E]) -> list[E]:
    db = p[service].db
    outbox = db.metadata.tables["outbox"]
    async with db.read() as s:
        rows = (await s.execute(select(outbox.c.payload).where(outbox.c.subject == event_type.subject).order_by(outbox.c.id))).scalars().all()
    return [decode(r, event_type) for r in rows]
