"""The registry service: units, instruments, prices, users, orders."""

from __future__ import annotations

from litestar import Litestar

from services.registry.api.parties import UnitController, UserController
from services.registry.db.models import metadata
from services.runtime import service as runtime
from services.runtime.consumers import Worker
from services.runtime.service_db import ServiceDatabase
from services.runtime.settings import Settings

SPEC = runtime.ServiceSpec(
    name="registry",
    metadata=metadata,
    routes=lambda settings: [UnitController, UserController],
    description="Units, instruments, price lists, users, affiliations and service orders.",
)


def create_app(settings: Settings, db: ServiceDatabase | None = None) -> Litestar:
    return runtime.create_app(SPEC, settings, db)


def create_worker(settings: Settings, db: ServiceDatabase) -> Worker:
    return runtime.create_worker(SPEC, settings, db)
