"""The usage log as evaluation facts (issue 16, 运行使用): the registry's
``UsageRecorded`` and ``UsageCorrected`` keep ``fact_usage_session`` (the
session's latest version, :func:`services.runtime.db.readmodel.upsert_versioned`)
and its minutes per policy year in ``fact_usage_year``
(:func:`services.evaluation.domain.usage_years.minutes_by_year`).

Idempotent (the inbox drops redelivered events; an event whose version is not
newer than the row changes nothing) and order tolerant: a correction that
arrives before the recording it corrects is applied, and the older recording
is then ignored. A correction replaces the session's times, so its minutes
move between years when the new times cross a new year.
"""

from __future__ import annotations

from sqlalchemy import delete, insert

from contracts import registry_usage as ue
from services.evaluation.db.facts_models import fact_usage_session, fact_usage_year
from services.evaluation.domain.usage_years import minutes_by_year
from services.runtime.bus.consumers import Subscription
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.db.readmodel import upsert_versioned


async def on_usage(uow: UnitOfWork, e: ue.UsageSnapshot) -> None:
    s = uow.session
    values = {
        "instrument_id": e.instrument_id,
        "unit_id": e.unit_id,
        "kind": e.kind,
        "order_id": e.order_id,
        "started_at": e.started_at,
        "ended_at": e.ended_at,
        "minutes": e.minutes,
    }
    if not await upsert_versioned(s, fact_usage_session, "session_id", e.session_id, e.version, values):
        return
    await s.execute(delete(fact_usage_year).where(fact_usage_year.c.session_id == e.session_id))
    rows = [
        {"session_id": e.session_id, "year": year, "unit_id": e.unit_id, "instrument_id": e.instrument_id, "kind": e.kind, "minutes": m}
        for year, m in minutes_by_year(e.started_at, e.ended_at, e.minutes).items()
    ]
    await s.execute(insert(fact_usage_year), rows)


def subscriptions() -> list[Subscription]:
    return [Subscription(ue.UsageRecorded, on_usage), Subscription(ue.UsageCorrected, on_usage)]
