"""The vouchers service: programmes, accounts, applications, vouchers, redemption."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_

from contracts import evaluation as ee
from contracts import payments as pe
from contracts import registry as ev
from contracts.commands import USE_VOUCHER, UseVoucher
from services.runtime import service as runtime
from services.runtime.bus.consumers import Periodic, Subscription, Worker
from services.runtime.bus.commands import Responder
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.vouchers import issued, readmodel, redemption, redemption_experts, redemption_window
from services.vouchers.db.models import metadata, vouchers
from services.vouchers.metrics import budget_remaining
from services.vouchers.policy import load_programme_defaults

if TYPE_CHECKING:  # the HTTP stack and the API modules are imported by the process that serves them
    from litestar import Litestar
    from litestar.di import Provide


async def on_order_cancelled(uow: UnitOfWork, e: ev.OrderCancelled) -> None:
    """A cancelled order's voucher is revoked and its reservation released."""
    await readmodel.on_order(uow, e)
    await issued.revoke_vouchers(uow, vouchers.c.order_id == e.order_id, issued.ORDER_CANCELLED)


async def on_blacklist_added(uow: UnitOfWork, e: ev.BlacklistAdded) -> None:
    """R26, R27: a blacklisted user's or unit's unused vouchers are revoked."""
    await readmodel.on_blacklist_added(uow, e)
    party = {"user": vouchers.c.user_id, "unit": vouchers.c.unit_id}.get(e.party_type)
    if party is not None:
        await issued.revoke_vouchers(uow, party == e.party_id, issued.BLACKLISTED)


async def on_unit_disqualified(uow: UnitOfWork, e: ev.UnitDisqualified) -> None:
    """R27: a disqualified unit's unused vouchers are revoked."""
    await readmodel.on_unit(uow, e)
    await issued.revoke_vouchers(uow, vouchers.c.unit_id == e.unit_id, issued.UNIT_DISQUALIFIED)


async def on_fraud_found(uow: UnitOfWork, e: ev.FraudFound) -> None:
    """R27: the party's unused vouchers the finding concerns are revoked, whatever
    the sanctions (the used ones are payments' clawbacks)."""
    party = {"user": vouchers.c.user_id, "unit": vouchers.c.unit_id}.get(e.party_type)
    if party is None:
        return
    where = party == e.party_id
    if e.years or e.voucher_ids or e.award_ids:  # a scope; empty = all of the party's
        where = and_(where, or_(vouchers.c.id.in_(e.voucher_ids), vouchers.c.year.in_(e.years)))
    await issued.revoke_vouchers(uow, where, issued.FRAUD)


def subscriptions() -> list[Subscription]:
    return [
        Subscription(ev.UserRegistered, readmodel.on_user),
        Subscription(ev.UserVerified, readmodel.on_user),
        Subscription(ev.UserRejected, readmodel.on_user),
        Subscription(ev.UnitApplied, readmodel.on_unit),
        Subscription(ev.UnitApproved, readmodel.on_unit),
        Subscription(ev.UnitRejected, readmodel.on_unit),
        Subscription(ev.UnitVoucherAcceptanceGranted, readmodel.on_unit),
        Subscription(ev.UnitVoucherAcceptanceRevoked, readmodel.on_unit),
        Subscription(ev.UnitSuspended, readmodel.on_unit),
        Subscription(ev.UnitReinstated, readmodel.on_unit),
        Subscription(ev.UnitDisqualified, on_unit_disqualified),
        Subscription(ev.UserClassesChanged, readmodel.on_user),
        Subscription(ev.AffiliationRecorded, readmodel.on_affiliation_recorded),
        Subscription(ev.AffiliationRemoved, readmodel.on_affiliation_removed),
        Subscription(ev.BlacklistAdded, on_blacklist_added),
        Subscription(ev.BlacklistRemoved, readmodel.on_blacklist_removed),
        Subscription(ev.FraudFound, on_fraud_found),
        Subscription(ev.OrderContracted, readmodel.on_order),
        Subscription(ev.OrderCancelled, on_order_cancelled),
        Subscription(ee.ExpertRegistered, redemption_experts.on_expert_registered),
        Subscription(ee.CycleOpened, redemption_window.on_cycle_opened),
        Subscription(ee.NoticeFinalized, redemption.on_notice_finalized),
        Subscription(pe.PayoutPaid, redemption.on_payout_paid),
    ]


def responders() -> list[Responder]:
    return [Responder(USE_VOUCHER, UseVoucher, issued.answer_use_voucher)]


def periodic(settings: Settings) -> list[Periodic]:
    """The worker voids vouchers past their time every ``XCISS_VOUCHER_EXPIRY_INTERVAL_S``."""
    return [Periodic("expire_vouchers", settings.voucher_expiry_interval_s, issued.expire_vouchers)]


def routes(settings: Settings) -> list[Any]:
    """The HTTP API's controllers, imported here: a worker or relay process serves none of them."""
    from services.vouchers.api.applications import ApplicationController
    from services.vouchers.api.eligibility import EligibilityController
    from services.vouchers.api.programmes import AccountController, ProgrammeController
    from services.vouchers.api.redemption import RedemptionController
    from services.vouchers.api.vouchers import VoucherController

    return [EligibilityController, ProgrammeController, AccountController, ApplicationController, VoucherController, RedemptionController]


def _dependencies(settings: Settings) -> dict[str, Provide]:
    from litestar.di import Provide

    defaults = load_programme_defaults(settings)  # the programme numbers by year, read once
    return {"programme_defaults": Provide(lambda: defaults, use_cache=True, sync_to_thread=False)}


SPEC = runtime.ServiceSpec(
    name="vouchers",
    metadata=metadata,
    routes=routes,
    subscriptions=subscriptions,
    responders=responders,
    periodic=periodic,
    metrics_probe=budget_remaining,
    description="Voucher programmes, accounts, applications, reviews, appeals, vouchers and redemption claims.",
    dependencies=_dependencies,
)


def create_app(settings: Settings, db: ServiceDatabase | None = None) -> Litestar:
    return runtime.create_app(SPEC, settings, db)


def create_worker(settings: Settings, db: ServiceDatabase) -> Worker:
    return runtime.create_worker(SPEC, settings, db)
