"""Evaluation's facts handlers and yearly measures on its own database, no bus: events
applied as the worker applies them, and the measures of a year read back."""

from __future__ import annotations

from typing import Any

from contracts.envelope import Event
from services.evaluation.app import SPEC
from services.evaluation.measures import unit_measures
from services.runtime.db.service_db import ServiceDatabase


async def feed(db: ServiceDatabase, *events: Event) -> None:
    """Apply events as the worker would, each in its own transaction."""
    handlers = {s.event_type: s.handler for s in SPEC.subscriptions()}
    for e in events:
        async with db.unit_of_work() as uow:
            await handlers[type(e)](uow, e)


async def measures(db: ServiceDatabase, year: int, unit_ids: list[str] | None = None) -> dict[str, Any]:
    async with db.read() as s:
        return await unit_measures(s, year, unit_ids)
