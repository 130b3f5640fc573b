"""What partner systems may read: the public events.

Partners (the provincial platform, the credit system, statistics) subscribe to
the facts the public may know anyway — which units take part, which
instruments are listed at what price, the blacklist, public notices, awards
and recognitions. Orders, vouchers, settlements, payouts and users' records
stay inside: they carry contracts, money owed by named enterprises, or
personal data (R23, R24, PIPL).
"""

from __future__ import annotations

from contracts import evaluation, registry
from contracts.envelope import Event

PUBLIC_EVENTS: tuple[type[Event], ...] = (
    registry.UnitApproved,
    registry.UnitSuspended,
    registry.UnitReinstated,
    registry.UnitDisqualified,
    registry.UnitVoucherAcceptanceGranted,
    registry.UnitVoucherAcceptanceRevoked,
    registry.InstrumentListed,
    registry.InstrumentChanged,
    registry.InstrumentRetired,
    registry.PricePublished,
    registry.BlacklistAdded,
    registry.BlacklistRemoved,
    evaluation.NoticePublished,
    evaluation.NoticeFinalized,
    evaluation.AwardApproved,
    evaluation.UnitRecognised,
)

PUBLIC_SUBJECTS: tuple[str, ...] = tuple(e.subject for e in PUBLIC_EVENTS)

#: field names that must never appear in a public event
FORBIDDEN_FIELDS = ("id_number", "leader", "phone", "bank", "account", "contact", "password", "user_id")
