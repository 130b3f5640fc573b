"""Upheld complaints as evaluation facts (M11(6) 接受社会监督): the registry's
``ComplaintUpheld`` becomes a ``fact_complaint`` row, counted per unit and
year in the ``complaints`` measure (the ``share.complaints`` indicator takes
points off per upheld complaint). The year is the one the event states: the
policy year (Asia/Shanghai) the complaint was filed in. Idempotent: one row
per complaint, whatever the redeliveries."""

from __future__ import annotations

from contracts import registry as ev
from services.evaluation.db.facts_models import fact_complaint
from services.runtime.db.readmodel import insert_if_absent
from services.runtime.bus.consumers import Subscription
from services.runtime.db.unit_of_work import UnitOfWork


async def on_complaint_upheld(uow: UnitOfWork, e: ev.ComplaintUpheld) -> None:
    await insert_if_absent(uow.session, fact_complaint, {"complaint_id": e.complaint_id, "unit_id": e.unit_id, "year": e.year, "upheld_at": e.occurred_at})


def subscriptions() -> list[Subscription]:
    return [Subscription(ev.ComplaintUpheld, on_complaint_upheld)]
