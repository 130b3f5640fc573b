"""``xciss task evaluation announce-experts``: publish every registered expert
again (``evaluation.expert.registered.v1``), for the experts registered before
the event existed, or after a consumer's read model was lost. Consumers keep
the first copy (vouchers' ``expert_view``), so announcing twice is harmless."""

from __future__ import annotations

import getpass

from sqlalchemy import select

from contracts import evaluation as ev
from services.evaluation.db.models import experts
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase


async def announce_experts(db: ServiceDatabase, batch: int = 500) -> int:
    """Emit the event for every expert through the outbox; returns how many."""
    async with db.read() as s:
        rows = list((await s.execute(select(experts.c.id, experts.c.role, experts.c.unit_id, experts.c.ties).order_by(experts.c.id))).mappings())
    actor = Actor(subject=f"cli:{getpass.getuser()}", role="operator")
    for i in range(0, len(rows), batch):
        async with db.unit_of_work(actor) as uow:
            for r in rows[i : i + batch]:
                await uow.emit(ev.ExpertRegistered(expert_id=r["id"], role=r["role"], unit_id=r["unit_id"], ties=sorted(set(r["ties"]))))
            await uow.audit("expert.announce", "expert", "*", reason=f"{len(rows[i : i + batch])} experts published again")
    return len(rows)
