"""The registry service: units, instruments, prices, users, orders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.registry import booking_notices, event_notices, listing_backfill, order_payments, password_reset, scheduled_notices, search_model
from services.registry.db.models import metadata
from services.registry.policy import load_registry_policies
from services.runtime import clock
from services.runtime import service as runtime
from services.runtime.bus.consumers import Subscription, Worker
from services.runtime.documentstore import store_of
from services.runtime.bus.idempotency_prune import prune_task
from services.runtime.metrics import CALENDAR_DAYS_LEFT
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.runtime.workdays import load_calendar

if TYPE_CHECKING:  # the HTTP stack and the API modules are imported by the process that serves them
    from litestar import Litestar
    from litestar.di import Provide


def _dependencies(settings: Settings) -> dict[str, Provide]:
    from litestar.di import Provide

    calendar = load_calendar(settings)  # read once, when the app is created
    # read at every scrape: the alert XcissCalendarYearMissing warns before bookings reach an unknown year
    CALENDAR_DAYS_LEFT.set_function(lambda: calendar.days_left(clock.local_today()))
    policy = load_registry_policies(settings)  # the policy numbers by year, read once
    store = store_of(settings)  # local directory, or S3 when XCISS_DOCUMENT_STORE is set
    return {
        "documents": Provide(lambda: store, use_cache=True, sync_to_thread=False),
        "calendar": Provide(lambda: calendar, use_cache=True, sync_to_thread=False),
        "listing_policy": Provide(lambda: policy.listing, use_cache=True, sync_to_thread=False),
        "acceptance_policy": Provide(lambda: policy.acceptance, use_cache=True, sync_to_thread=False),
        "complaint_policy": Provide(lambda: policy.complaints, use_cache=True, sync_to_thread=False),
    }


def routes(settings: Settings) -> list[Any]:
    """The HTTP API's controllers, imported here: a worker or relay process serves none of them."""
    from services.registry.api.accounts import AccountController, SessionController
    from services.registry.api.bookings import BookingController
    from services.registry.api.calendar_feeds import (
        CalendarController,
        CalendarFeedController,
        NotificationController,
    )
    from services.registry.api.complaints import ComplaintController
    from services.registry.api.imports import ImportController
    from services.registry.api.instruments import ComplianceController, InstrumentController
    from services.registry.api.jwks import jwks
    from services.registry.api.orders import OrderController
    from services.registry.api.parties import UnitController, UserController
    from services.registry.api.photos import PhotoController
    from services.registry.api.prices import PriceController
    from services.registry.api.quote_deviations import QuoteDeviationController
    from services.registry.api.recovery import PasswordResetController, SignupController
    from services.registry.api.schedules import InstrumentTimeController
    from services.registry.api.search import CatalogueController
    from services.registry.api.supervision import (
        AffiliationController,
        BlacklistController,
        FraudFindingController,
    )
    from services.registry.api.synonyms import SynonymController
    from services.registry.api.usage import UsageSessionController
    from services.registry.api.usage_recorders import (
        RecorderPostController,
        UsageRecorderController,
    )

    return [UnitController, UserController, InstrumentController, PhotoController, ComplianceController, ImportController, PriceController, AffiliationController, BlacklistController, FraudFindingController, CatalogueController, SynonymController, OrderController, QuoteDeviationController, ComplaintController, SessionController, AccountController, SignupController, PasswordResetController, UsageSessionController, UsageRecorderController, RecorderPostController, BookingController, InstrumentTimeController, CalendarFeedController, CalendarController, NotificationController, jwks]


def subscriptions() -> list[Subscription]:
    """The registry worker: the catalogue's read model, the payments of orders and
    the notices of other services' decisions (event_notices.py)."""
    return [*search_model.subscriptions(), *order_payments.subscriptions(), *event_notices.subscriptions()]


SPEC = runtime.ServiceSpec(
    name="registry",
    metadata=metadata,
    routes=routes,
    subscriptions=subscriptions,
    tasks=lambda: {"reindex-search": search_model.reindex_all},
    #: expired Idempotency-Keys (services/runtime/http/idempotency.py); mails not yet sent (password_reset.py);
    #: reminders of tomorrow's bookings (booking_notices.py); notices due later, a voucher's expiry (scheduled_notices.py);
    #: listing notices (reminder, overdue) of instruments registered before they existed (listing_backfill.py)
    periodic=lambda settings: [
        prune_task(settings), password_reset.mail_task(settings), booking_notices.reminder_task(settings), scheduled_notices.task(settings), listing_backfill.task(settings),
    ],
    description="Units, instruments, price lists, users, affiliations and service orders.",
    dependencies=_dependencies,
)


def create_app(settings: Settings, db: ServiceDatabase | None = None) -> Litestar:
    return runtime.create_app(SPEC, settings, db)


def create_worker(settings: Settings, db: ServiceDatabase) -> Worker:
    return runtime.create_worker(SPEC, settings, db)
