"""The vouchers service: programmes, accounts, applications, vouchers, redemption."""

from __future__ import annotations

from litestar import Litestar

from contracts import registry as ev
from contracts.commands import USE_VOUCHER, UseVoucher
from services.runtime import service as runtime
from services.runtime.consumers import Responder, Subscription, Worker
from services.runtime.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.vouchers import issued, readmodel
from services.vouchers.api.applications import ApplicationController
from services.vouchers.api.eligibility import EligibilityController
from services.vouchers.api.programmes import AccountController, ProgrammeController
from services.vouchers.api.vouchers import VoucherController
from services.vouchers.db.models import metadata


def subscriptions() -> list[Subscription]:
    return [
        Subscription(ev.UserRegistered, readmodel.on_user),
        Subscription(ev.UserVerified, readmodel.on_user),
        Subscription(ev.UnitApplied, readmodel.on_unit),
        Subscription(ev.UnitApproved, readmodel.on_unit),
        Subscription(ev.UnitRejected, readmodel.on_unit),
        Subscription(ev.UnitVoucherAcceptanceGranted, readmodel.on_unit),
        Subscription(ev.UnitVoucherAcceptanceRevoked, readmodel.on_unit),
        Subscription(ev.UnitSuspended, readmodel.on_unit),
        Subscription(ev.UnitReinstated, readmodel.on_unit),
        Subscription(ev.UnitDisqualified, readmodel.on_unit),
        Subscription(ev.UserClassesChanged, readmodel.on_user),
        Subscription(ev.AffiliationRecorded, readmodel.on_affiliation_recorded),
        Subscription(ev.AffiliationRemoved, readmodel.on_affiliation_removed),
        Subscription(ev.BlacklistAdded, readmodel.on_blacklist_added),
        Subscription(ev.BlacklistRemoved, readmodel.on_blacklist_removed),
        Subscription(ev.OrderContracted, readmodel.on_order),
        Subscription(ev.OrderCancelled, readmodel.on_order),
    ]


def responders() -> list[Responder]:
    return [Responder(USE_VOUCHER, UseVoucher, issued.answer_use_voucher)]


SPEC = runtime.ServiceSpec(
    name="vouchers",
    metadata=metadata,
    routes=lambda settings: [EligibilityController, ProgrammeController, AccountController, ApplicationController, VoucherController],
    subscriptions=subscriptions,
    responders=responders,
    description="Voucher programmes, accounts, applications, reviews, appeals, vouchers and redemption claims.",
)


def create_app(settings: Settings, db: ServiceDatabase | None = None) -> Litestar:
    return runtime.create_app(SPEC, settings, db)


def create_worker(settings: Settings, db: ServiceDatabase) -> Worker:
    return runtime.create_worker(SPEC, settings, db)
