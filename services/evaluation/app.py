"""The evaluation service: yearly evaluation of units, notices and awards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts import registry as ev
from contracts import vouchers as ve
from services.evaluation import complaint_facts, expert_announcements, facts, notice_finalization, readmodel, redemption_notices, sources, usage_facts
from services.evaluation.db.models import metadata
from services.evaluation.policy import load_policy
from services.runtime import service as runtime
from services.runtime.bus.consumers import Periodic, Subscription, Worker
from services.runtime.documentstore import store_of
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

if TYPE_CHECKING:  # the HTTP stack and the API modules are imported by the process that serves them
    from litestar import Litestar
    from litestar.di import Provide


def subscriptions() -> list[Subscription]:
    return [
        Subscription(ev.UnitApplied, readmodel.on_unit),
        Subscription(ev.UnitApproved, readmodel.on_unit),
        Subscription(ev.UnitRejected, readmodel.on_unit),
        Subscription(ev.UnitSuspended, readmodel.on_unit),
        Subscription(ev.UnitReinstated, readmodel.on_unit),
        Subscription(ev.UnitDisqualified, readmodel.on_unit),
        Subscription(ev.BlacklistAdded, readmodel.on_blacklist_added),
        Subscription(ev.BlacklistRemoved, readmodel.on_blacklist_removed),
        Subscription(ve.RedemptionReviewed, redemption_notices.on_redemption_reviewed),
        *facts.subscriptions(),
        *complaint_facts.subscriptions(),
        *usage_facts.subscriptions(),
    ]


def periodic(settings: Settings) -> list[Periodic]:
    """The worker finalizes notices whose window has closed with no open objection
    every ``XCISS_NOTICE_FINALIZE_INTERVAL_S``."""
    return [Periodic("finalize_notices", settings.notice_finalize_interval_s, notice_finalization.finalize_due)]


def _measures_source() -> sources.MeasuresSource:
    return sources.current()


def _dependencies(settings: Settings) -> dict[str, Provide]:
    from litestar.di import Provide

    store = store_of(settings)  # the shared document store: local directory, or S3 when XCISS_DOCUMENT_STORE is set
    return {
        "measures_source": Provide(_measures_source, sync_to_thread=False),
        "documents": Provide(lambda: store, use_cache=True, sync_to_thread=False),
    }


def routes(settings: Settings) -> list[type]:
    """The HTTP API's controllers, imported here: a worker or relay process serves none of them."""
    from services.evaluation.api.award_approval import AwardApprovalController
    from services.evaluation.api.cycle import (
        ApplicationController,
        AssignmentController,
        CycleController,
        ExpertController,
        IndicatorSetController,
    )
    from services.evaluation.api.department import DepartmentReportController
    from services.evaluation.api.evidence import EvidenceController
    from services.evaluation.api.notices import (
        AwardController,
        NoticeController,
        ObjectionController,
        RedemptionController,
    )
    from services.evaluation.api.rectification import RectificationController
    from services.evaluation.api.reports import ReportController
    from services.evaluation.api.units import UnitController
    from services.evaluation.api.use import UseController

    load_policy(settings)  # an invalid policy file stops the service at start, with the reason
    return [
        UnitController,
        UseController,
        DepartmentReportController,
        CycleController,
        IndicatorSetController,
        ApplicationController,
        EvidenceController,
        ExpertController,
        AssignmentController,
        NoticeController,
        ObjectionController,
        AwardController,
        AwardApprovalController,
        RectificationController,
        RedemptionController,
        ReportController,
    ]


SPEC = runtime.ServiceSpec(
    name="evaluation",
    metadata=metadata,
    routes=routes,
    subscriptions=subscriptions,
    periodic=periodic,
    tasks=lambda: {"announce-experts": expert_announcements.announce_experts},
    dependencies=_dependencies,
    description="Indicator sets, evaluation cycles, expert scoring, grades, public notices and awards.",
)


def create_app(settings: Settings, db: ServiceDatabase | None = None) -> Litestar:
    return runtime.create_app(SPEC, settings, db)


def create_worker(settings: Settings, db: ServiceDatabase) -> Worker:
    return runtime.create_worker(SPEC, settings, db)
