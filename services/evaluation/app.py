"""The evaluation service: yearly evaluation of units, notices and awards."""

from __future__ import annotations

from litestar import Litestar

from contracts import registry as ev
from services.evaluation import facts, readmodel
from services.evaluation.api.units import UnitController
from services.evaluation.db.models import metadata
from services.runtime import service as runtime
from services.runtime.consumers import Subscription, Worker
from services.runtime.service_db import ServiceDatabase
from services.runtime.settings import Settings


def subscriptions() -> list[Subscription]:
    return [
        Subscription(ev.UnitApplied, readmodel.on_unit),
        Subscription(ev.UnitApproved, readmodel.on_unit),
        Subscription(ev.UnitRejected, readmodel.on_unit),
        *facts.subscriptions(),
    ]


SPEC = runtime.ServiceSpec(
    name="evaluation",
    metadata=metadata,
    routes=lambda settings: [UnitController, *facts.routes()],
    subscriptions=subscriptions,
    description="Indicator sets, evaluation cycles, expert scoring, grades, public notices and awards.",
)


def create_app(settings: Settings, db: ServiceDatabase | None = None) -> Litestar:
    return runtime.create_app(SPEC, settings, db)


def create_worker(settings: Settings, db: ServiceDatabase) -> Worker:
    return runtime.create_worker(SPEC, settings, db)
