"""The payments service: the double-entry ledger (settlements, payouts, clawbacks)."""

from __future__ import annotations

from litestar import Litestar

from services.payments.db.models import metadata
from services.runtime import service as runtime
from services.runtime.consumers import Worker
from services.runtime.service_db import ServiceDatabase
from services.runtime.settings import Settings

SPEC = runtime.ServiceSpec(
    name="payments",
    metadata=metadata,
    routes=lambda settings: [],
    description="The double-entry ledger: settlements, user payments, unit receivables, payouts and clawbacks.",
)


def create_app(settings: Settings, db: ServiceDatabase | None = None) -> Litestar:
    return runtime.create_app(SPEC, settings, db)


def create_worker(settings: Settings, db: ServiceDatabase) -> Worker:
    return runtime.create_worker(SPEC, settings, db)
