"""All of the registry's tables on one ``metadata``: importing this module
imports every table module, so the app (its tables) and the migrations' env
(alembic autogenerate) see the whole schema. Code that uses a table imports
it from the module that defines it."""

from __future__ import annotations

import services.registry.db.account_models  # noqa: F401  (accounts, login sessions)
import services.registry.db.booking_models  # noqa: F401  (schedules, downtime, qualifications, bookings)
import services.registry.db.instrument_models  # noqa: F401  (instruments, price items and changes, ledger imports)
import services.registry.db.notification_models  # noqa: F401  (calendar feeds, notifications)
import services.registry.db.order_models  # noqa: F401  (orders, their items and documents)
import services.registry.db.oversight_models  # noqa: F401  (quote deviations, complaints)
import services.registry.db.party_models  # noqa: F401  (units, users, voucher acceptance)
import services.registry.db.photo_models  # noqa: F401  (an instrument's photos)
import services.registry.db.recovery_models  # noqa: F401  (password resets, mail outbox)
import services.registry.db.search_models  # noqa: F401  (the catalogue's read model, synonyms)
import services.registry.db.supervision_models  # noqa: F401  (affiliations, blacklist, fraud findings)
import services.registry.db.usage_models  # noqa: F401  (usage sessions, corrections, recorders)
from services.registry.db.metadata import metadata

__all__ = ["metadata"]
