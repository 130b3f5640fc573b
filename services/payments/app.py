"""The payments service: the double-entry ledger (settlements, payouts, clawbacks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts import evaluation as ee
from contracts import registry as ev
from contracts import vouchers as ve
from contracts.commands import USE_VOUCHER
from services.payments import clawbacks, payouts, readmodel
from services.payments.db.models import metadata
from services.runtime import service as runtime
from services.runtime.bus.consumers import Subscription, Worker
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

if TYPE_CHECKING:  # the HTTP stack and the API modules are imported by the process that serves them
    from litestar import Litestar


def routes(settings: Settings) -> list[Any]:
    """The HTTP API's controllers, imported here: a worker or relay process serves none of them."""
    from services.payments.api.clawbacks import ClawbackController
    from services.payments.api.payouts import CONTROLLERS as PAYOUT_CONTROLLERS
    from services.payments.api.settlements import routes as settlement_routes

    return [*settlement_routes(settings), *PAYOUT_CONTROLLERS, ClawbackController]


def subscriptions() -> list[Subscription]:
    return [
        Subscription(ev.OrderResultsDelivered, readmodel.on_results_delivered),
        Subscription(ve.ApplicationSubmitted, readmodel.on_application),
        Subscription(ve.ApplicationApproved, readmodel.on_application),
        Subscription(ve.ApplicationRejected, readmodel.on_application),
        Subscription(ve.AppealFiled, readmodel.on_application),
        Subscription(ve.AppealDecided, readmodel.on_application),
        Subscription(ve.VoucherIssued, readmodel.on_voucher),
        Subscription(ve.VoucherUsed, readmodel.on_voucher),
        Subscription(ve.VoucherExpired, readmodel.on_voucher),
        Subscription(ve.VoucherRevoked, readmodel.on_voucher),
        Subscription(ev.UnitApplied, payouts.on_unit),
        Subscription(ev.UnitApproved, payouts.on_unit),
        Subscription(ev.UnitVoucherAcceptanceGranted, payouts.on_unit),
        Subscription(ve.ProgrammeOpened, payouts.on_programme),
        Subscription(ve.ProgrammeBudgetChanged, payouts.on_programme),
        Subscription(ee.CycleOpened, payouts.on_cycle_opened),
        Subscription(ee.AwardApproved, payouts.on_award_approved),
        Subscription(ee.NoticeFinalized, payouts.on_notice_finalized),
        Subscription(ve.RedemptionClaimed, clawbacks.on_redemption_claimed),
        Subscription(ev.FraudFound, clawbacks.on_fraud_found),
    ]


SPEC = runtime.ServiceSpec(
    name="payments",
    metadata=metadata,
    routes=routes,
    subscriptions=subscriptions,
    asks=(USE_VOUCHER,),
    description="The double-entry ledger: settlements, user payments, unit receivables, payouts and clawbacks.",
)


def create_app(settings: Settings, db: ServiceDatabase | None = None) -> Litestar:
    return runtime.create_app(SPEC, settings, db)


def create_worker(settings: Settings, db: ServiceDatabase) -> Worker:
    return runtime.create_worker(SPEC, settings, db)
