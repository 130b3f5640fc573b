"""Every published event type, by subject: the source of the AsyncAPI document."""

from __future__ import annotations

from contracts import evaluation, payments, registry, registry_usage, vouchers
from contracts.envelope import Event

ALL_EVENTS: tuple[type[Event], ...] = (*registry.EVENTS, *registry_usage.EVENTS, *vouchers.EVENTS, *evaluation.EVENTS, *payments.EVENTS)

BY_SUBJECT: dict[str, type[Event]] = {e.subject: e for e in ALL_EVENTS}


def event_type(subject: str) -> type[Event]:
    return BY_SUBJECT[subject]
