"""The web portal: server-rendered pages in Chinese (English on ``?lang=en``),
plain forms, a session cookie holding the signed-in user's token, a CSRF
token in every form. Every page talks to the services over HTTP only.

The pages by who uses them: ``public`` (anybody), ``session`` (signing in and
out), ``recovery`` (self-service sign-up, the registration's status, password
reset), ``orders`` (orders, vouchers, registration), ``unit`` (a unit's own
pages), ``staff`` (bureau, center, finance, departments, experts), ``bookings``
(instrument time: the week, bookings, a unit's schedule), ``notifications``
(the notices of bookings, one booking's page), ``complaints`` (filing, reading and
deciding complaints), ``complaint_policy`` (the bureau's handling deadline), ``guide`` (the
public 办事指南 and the policy text), ``officers`` and
``audit_trail`` (the accounts and the audit trail of the three officers),
``instrument_photos`` (an instrument's photos: the image, the unit's upload page); ``instrument_edit``
(the unit's form for an instrument's public text); ``evaluation_grades`` (the center's grade, a
notice's finalization, the bureau's opening of the year) and ``evaluation_reports`` (the year's
reports, a department's figures, a unit's use, reviewed redemptions); ``payment_orders`` (a payment order's page,
finance's confirmation that a payout was paid); ``ledger`` (the ledger's accounts, the trial
balance, the budget execution report's Excel); ``instrument_retire`` (an instrument retired, by its unit or the center);
``instrument_register`` (one instrument registered by form); ``instrument_usage`` (an instrument's usage log,
sessions entered and corrected by hand); ``unit_record`` (a unit's record for the staff, the bureau's suspension,
reinstatement and disqualification); ``user_classes`` (the center's change of a user's classes);
``quote_deviations`` (quotes above the published prices); ``programme`` (the year's voucher
programme: its terms, the bureau's opening form); what they
share is in ``core``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from services.gateway.portal import (
    affiliations,
    audit_trail,
    blacklist,
    bookings,
    complaint_policy,
    complaints,
    evaluation_grades,
    evaluation_reports,
    guide,
    instrument_edit,
    instrument_links,
    instrument_photos,
    instrument_register,
    instrument_retire,
    instrument_usage,
    ledger,
    notifications,
    officers,
    orders,
    own_password,
    payment_orders,
    programme,
    public,
    quote_deviations,
    recovery,
    rectification,
    session,
    staff,
    staff_evaluation,
    staff_vouchers,
    supervision,
    synonyms,
    unit,
    unit_record,
    user_classes,
    voucher_acceptance,
    workspace,
)
from services.gateway.portal.core import Kit, Portal, money, yuan_to_fen
from services.gateway.upstreams import Upstreams
from services.runtime.settings import Settings

__all__ = ["create_portal_handlers", "money", "yuan_to_fen"]


def create_portal_handlers(settings: Settings, upstreams: Upstreams, client: Callable[[], httpx.AsyncClient]) -> list[Any]:
    kit = Kit(Portal(settings, upstreams, client))
    return [
        *public.handlers(kit),
        *instrument_photos.handlers(kit),
        *instrument_edit.handlers(kit),
        *instrument_links.handlers(kit),
        *session.handlers(kit),
        *recovery.handlers(kit),
        *orders.handlers(kit),
        *unit.handlers(kit),
        *bookings.handlers(kit),
        *notifications.handlers(kit),
        *staff.handlers(kit),
        *payment_orders.handlers(kit),
        *ledger.handlers(kit),
        *staff_evaluation.handlers(kit),
        *evaluation_grades.handlers(kit),
        *evaluation_reports.handlers(kit),
        *rectification.handlers(kit),
        *staff_vouchers.handlers(kit),
        *programme.handlers(kit),
        *supervision.handlers(kit),
        *blacklist.handlers(kit),
        *affiliations.handlers(kit),
        *voucher_acceptance.handlers(kit),
        *synonyms.handlers(kit),
        *officers.handlers(kit),
        *own_password.handlers(kit),
        *audit_trail.handlers(kit),
        *workspace.handlers(kit),
        *complaint_policy.handlers(kit),
        *complaints.handlers(kit),
        *instrument_retire.handlers(kit),
        *instrument_register.handlers(kit),
        *instrument_usage.handlers(kit),
        *quote_deviations.handlers(kit),
        *unit_record.handlers(kit),
        *user_classes.handlers(kit),
        *guide.handlers(kit),
    ]
